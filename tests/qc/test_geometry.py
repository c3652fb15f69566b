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


def _all_pairs(points):
    """The all-pairs count count_self_crossings made before it swept (the reference; n² / 2 pairs in memory)."""
    import numpy as np

    p = np.asarray(points, dtype=float)
    p = p[np.any(p != np.roll(p, 1, axis=0), axis=1)]
    n = len(p)
    if n < 4:
        return 0
    a, b = p, np.roll(p, -1, axis=0)
    i, j = np.triu_indices(n, k=2)
    adjacent = (i == 0) & (j == n - 1)
    i, j = i[~adjacent], j[~adjacent]

    def orient(p, q, r):
        return (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])

    d1, d2 = orient(a[j], b[j], a[i]), orient(a[j], b[j], b[i])
    d3, d4 = orient(a[i], b[i], a[j]), orient(a[i], b[i], b[j])
    return int(np.count_nonzero((d1 * d2 < 0) & (d3 * d4 < 0)))


@pytest.mark.parametrize("chunk", [None, 7])  # the default, and chunks ending inside one edge's pairs
def test_crossings_are_those_of_all_pairs(chunk, monkeypatch):
    import numpy as np

    from skcardio.qc import _geometry

    if chunk:
        monkeypatch.setattr(_geometry, "_PAIRS_PER_CHUNK", chunk)
    rng = np.random.default_rng(0)
    for trial in range(400):
        k = int(rng.integers(3, 60))
        if trial % 4 == 0:  # random: many crossings
            points = rng.uniform(0, 50, (k, 2))
        elif trial % 4 == 1:  # a small integer grid: collinear and touching edges, repeated vertices
            points = rng.integers(0, 6, (k, 2)).astype(float)
        elif trial % 4 == 2:  # the half-pixel grid of contour files
            points = np.round(rng.uniform(0, 20, (k, 2)) * 2) / 2
        else:  # star-shaped outlines
            angles, radii = np.sort(rng.uniform(0, 2 * np.pi, k)), rng.uniform(5, 20, k)
            points = np.c_[radii * np.cos(angles), radii * np.sin(angles)]
        assert count_self_crossings(points) == _all_pairs(points)


def test_crossings_in_bounded_memory():
    """90,000 points (within the contour reader's limit) took 30.2 GiB: qc and evaluate died."""
    import tracemalloc

    import numpy as np

    rng = np.random.default_rng(1)
    tangle = rng.uniform(0, 256, (2000, 2))  # 2 million pairs of edges, most overlapping
    t = np.linspace(0, 2 * np.pi, 90_000, endpoint=False)
    outline = np.c_[128 + 60 * np.cos(t), 128 + 50 * np.sin(t)]
    tracemalloc.start()
    try:
        crossings = count_self_crossings(tangle)
        assert count_self_crossings(outline) == 0
        assert tracemalloc.get_traced_memory()[1] < 40 * 2**20  # all pairs of the tangle: 226 MB
    finally:
        tracemalloc.stop()
    assert crossings > 400_000
    with pytest.raises(ValueError, match=r"^\d+ pairs of overlapping edges to test among 2000 points, more than "
                                         r"max_pairs=1000000$"):
        count_self_crossings(tangle, max_pairs=10**6)
    assert count_self_crossings(outline, max_pairs=10**6) == 0  # a smooth outline pairs few edges
