"""The blood pool's dark rim: contrast scale, calibration on expert labels, trimming."""

import numpy as np
import pytest
from _ramp_discs import ramp_disc

from skcardio.segment import boundary_contrast, calibrate_boundary_level, trim_dark_boundary
from skcardio.segment._boundary_trim import _best_split


def _square(size=30, lo=8, hi=22, pool=300.0, wall=100.0):
    image = np.full((size, size), wall)
    image[lo:hi, lo:hi] = pool
    return image


def _radial(level, size=48, radius=14.0):
    """A disc fading from pool (1) to wall (0) over 4 px; the expert outline at contrast ``level``."""
    image, r = ramp_disc(level, size=size, radius=radius)
    return image, r <= radius


def test_contrast_is_zero_on_the_wall_and_one_in_the_pool():
    image = _square()
    z = boundary_contrast(image, image > 200)
    assert z[15, 15] == 1.0 and z[0, 0] == 0.0 and z[8, 8] == 1.0


@pytest.mark.parametrize(
    "case",
    ["empty mask", "mask thinner than the band", "pool darker than the wall", "nothing around the mask"],
)
def test_contrast_is_none_where_no_level_can_be_measured(case):
    image, mask = _square(), np.zeros((30, 30), bool)
    if case == "mask thinner than the band":
        mask[10:13, 10:20] = True  # 3 rows: nothing is 2 px inside
    elif case == "pool darker than the wall":
        image, mask = -image, image > 200
    elif case == "nothing around the mask":
        mask[:] = True
    assert boundary_contrast(image, mask, band=2) is None


def test_calibration_finds_the_level_the_outline_was_drawn_at():
    found = []
    for level in (0.2, 0.3, 0.4):
        image, mask = _radial(level)
        found.append(calibrate_boundary_level(np.stack([image, image.T]), np.stack([mask, mask.T])))
    # Measured 0.196, 0.296, 0.340: the wall ring's median stays at 0 for these levels (a higher
    # one lifts it, and the scale with it), so the three are told apart.
    np.testing.assert_allclose(found, [0.2, 0.3, 0.4], atol=0.07)
    assert found[0] < found[1] < found[2]


def _correct(values, inside, level):
    values = values.astype(np.float64)  # as the trimming compares (a float32 array would round the level)
    return int(((values >= level) & inside).sum() + ((values < level) & ~inside).sum())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_best_split_is_the_lowest_best_level_brute_force(dtype):
    rng = np.random.default_rng(0)
    for _ in range(20):
        inside = rng.random(60) < 0.5
        values = np.round(rng.normal(inside * 0.6, 0.3), 1).astype(dtype)  # ties on purpose
        level = _best_split(values, inside)
        candidates = np.concatenate([[values.min() - 1], np.unique(values), [values.max() + 1]])
        scores = [_correct(values, inside, t) for t in candidates]
        assert _correct(values, inside, level) == max(scores)
        # The lowest of the best: no best candidate separates fewer values below it.
        lowest = candidates[int(np.argmax(scores))]
        assert (values.astype(np.float64) < level).sum() == (values < lowest).sum()


def test_best_split_of_neighbouring_float32_values_separates_them():
    low = np.float32(0.3)
    high = np.nextafter(low, np.float32(1))
    values = np.array([low, high], np.float32)
    level = _best_split(values, np.array([False, True]))
    assert float(values[0]) < level <= float(values[1])


def test_calibration_refuses_labels_without_a_measurable_level():
    image = _square()
    with pytest.raises(ValueError, match="no slice of the 1 given has a measurable"):
        calibrate_boundary_level(image[None], np.zeros((1, 30, 30), bool))


def test_trim_removes_a_dark_rim_and_nothing_else():
    image = _square()
    mask = np.zeros((30, 30), bool)
    mask[7:23, 7:23] = True  # one pixel of wall all round
    trimmed = trim_dark_boundary(image[None], mask[None], level=0.5)
    assert np.array_equal(trimmed[0], image > 200)
    assert mask.sum() == 16 * 16  # the input is left as it was


def test_trim_keeps_dark_pixels_inside_the_pool_and_adds_none():
    image = _square()
    image[14:16, 14:16] = 100.0  # a papillary muscle, as dark as the wall
    mask = np.zeros((30, 30), bool)
    mask[9:21, 9:21] = True  # a pixel short of the pool on every side
    trimmed = trim_dark_boundary(image[None], mask[None], level=0.5)[0]
    assert np.array_equal(trimmed, mask)


def test_trim_drops_pieces_cut_off_from_the_interior():
    image = _square()
    mask = image > 200
    mask[4:8, 14] = True  # a dark spur out of the pool's top edge
    mask[3, 12:17] = True  # ending in a bright blob beyond it
    image[3, 12:17] = 300.0
    trimmed = trim_dark_boundary(image[None], mask[None], level=0.5)[0]
    assert np.array_equal(trimmed, _square() > 200)


def test_trim_keeps_a_separate_bright_piece_too_thin_to_have_an_interior():
    image = _square()
    image[2:4, 8:22] = 300.0  # a bright strip, two pixels thick, apart from the pool
    mask = image > 200
    for level in (0.145, -10.0):
        np.testing.assert_array_equal(trim_dark_boundary(image[None], mask[None], level=level)[0], mask)
    wide = mask.copy()
    wide[7, 8:22] = True  # the pool's dark row above it is trimmed, the strip stays
    np.testing.assert_array_equal(trim_dark_boundary(image[None], wide[None], level=0.5)[0], mask)


def test_trim_leaves_the_pixels_around_a_hole_alone():
    image = _square()
    image[13:17, 13:17] = 100.0  # a papillary muscle as dark as the wall...
    image[12, 13:17] = 150.0  # ...with half-dark pixels next to it
    mask = image > 120
    assert not mask[13:17, 13:17].any()  # a hole in the mask
    np.testing.assert_array_equal(trim_dark_boundary(image[None], mask[None], level=0.5)[0], mask)


def test_contrast_validates_its_mask_and_band():
    image = _square()
    image[:2] = 250.0  # rows a wrong (integer) indexing would pick up
    mask = image > 280
    np.testing.assert_array_equal(boundary_contrast(image, mask.astype(np.uint8)), boundary_contrast(image, mask))
    with pytest.raises(ValueError, match="band must be an int >= 1"):
        boundary_contrast(image, mask, band=0)
    with pytest.raises(ValueError, match="masks must have the images' shape"):
        boundary_contrast(image, mask[:20])
    with pytest.raises(ValueError, match=r"image must be one \(H, W\) slice"):
        boundary_contrast(image[None], mask[None])


def test_trim_leaves_unmeasurable_slices_alone():
    image = _square()
    masks = np.zeros((2, 30, 30), bool)
    masks[1, 10:12, 10:20] = True  # too thin to measure a pool level
    trimmed = trim_dark_boundary(np.stack([image, image]), masks, level=0.9)
    assert np.array_equal(trimmed, masks)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"level": True}, "level must be a finite number"),
        ({"level": float("nan")}, "level must be a finite number"),
        ({"level": "0.1"}, "level must be a finite number"),
        ({"level": 0.1, "band": 0}, "band must be an int >= 1"),
        ({"level": 0.1, "band": 1.5}, "band must be an int >= 1"),
    ],
)
def test_trim_refuses_bad_parameters(kwargs, message):
    image = _square()
    with pytest.raises(ValueError, match=message):
        trim_dark_boundary(image[None], (image > 200)[None], **kwargs)


def test_trim_and_calibration_refuse_mismatched_or_bad_input():
    image = _square()
    with pytest.raises(ValueError, match="masks must have the images' shape"):
        trim_dark_boundary(image[None], np.zeros((1, 20, 20), bool), level=0.1)
    with pytest.raises(ValueError, match="must be boolean"):
        calibrate_boundary_level(image[None], np.full((1, 30, 30), 2))
    bad = image.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="^calibrate_boundary_level: images must be finite"):
        calibrate_boundary_level(bad[None], (image > 200)[None])
    with pytest.raises(ValueError, match="^trim_dark_boundary: images must be finite"):
        trim_dark_boundary(bad[None], (image > 200)[None], level=0.1)


def test_trim_takes_a_cine_stack_and_keeps_its_shape():
    image = _square()
    mask = np.zeros((30, 30), bool)
    mask[7:23, 7:23] = True
    images, masks = np.broadcast_to(image, (2, 3, 30, 30)), np.broadcast_to(mask, (2, 3, 30, 30))
    trimmed = trim_dark_boundary(images, masks, level=0.5)
    assert trimmed.shape == (2, 3, 30, 30)
    assert np.array_equal(trimmed, np.broadcast_to(image > 200, (2, 3, 30, 30)))
    with pytest.raises(ValueError, match=r"expected images of shape \(\.\.\., H, W\)"):
        trim_dark_boundary(image, mask, level=0.5)


def test_the_sunnybrook_level_is_what_calibration_measures_on_the_shared_dicoms(shared_data_root):
    from skcardio.datasets import load_dataset
    from skcardio.segment import SUNNYBROOK_BOUNDARY_LEVEL

    data = load_dataset(shared_data_root)
    assert len(data.y) == 96
    assert calibrate_boundary_level(data.images, data.y) == pytest.approx(SUNNYBROOK_BOUNDARY_LEVEL, abs=5e-4)
