"""Hausdorff distance, APD and good-contour rate on hand-computed contours.

Contours are the 0.5 iso-lines of the masks: the pixel block rows r0..r1,
cols c0..c1 has straight edges at rows r0 - 0.5 and r1 + 0.5 and cols
c0 - 0.5 and c1 + 0.5, with each corner cut by a short diagonal.
"""

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.draw import disk

from skcardio.io import mask_to_contour
from skcardio.metrics import average_perpendicular_distance, good_contour_rate, hausdorff_distance
from skcardio.metrics._distance import _mask_contours, _perpendicular_distances

# The tests of the exact geometry (the challenge's rules: test_miccai.py).
_geometric_apd = partial(average_perpendicular_distance, definition="geometric")


def _block(shape, rows, cols):
    mask = np.zeros(shape, bool)
    mask[rows, cols] = True
    return mask


def _regular_polygon(radius, n=16):
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([radius * np.sin(angles), radius * np.cos(angles)])


@pytest.mark.parametrize(("auto_radius", "expert_radius"), [(10.0, 6.0), (3.0, 6.0)])
def test_perpendicular_distance_between_concentric_polygons(auto_radius, expert_radius):
    # By symmetry the tangent at a vertex of a regular polygon (next - previous
    # vertex) is perpendicular to its radius, so the normal passes through the
    # centre and meets the other polygon at its vertex at the same angle:
    # every distance is |R - r| exactly.
    distances = _perpendicular_distances(
        [_regular_polygon(auto_radius)], [_regular_polygon(expert_radius)]
    )
    np.testing.assert_allclose(distances, abs(auto_radius - expert_radius))


def test_contour_of_one_pixel_is_a_diamond():
    mask = np.zeros((5, 5), bool)
    mask[2, 3] = True
    (contour,) = _mask_contours(mask)
    assert sorted(map(tuple, contour)) == [(1.5, 3.0), (2.0, 2.5), (2.0, 3.5), (2.5, 3.0)]


def test_apd_hand_computed_single_pixel_inside_square():
    # expert: rows/cols 2..8, edges at 1.5 and 8.5. prediction: pixel (5, 5),
    # a diamond with vertices (4.5, 5), (5, 5.5), (5.5, 5), (5, 4.5).
    # At (4.5, 5) the tangent is horizontal, the normal is the column 5 line,
    # meeting the top edge 3 px away (bottom edge: 4 px); likewise for all four
    # vertices: APD = 3 px.
    y_true = _block((12, 12), slice(2, 9), slice(2, 9))
    y_pred = _block((12, 12), 5, 5)
    assert _geometric_apd(y_true, y_pred) == pytest.approx(3.0)
    assert _geometric_apd(y_true, y_pred, spacing=1.25) == pytest.approx(3.75)
    # spacing (row 1 mm, col 2 mm): vertices (4.5, 10) and (5.5, 10) mm have
    # vertical normals meeting rows 1.5 / 8.5 mm: 3 mm; vertices (5, 9) and
    # (5, 11) mm have horizontal normals meeting cols 3 / 17 mm: 6 mm (the far
    # side is 8 mm). APD = (3 + 6 + 3 + 6) / 4 = 4.5 mm.
    assert _geometric_apd(y_true, y_pred, spacing=(1.0, 2.0)) == pytest.approx(4.5)


def test_apd_hand_computed_normals_missing_the_expert():
    # expert: block rows/cols 2..4, whose outline's bottom-right diagonal joins
    # (4.5, 4) and (4, 4.5) on the line row + col = 8.5. prediction: pixel
    # (10, 10), whose diamond's normals (column 10, row 10) all miss the
    # expert, so each vertex takes its closest distance to the expert outline,
    # the foot of the perpendicular to that line being a diagonal endpoint:
    # (9.5, 10), (10, 9.5) -> 11 / sqrt(2); (10.5, 10), (10, 10.5) -> 12 / sqrt(2).
    # APD = (22 + 24) / sqrt(2) / 4 = 23 / (2 sqrt(2)).
    y_true = _block((14, 14), slice(2, 5), slice(2, 5))
    y_pred = _block((14, 14), 10, 10)
    assert _geometric_apd(y_true, y_pred) == pytest.approx(23 / (2 * np.sqrt(2)))


@pytest.mark.parametrize("spacing", [0.7, 1.367188, (1.2891, 1.2891)])
def test_apd_normal_through_an_expert_vertex_survives_round_off(spacing):
    # expert: pixel (4, 4), a diamond with top vertex (3.5, 4). prediction:
    # pixels (2, 2) and (3, 2); the outline's vertex (3, 2.5) lies between
    # (2, 2.5) and (3.5, 2), so its tangent is (1.5, -0.5) and its normal
    # (0.5, 1.5) runs exactly through the expert vertex (3.5, 4): sqrt(2.5) px.
    # Scaled by a spacing such as 1.367188 mm, round-off put that crossing just
    # outside both expert segments meeting there, and the vertex took its
    # closest distance, sqrt(2) px, instead.
    y_true = _block((10, 10), 4, 4)
    y_pred = _block((10, 10), slice(2, 4), 2)
    scale = np.broadcast_to(np.asarray(spacing, float), (2,))[0]
    auto = mask_to_contour(y_pred)[:, ::-1]
    expert = mask_to_contour(y_true)[:, ::-1]
    vertex = np.flatnonzero((auto == [3.0, 2.5]).all(axis=1))
    assert vertex.size == 1
    in_px = _perpendicular_distances([auto], [expert])
    in_mm = _perpendicular_distances([auto * scale], [expert * scale])
    assert in_px[vertex[0]] == pytest.approx(np.sqrt(2.5))
    np.testing.assert_allclose(in_mm, scale * in_px, rtol=1e-12)
    assert _geometric_apd(y_true, y_pred, spacing=spacing) == pytest.approx(
        scale * _geometric_apd(y_true, y_pred), rel=1e-12
    )


@pytest.mark.parametrize("spacing", [1.0, 1.367188])
def test_apd_vertex_on_an_expert_segment_lying_along_its_normal_is_at_zero(spacing):
    # Two 45-degree staircase outlines crossing at right angles: a predicted
    # vertex is also an expert vertex, and its normal runs along the expert
    # segments on both sides. Both were dropped as parallel, and a farther
    # crossing (4.24 and 7.07 px away) was used instead of 0.
    rows, cols = np.mgrid[:48, :48]
    y_true = (np.abs(rows - 24) + np.abs(cols - 24)) <= 14  # a diamond
    y_pred = np.roll(y_true, (-8, -2), axis=(0, 1))
    auto, expert = mask_to_contour(y_pred)[:, ::-1], mask_to_contour(y_true)[:, ::-1]
    shared = np.array([(expert == vertex).all(axis=1).any() for vertex in auto])
    assert shared.sum() == 2
    distances = _perpendicular_distances([auto * spacing], [expert * spacing])
    np.testing.assert_array_equal(distances[shared], 0.0)
    assert _geometric_apd(y_true, y_pred, spacing=spacing) == pytest.approx(
        distances.mean(), rel=1e-12
    )


def test_apd_uses_outlines_hausdorff_whole_boundaries():
    # A stray pixel beside the predicted blood pool is not part of its outline
    # (the contour a contour file would hold): APD 0, Hausdorff sees it.
    y_true = _block((20, 20), slice(2, 9), slice(2, 9))
    y_pred = y_true.copy()
    y_pred[15, 15] = True
    assert _geometric_apd(y_true, y_pred) == 0.0
    # The block's boundary is part of both; the farthest predicted vertices
    # are the diamond's (15.5, 15) and (15, 15.5), nearest to the block's
    # corner vertices (8.5, 8) / (8, 8.5): sqrt(7^2 + 7^2) = 7 sqrt(2).
    assert hausdorff_distance(y_true, y_pred) == pytest.approx(7 * np.sqrt(2))


def test_apd_ignores_a_long_thin_stray_object():
    # Disk of radius 10 plus a 124-px line: the line has the longer outline,
    # but the disk is the largest object, so both outlines are the disk's.
    disk_only = np.zeros((64, 128), bool)
    disk_only[disk((30, 30), 10)] = True
    with_line = disk_only.copy()
    with_line[60, 2:126] = True
    assert _geometric_apd(disk_only, with_line) == 0.0
    assert _geometric_apd(with_line, disk_only) == 0.0
    # Hausdorff sees the line: its far end vertex (row 60, col 125.5) is
    # sqrt(30^2 + 95.5^2) = 100.1 px from the disk's centre, and the disk's
    # outline lies 10-10.5 px from its centre.
    assert 89.5 < hausdorff_distance(disk_only, with_line) < 90.2


def test_apd_is_directed_from_prediction_to_expert():
    # Averaged over the automatic contour's vertices: swapping the roles of a
    # small contour inside a large one changes the value.
    square = _block((12, 12), slice(2, 9), slice(2, 9))
    pixel = _block((12, 12), 5, 5)
    assert _geometric_apd(square, pixel) == pytest.approx(3.0)
    assert _geometric_apd(pixel, square) > 3.2


def test_apd_of_concentric_disks():
    # Radii 30 and 20 px: about 10 px; the three-vertex tangent of the
    # challenge overestimates slightly on staircase contours (documented).
    shape = (128, 128)
    outer, inner = np.zeros(shape, bool), np.zeros(shape, bool)
    outer[disk((64, 64), 30, shape=shape)] = True
    inner[disk((64, 64), 20, shape=shape)] = True
    assert 9.8 < _geometric_apd(inner, outer) < 10.6
    assert 9.8 < _geometric_apd(outer, inner) < 10.6


def test_hausdorff_hand_computed():
    # A block shifted by 2 columns: each contour vertex's nearest vertex on the
    # other contour is at most 2 columns away -> 2 px = 2 x 0.7 mm.
    y_true = _block((12, 12), slice(3, 8), slice(3, 8))
    shifted = np.roll(y_true, 2, axis=1)
    assert hausdorff_distance(y_true, shifted, spacing=(1.0, 0.7)) == pytest.approx(1.4)
    # shifted 3 rows with row spacing 1.5 mm -> 4.5 mm
    assert hausdorff_distance(y_true, np.roll(y_true, 3, axis=0), spacing=(1.5, 9.0)) == pytest.approx(4.5)
    # Block 2..5 inside block 0..7: the outer corner vertex (-0.5, 0) is
    # nearest to the inner corner vertex (1.5, 2): sqrt(2^2 + 2^2); from the
    # inner contour every vertex is 2 px from the outer one -> 2 sqrt(2).
    inner = _block((8, 8), slice(2, 6), slice(2, 6))
    outer = np.ones((8, 8), bool)
    assert hausdorff_distance(inner, outer) == pytest.approx(2 * np.sqrt(2))
    assert hausdorff_distance(outer, inner) == pytest.approx(2 * np.sqrt(2))


@pytest.mark.parametrize("metric", [average_perpendicular_distance, hausdorff_distance])
def test_distance_empty_rule_and_identity(metric):
    square = _block((10, 10), slice(2, 7), slice(2, 7))
    empty = np.zeros((10, 10), bool)
    y_true = np.stack([square, empty, square, empty])
    y_pred = np.stack([square, empty, empty, square])
    np.testing.assert_array_equal(metric(y_true, y_pred, per_slice=True), [0.0, 0.0, np.inf, np.inf])
    assert metric(y_true, y_pred) == np.inf
    assert metric(y_true[:2], y_pred[:2]) == 0.0


def test_per_slice_spacing():
    y_true = np.stack([_block((12, 12), slice(2, 9), slice(2, 9))] * 2)
    y_pred = np.stack([_block((12, 12), 5, 5)] * 2)
    spacing = np.array([[1.0, 1.0], [2.0, 2.0]])
    apd = _geometric_apd(y_true, y_pred, spacing=spacing, per_slice=True)
    np.testing.assert_allclose(apd, [3.0, 6.0])


def test_good_contour_rate():
    # APDs 0 (identical), 3 px (single pixel in square) and inf (missed).
    square = _block((12, 12), slice(2, 9), slice(2, 9))
    y_true = np.stack([square] * 3)
    y_pred = np.stack([square, _block((12, 12), 5, 5), np.zeros((12, 12), bool)])
    assert good_contour_rate(y_true, y_pred, definition="geometric", spacing=1.0) == pytest.approx(2 / 3)
    # 3 px x 2 mm = 6 mm >= 5 mm: no longer good
    assert good_contour_rate(y_true, y_pred, definition="geometric", spacing=2.0) == pytest.approx(1 / 3)
    # the threshold is strict: APD equal to it is not good
    assert good_contour_rate(y_true, y_pred, definition="geometric", spacing=2.0, threshold=6.0) == pytest.approx(1 / 3)
    assert good_contour_rate(y_true, y_pred, definition="geometric", spacing=2.0, threshold=6.001) == pytest.approx(2 / 3)
    for bad in (-1, 0, float("inf")):  # -1 returned 0.0 for any masks
        with pytest.raises(ValueError, match=f"threshold must be a distance > 0 \\(mm\\), got {bad!r}"):
            good_contour_rate(y_true, y_pred, spacing=1.0, threshold=bad)


@pytest.mark.parametrize(
    ("spacing", "match"),
    [
        (np.ones(3), r"scalar, a \(row, col\) pair or one pair per slice \(2, 2\); got shape \(3,\)"),
        (np.ones((3, 2)), r"got shape \(3, 2\)"),
        (-1.0, "finite and positive"),
        ((1.0, np.nan), "finite and positive"),
        ("wide", r"spacing must be numbers .*got 'wide'"),
        ((1.0, "wide"), r"spacing must be numbers .*got \(1.0, 'wide'\)"),
        # Text NumPy converts to numbers, and bools, were taken as 1 mm.
        ("1", r"spacing must be numbers .*got '1'"),
        (("1", "1.0"), r"spacing must be numbers .*got \('1', '1.0'\)"),
        (np.array(["1", "1"]), r"spacing must be numbers"),
        (True, r"spacing must be numbers .*got True"),
    ],
)
def test_spacing_errors(spacing, match):
    masks = np.zeros((2, 5, 5), bool)
    with pytest.raises(ValueError, match=match):
        _geometric_apd(masks, masks, spacing=spacing)


@pytest.mark.parametrize(
    "metric", [average_perpendicular_distance, hausdorff_distance, good_contour_rate,
               partial(average_perpendicular_distance, definition="geometric")]
)
def test_text_spacing_is_refused_by_every_distance(metric):
    # docs/metrics.md: anything but finite positive numbers raises ValueError; spacing="1" gave 1 mm.
    masks = np.zeros((2, 5, 5), bool)
    masks[:, 1:4, 1:4] = True
    with pytest.raises(ValueError, match="spacing must be numbers .*got '1'"):
        metric(masks, masks, spacing="1")


@pytest.mark.shared_data
def test_real_contours_eroded_by_one_pixel(shared_data_root):
    """APD of an expert mask against itself eroded by one pixel is ~1 px."""
    from scipy.ndimage import binary_erosion

    datasets = pytest.importorskip("skcardio.datasets")
    bunch = datasets.load_dataset(shared_data_root)
    y_true = bunch.y[:10]
    eroded = np.stack([binary_erosion(mask) for mask in y_true])
    spacing = np.asarray(bunch.frame.pixel_spacing[:10], dtype=float)
    apd = _geometric_apd(y_true, eroded, spacing=spacing, per_slice=True)
    # Straight edges move 1 px, staircase diagonals ~0.7 px.
    assert (apd > 0.5 * spacing[:, 0]).all() and (apd < 1.2 * spacing[:, 0]).all()
    np.testing.assert_array_equal(
        _geometric_apd(y_true, y_true, spacing=spacing, per_slice=True), 0.0
    )


def _random_masks(n, shape=(9, 10)):
    return arrays(bool, (n, *shape), elements=st.booleans())


mask_pairs = st.integers(1, 3).flatmap(lambda n: st.tuples(_random_masks(n), _random_masks(n)))
spacings = st.tuples(st.floats(0.25, 4.0), st.floats(0.25, 4.0))


@settings(max_examples=60, deadline=None)
@given(mask_pairs, spacings)
def test_distance_properties(pair, spacing):
    y_true, y_pred = pair
    forward = hausdorff_distance(y_true, y_pred, spacing=spacing, per_slice=True)
    # symmetric, and never negative (inf where exactly one mask is empty)
    np.testing.assert_array_equal(
        forward, hausdorff_distance(y_pred, y_true, spacing=spacing, per_slice=True)
    )
    apd = _geometric_apd(y_true, y_pred, spacing=spacing, per_slice=True)
    assert (forward >= 0).all() and (apd >= 0).all()
    one_empty = y_true.any(axis=(1, 2)) != y_pred.any(axis=(1, 2))
    np.testing.assert_array_equal(np.isinf(forward), one_empty)
    np.testing.assert_array_equal(np.isinf(apd), one_empty)
    # a mask is at distance 0 from itself
    for metric in (hausdorff_distance, _geometric_apd):
        np.testing.assert_array_equal(
            metric(y_true, y_true, spacing=spacing, per_slice=True), 0.0
        )


@settings(max_examples=60, deadline=None)
@given(mask_pairs, st.sampled_from([0.1, 0.7, 1.3, 1.2891, 1.367188]))
def test_distances_scale_with_a_scalar_spacing(pair, scale):
    # In pixels (spacing 1) the outline coordinates are half-integers and the
    # geometry is exact; a scalar spacing must only scale every distance.
    y_true, y_pred = pair
    both = y_true.any(axis=(1, 2)) & y_pred.any(axis=(1, 2))
    for metric in (hausdorff_distance, _geometric_apd):
        in_px = metric(y_true, y_pred, per_slice=True)
        in_mm = metric(y_true, y_pred, spacing=scale, per_slice=True)
        np.testing.assert_allclose(in_mm[both], scale * in_px[both], rtol=1e-9)


@pytest.mark.shared_data
def test_expert_outline_retraced_from_mask_documented_figures(shared_data_root):
    """docs/metrics.md: APD against the re-traced expert outline vs the file's points."""
    from sklearn.pipeline import make_pipeline

    from skcardio.datasets import load_dataset
    from skcardio.io import mask_to_contour, read_contour
    from skcardio.preprocessing import RegionSelector
    from skcardio.segment import ThresholdSegmenter, make_classical_pipeline

    data = load_dataset(shared_data_root, require="o-contour")
    spacing = np.asarray(data.frame.pixel_spacing, dtype=float)

    def file_points(path):  # (row, col), without a repeated point
        points = read_contour(path)[:, ::-1]
        return points[np.linalg.norm(points - np.roll(points, -1, axis=0), axis=1) > 0]

    experts = [file_points(path) for path in data.frame.icontour_path]

    def apd_to_files(y_pred):
        return np.array([
            _perpendicular_distances([mask_to_contour(p)[:, ::-1] * s], [e * s]).mean()
            for p, e, s in zip(y_pred, experts, spacing)
        ])

    retraced = apd_to_files(data.y)
    assert len(retraced) == 46
    assert retraced.mean() == pytest.approx(0.29, abs=0.005)
    assert 0.24 <= retraced.min() and retraced.max() <= 0.345
    pairs = np.stack([data.images, data.regions.astype(np.float32)], axis=1)
    for pipe, shift in [
        (make_pipeline(RegionSelector(), ThresholdSegmenter("otsu")), 0.19),
        (make_classical_pipeline(), 0.0),
    ]:
        y_pred = pipe.fit(pairs).predict(pairs)
        via_mask = _geometric_apd(data.y, y_pred, spacing=spacing, per_slice=True)
        assert (via_mask - apd_to_files(y_pred)).mean() == pytest.approx(shift, abs=0.005)


def test_contours_and_masks_give_the_same_outline_distances():
    # A mask's APD is that of its outline (mask_to_contour); masks and
    # contours may be mixed, slice by slice lists of (x, y) points.
    y_true = np.stack([_block((20, 20), slice(3, 15), slice(4, 16)), _block((20, 20), slice(2, 9), slice(2, 9))])
    y_pred = np.stack([_block((20, 20), slice(5, 14), slice(4, 18)), _block((20, 20), 5, 5)])
    outlines_true = [mask_to_contour(m) for m in y_true]
    outlines_pred = [mask_to_contour(m) for m in y_pred]
    for definition in ("miccai2009", "geometric"):
        from_masks = average_perpendicular_distance(y_true, y_pred, per_slice=True, definition=definition)
        for expert, auto in [(outlines_true, outlines_pred), (outlines_true, y_pred), (y_true, outlines_pred)]:
            np.testing.assert_array_equal(
                average_perpendicular_distance(expert, auto, per_slice=True, definition=definition), from_masks
            )
    # Hausdorff: a single block has one boundary, its outline; masks compare
    # the outline's vertices (0.71 px apart at most), contours the whole
    # polyline, which can only be farther, by less than half that spacing.
    from_outlines = hausdorff_distance(outlines_true, y_pred, per_slice=True)
    from_masks = hausdorff_distance(y_true, y_pred, per_slice=True)
    assert (from_outlines >= from_masks).all() and (from_outlines - from_masks < 0.36).all()


def test_hausdorff_of_contours_hand_computed():
    # Square shifted 3 rows: every point of one is 3 px from the other. With
    # row spacing 2 mm: 6 mm.
    square = np.array([[2.5, 2.5], [7.5, 2.5], [7.5, 7.5], [2.5, 7.5]])
    assert hausdorff_distance([square], [square + [0.0, 3.0]], spacing=(2.0, 1.0)) == pytest.approx(6.0)
    # A triangle inside it: the square's corner (7.5, 7.5) is farthest from the
    # triangle's side joining (5, 3) and (3, 5)... both ways, measured on the
    # curves: the square's corner (7.5, 7.5) to the triangle's corner (5, 5).
    triangle = np.array([[3.0, 3.0], [5.0, 3.0], [5.0, 5.0]])
    assert hausdorff_distance([square], [triangle]) == pytest.approx(2.5 * np.sqrt(2))


def test_contour_slices_empty_rule_and_errors():
    square = np.array([[2.5, 2.5], [7.5, 2.5], [7.5, 7.5], [2.5, 7.5]])
    empty_mask = np.zeros((10, 10), bool)
    for metric in (average_perpendicular_distance, hausdorff_distance):
        values = metric([square, None, np.empty((0, 2)), square], np.stack([empty_mask] * 2 + [empty_mask, empty_mask]),
                        per_slice=True)
        np.testing.assert_array_equal(values, [np.inf, 0.0, 0.0, np.inf])
    with pytest.raises(ValueError, match=r"y_pred\[1\]: a polygon needs at least 3 points, got 2"):
        average_perpendicular_distance([square, square], [square, square[:2]])
    with pytest.raises(ValueError, match=r"y_true\[0\]: points must be finite"):
        hausdorff_distance([square * np.nan], [square])
    with pytest.raises(ValueError, match="same number of slices; got 2 and 1"):
        average_perpendicular_distance([square, square], [square])


def test_geometric_apd_memory_follows_the_contours_lengths_not_their_product():
    """Normals are intersected with the expert segments in blocks of bounded size.

    A fixed 1024 vertices per block held (vertices x segments) arrays: 375 MiB
    here, 7.6 GB for 800 vertices against a 100,000-point expert contour.
    """
    from _memory import traced_peak

    t = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    expert = np.c_[64 + 30 * np.cos(t), 64 + 30 * np.sin(t)]
    ta = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    auto = np.c_[64 + 28 * np.cos(ta), 64 + 28 * np.sin(ta)]
    value, peak = traced_peak(lambda: _geometric_apd([expert], [auto]))
    assert peak < 32 * 2**20
    assert value == pytest.approx(2.0, abs=1e-4)


def test_geometric_blocks_do_not_change_the_distances(monkeypatch):
    import skcardio.metrics._distance as distance

    rng = np.random.default_rng(3)
    auto = [_regular_polygon(10.0, 40) + rng.normal(0, 0.3, (40, 2)), _regular_polygon(4.0, 9)]
    expert = [_regular_polygon(8.0, 64), _regular_polygon(6.0, 30) + 0.5]
    expected = _perpendicular_distances(auto, expert)
    monkeypatch.setattr(distance, "_CHUNK_PAIRS", 100)  # one vertex at a time
    np.testing.assert_array_equal(_perpendicular_distances(auto, expert), expected)
