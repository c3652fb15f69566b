import pytest
from hypothesis import given
from hypothesis import strategies as st

from skcardio.qc import count_self_crossings, polygon_area


def test_area_hand_computed():
    assert polygon_area([(0, 0), (4, 0), (4, 3), (0, 3)]) == 12.0
    assert polygon_area([(0, 0), (4, 0), (0, 3)]) == 6.0
    assert polygon_area([(0, 0), (1, 1), (2, 2)]) == 0.0  # collinear


def test_area_orientation_free():
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    assert polygon_area(square) == polygon_area(square[::-1]) == 4.0


def test_crossings():
    assert count_self_crossings([(0, 0), (2, 0), (2, 2), (0, 2)]) == 0
    assert count_self_crossings([(0, 0), (2, 2), (2, 0), (0, 2)]) == 1  # bow tie
    # A square with a repeated vertex is still simple.
    assert count_self_crossings([(0, 0), (2, 0), (2, 0), (2, 2), (0, 2)]) == 0
    assert count_self_crossings([(0, 0), (1, 0), (0, 1)]) == 0


@given(st.integers(3, 40), st.floats(1, 100))
def test_regular_polygons_are_simple(n, radius):
    import numpy as np

    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    points = np.c_[radius * np.cos(t), radius * np.sin(t)]
    assert count_self_crossings(points) == 0
    expected = 0.5 * n * radius**2 * np.sin(2 * np.pi / n)
    assert polygon_area(points) == pytest.approx(expected, rel=1e-9)
