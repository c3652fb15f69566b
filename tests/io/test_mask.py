import numpy as np
import pytest
from skimage.draw import disk

from skcardio.io import contour_to_mask, mask_to_contour
from skcardio.metrics import dice_score


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


@pytest.mark.parametrize(
    "points, shape, message",
    [
        (np.zeros((3, 3)), (4, 4), r"points must have shape \(n_points, 2\), got \(3, 3\)"),
        (np.zeros((3, 2)), (4,), "shape must be"),
        ([(1, 1), (3, 3)], (5, 5), "at least 3 points, got 2"),  # was a 1-pixel mask
        ([(1, 1), (3, 1), (np.nan, 3)], (5, 5), "finite"),  # was an empty mask
        ([(1, 1), (3, 1), (3, 3)], (10.5, 10), r"positive integer sizes, got \(10\.5, 10\)"),  # was cut to 10
    ],
)
def test_bad_arguments(points, shape, message):
    with pytest.raises(ValueError, match=message):
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


def test_largest_object_by_area_not_by_outline_length():
    # A disk of radius 10 (317 px) and a 1-px line of 124 px: the line's
    # outline has about 250 vertices, the disk's about 80, but the disk is the
    # larger object, so its outline is returned: the round trip gives it back.
    mask = np.zeros((64, 128), bool)
    mask[disk((30, 30), 10)] = True
    only_disk = mask.copy()
    mask[60, 2:126] = True
    points = mask_to_contour(mask)
    np.testing.assert_array_equal(contour_to_mask(points, mask.shape), only_disk)
    np.testing.assert_array_equal(points, mask_to_contour(only_disk))


def test_outer_boundary_even_when_a_hole_has_the_longer_outline():
    # Block rows/cols 5..34 with a comb-shaped hole: the hole's outline has
    # 448 vertices, the outer square's 4 x 30 = 120 (one per boundary pixel
    # edge), on the lines x, y = 4.5 and 34.5. The outer one is returned.
    ring = np.zeros((40, 40), bool)
    ring[5:35, 5:35] = True
    ring[8:32, 8:32] = False
    ring[8:24, 9:32:2] = True  # teeth hanging from the top of the ring
    points = mask_to_contour(ring)
    assert len(points) == 120
    np.testing.assert_array_equal(points.min(axis=0), [4.5, 4.5])
    np.testing.assert_array_equal(points.max(axis=0), [34.5, 34.5])
    filled = np.zeros_like(ring)
    filled[5:35, 5:35] = True
    np.testing.assert_array_equal(contour_to_mask(points, ring.shape), filled)


def test_diagonal_neighbours_are_one_object():
    # Two 3 x 3 blocks touching at a corner are one 8-connected object of
    # 18 px (larger than the 10-px bar elsewhere): one outline around both.
    mask = np.zeros((12, 16), bool)
    mask[2:5, 2:5] = True
    mask[5:8, 5:8] = True
    bar = np.zeros_like(mask)
    bar[10, 2:12] = True
    points = mask_to_contour(mask | bar)
    np.testing.assert_array_equal(contour_to_mask(points, mask.shape), mask)


def test_equal_objects_first_in_row_major_order():
    mask = np.zeros((10, 10), bool)
    mask[6:8, 1:3] = True
    mask[1:3, 6:8] = True  # same area, earlier row: this one
    points = mask_to_contour(mask)
    np.testing.assert_array_equal(points.min(axis=0), [5.5, 0.5])
    np.testing.assert_array_equal(points.max(axis=0), [7.5, 2.5])


def _floor_fill(points, shape):
    """The SegNetCMR export: mark [int(y), int(x)] of every point, fill the outline."""
    from scipy import ndimage

    outline = np.zeros(shape, bool)
    outline[np.floor(points[:, 1]).astype(int), np.floor(points[:, 0]).astype(int)] = True
    return ndimage.binary_fill_holes(outline)


def _half_grid_ellipse(cx, cy, a, b):
    t = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    return np.round(np.c_[cx + a * np.cos(t), cy + b * np.sin(t)] * 2) / 2


@pytest.mark.parametrize("cx, cy, a, b", [(40.2, 38.7, 20, 14), (30.5, 31.0, 6, 8), (50.0, 45.5, 30, 30)])
def test_floor_fill_correction_restores_area_and_centre(cx, cy, a, b):
    from scipy import ndimage

    from skcardio.io import polygon_mask_from_floor_fill

    points = _half_grid_ellipse(cx, cy, a, b)
    reference = contour_to_mask(points, (96, 96))
    exported = _floor_fill(points, (96, 96))
    corrected = polygon_mask_from_floor_fill(exported)
    # The export is larger and sits up-left; the correction is closer in area, position and overlap.
    assert exported.sum() > reference.sum()
    assert abs(int(corrected.sum()) - int(reference.sum())) < (exported.sum() - reference.sum()) / 2
    assert dice_score(corrected, reference) > dice_score(exported, reference)
    before = np.subtract(ndimage.center_of_mass(exported), ndimage.center_of_mass(reference))
    after = np.subtract(ndimage.center_of_mass(corrected), ndimage.center_of_mass(reference))
    assert (before < 0).all()
    assert np.abs(after).max() < np.abs(before).max()


@pytest.mark.shared_data
def test_floor_fill_correction_on_the_shared_contours(shared_data_root):
    """The docstring's figures: 96 i-contours, area 1.037 -> 0.994, centre 0.25 px up-left -> 0.12-0.14 down-right."""
    from scipy import ndimage

    from skcardio.io import polygon_mask_from_floor_fill, read_contour

    ratios, dice_before, dice_after, offsets = [], [], [], []
    for path in sorted(shared_data_root.glob("contourfiles/*/i-contours/*.txt")):
        points = read_contour(path)
        reference = contour_to_mask(points, (256, 256))
        exported = _floor_fill(points, (256, 256))
        corrected = polygon_mask_from_floor_fill(exported)
        ratios.append((exported.sum() / reference.sum(), corrected.sum() / reference.sum()))
        centre = np.array(ndimage.center_of_mass(reference))
        offsets.append((ndimage.center_of_mass(exported) - centre, ndimage.center_of_mass(corrected) - centre))
        dice_before.append(dice_score(exported, reference))
        dice_after.append(dice_score(corrected, reference))
    assert len(ratios) == 96
    before, after = np.mean(ratios, axis=0)
    assert 1.03 < before < 1.045
    assert 0.99 < after < 1.0
    assert np.mean(dice_after) > np.mean(dice_before) + 0.005
    offset_before, offset_after = np.mean(offsets, axis=0)
    assert (np.abs(offset_before + 0.25) < 0.03).all() and (np.abs(offset_after - 0.13) < 0.03).all()


def test_floor_fill_correction_keeps_a_mask_it_would_empty():
    from skcardio.io import polygon_mask_from_floor_fill

    tiny = np.zeros((8, 8), bool)
    tiny[3, 2:6] = True  # one row: its top edge is all there is
    np.testing.assert_array_equal(polygon_mask_from_floor_fill(tiny), tiny)
    square = np.zeros((8, 8), bool)
    square[2:5, 2:5] = True
    assert 0 < polygon_mask_from_floor_fill(square).sum() < square.sum()


def test_floor_fill_correction_stack_empty_full_and_errors():
    from skcardio.io import polygon_mask_from_floor_fill

    exported = _floor_fill(_half_grid_ellipse(20.5, 20, 9, 7), (40, 40))
    stack = np.stack([exported, np.zeros((40, 40), bool), np.ones((40, 40), bool)])
    out = polygon_mask_from_floor_fill(stack.astype(np.uint8))
    assert out.dtype == bool and out.shape == stack.shape
    np.testing.assert_array_equal(out[0], polygon_mask_from_floor_fill(exported))
    assert not out[1].any() and out[2].all()
    assert polygon_mask_from_floor_fill(np.zeros((0, 4, 4), bool)).shape == (0, 4, 4)
    with pytest.raises(ValueError, match=r"masks must be a \(H, W\) slice or an \(n, H, W\) stack of slices; got an array of shape \(4,\)"):
        polygon_mask_from_floor_fill(np.zeros(4, bool))
    with pytest.raises(ValueError, match=r"masks must be a boolean mask .* values such as \[0.5\]"):
        polygon_mask_from_floor_fill(np.full((4, 4), 0.5))
