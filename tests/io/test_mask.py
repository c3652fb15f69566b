import numpy as np
import pytest

from skcardio.io import contour_to_mask, mask_to_contour


def test_integer_square_includes_boundary_centres():
    # Vertices on pixel centres: the boundary centres count as inside.
    mask = contour_to_mask([(1, 1), (3, 1), (3, 3), (1, 3)], (5, 5))
    expected = np.zeros((5, 5), bool)
    expected[1:4, 1:4] = True
    np.testing.assert_array_equal(mask, expected)


def test_half_pixel_square_covers_two_by_two():
    mask = contour_to_mask([(0.5, 0.5), (2.5, 0.5), (2.5, 2.5), (0.5, 2.5)], (4, 4))
    expected = np.zeros((4, 4), bool)
    expected[1:3, 1:3] = True
    np.testing.assert_array_equal(mask, expected)


def test_x_is_column_y_is_row():
    # A wide, short rectangle: x spans columns 0..4, y spans row 1 only.
    mask = contour_to_mask([(0, 0.6), (4, 0.6), (4, 1.4), (0, 1.4)], (3, 6))
    assert mask.sum() == 5
    assert mask[1, :5].all() and not mask[1, 5]


def test_triangle_diagonal_is_inside():
    # Right triangle (0,0), (4,0), (0,4): centres with x + y <= 4 are inside.
    mask = contour_to_mask([(0, 0), (4, 0), (0, 4)], (6, 6))
    rows, cols = np.mgrid[:6, :6]
    np.testing.assert_array_equal(mask, cols + rows <= 4)


def test_polygon_clipped_to_image():
    mask = contour_to_mask([(-5, -5), (2, -5), (2, 2), (-5, 2)], (4, 4))
    expected = np.zeros((4, 4), bool)
    expected[:3, :3] = True
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("points, shape", [(np.zeros((3, 3)), (4, 4)), (np.zeros((3, 2)), (4,))])
def test_bad_arguments(points, shape):
    with pytest.raises(ValueError):
        contour_to_mask(points, shape)


def test_round_trip_disc():
    rows, cols = np.mgrid[:40, :50]
    mask = (rows - 20) ** 2 + (cols - 30) ** 2 <= 9**2
    points = mask_to_contour(mask)
    np.testing.assert_array_equal(contour_to_mask(points, mask.shape), mask)
    # (x, y): x spans the columns around 30, y the rows around 20.
    assert points[:, 0].mean() == pytest.approx(30, abs=0.5)
    assert points[:, 1].mean() == pytest.approx(20, abs=0.5)


def test_round_trip_object_touching_border():
    mask = np.zeros((6, 6), bool)
    mask[0:3, 0:4] = True
    np.testing.assert_array_equal(contour_to_mask(mask_to_contour(mask), mask.shape), mask)


def test_round_trip_real_contour(shared_data_root):
    from skcardio.io import read_contour

    path = shared_data_root / "contourfiles/SC-HF-I-1/i-contours/IM-0001-0048-icontour-manual.txt"
    mask = contour_to_mask(read_contour(path), (256, 256))
    np.testing.assert_array_equal(contour_to_mask(mask_to_contour(mask), mask.shape), mask)


def test_largest_object_and_empty():
    mask = np.zeros((20, 20), bool)
    mask[2:4, 2:4] = True
    mask[8:16, 8:16] = True
    points = mask_to_contour(mask)
    assert points[:, 0].min() >= 7 and points[:, 1].min() >= 7
    assert mask_to_contour(np.zeros((5, 5), bool)).shape == (0, 2)
    with pytest.raises(ValueError, match="2-D"):
        mask_to_contour(np.zeros((2, 2, 2)))
