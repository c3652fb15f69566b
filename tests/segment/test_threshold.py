"""ThresholdSegmenter on hand-made slices whose answer is known, and on real slices."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import filters
from skimage.measure import label
from skimage.morphology import convex_hull_image, disk
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import get_tags

from skcardio.exceptions import SkcardioWarning
from skcardio.metrics import dice_score
from skcardio.segment import THRESHOLD_METHODS, ThresholdSegmenter


def test_defaults_are_plain_otsu():
    seg = ThresholdSegmenter()
    params = seg.get_params()
    assert params["method"] == "otsu"
    assert params["contrast"] is None and params["normalize"] is None and params["sigma"] == 0
    for name in ("border_margin", "opening", "dilation"):
        assert params[name] == 0
    for name in ("keep_largest", "fill_holes", "convex_hull"):
        assert params[name] is False


def test_defaults_match_a_bare_otsu_on_region_pixels(region_images):
    masks = ThresholdSegmenter().predict(region_images)
    for image, mask in zip(region_images, masks):
        region = ~np.isnan(image)
        expected = region & (np.nan_to_num(image) > filters.threshold_otsu(image[region]))
        np.testing.assert_array_equal(mask, expected)


def test_threshold_comes_from_region_pixels_only(slice_factory):
    # Very bright surroundings (fat, the right ventricle): thresholding the
    # whole image would separate them from the heart and miss the blood pool.
    image, region, blood, raw = slice_factory(shape=(80, 80), centre=(40, 40), outside=600.0)
    mask = ThresholdSegmenter().predict(image[np.newaxis])[0]
    assert dice_score(blood, mask) > 0.99
    whole = region & (raw > filters.threshold_otsu(raw))
    assert dice_score(blood, whole) < 0.5


@pytest.mark.parametrize("method", THRESHOLD_METHODS)
def test_every_method_finds_a_known_blood_pool(method, synthetic):
    images, regions, truth = synthetic
    masks = ThresholdSegmenter(method=method, keep_largest=True).predict(images)
    assert masks.dtype == bool and masks.shape == images.shape
    assert not (masks & ~regions).any()
    assert dice_score(truth, masks) > 0.95


def test_multiotsu_keeps_the_brightest_class(slice_factory):
    image, region, blood, _ = slice_factory(noise=2)
    image = image.copy()
    middle = region & ~blood & (np.indices(image.shape)[0] < 12)
    image[middle] = np.random.default_rng(0).normal(130.0, 2.0, middle.sum())  # third class
    mask = ThresholdSegmenter(method="multiotsu", classes=3).predict(image[np.newaxis])[0]
    # skimage returns histogram-bin centres: a pixel or two of the class just
    # below may sit above the threshold, hence a tolerance.
    assert dice_score(blood, mask) > 0.99
    assert mask[middle].mean() < 0.05
    # Two-class Otsu puts the intermediate class with the bright one here.
    otsu = ThresholdSegmenter().predict(image[np.newaxis])[0]
    assert otsu[middle].mean() > 0.95


def test_images_without_nan_are_segmented_whole():
    rng = np.random.default_rng(0)
    image = rng.normal(10, 1, (1, 20, 20))
    image[0, 5:15, 5:15] += 50
    mask = ThresholdSegmenter().predict(image)[0]
    assert mask[5:15, 5:15].all() and mask.sum() <= 102


@pytest.mark.parametrize(
    "params",
    [
        {},
        dict(method="li", keep_largest=True, fill_holes=True, convex_hull=True, dilation=5),
        dict(method="triangle", sigma=3, contrast=(1, 99), normalize="zscore", dilation=10),
        dict(method="mean", opening=2, border_margin=2, convex_hull=True),
    ],
)
def test_never_true_outside_region(params, region_images):
    masks = ThresholdSegmenter(**params).predict(region_images)
    assert not (masks & np.isnan(region_images)).any()
    assert masks.any(axis=(1, 2)).all()


def test_post_processing_changes_real_masks_as_documented(region_images):
    plain = ThresholdSegmenter(method="li").predict(region_images)
    filled = ThresholdSegmenter(method="li", keep_largest=True, fill_holes=True).predict(
        region_images
    )
    hull = ThresholdSegmenter(
        method="li", keep_largest=True, fill_holes=True, convex_hull=True
    ).predict(region_images)
    # Each later step only adds pixels to the largest object (filling, hull).
    assert (hull | filled).sum() == hull.sum() and hull.sum() > filled.sum()
    assert max(label(m).max() for m in filled) == 1
    assert plain.sum() != filled.sum()


def test_smoothing_and_contrast_change_the_result(region_images):
    base = ThresholdSegmenter().predict(region_images)
    smoothed = ThresholdSegmenter(sigma=1.5).predict(region_images)
    stretched = ThresholdSegmenter(contrast=(10, 90)).predict(region_images)
    assert (base != smoothed).any() and (base != stretched).any()
    # A NumPy pair (a grid given as an array) stretches as the tuple does; it was refused.
    np.testing.assert_array_equal(ThresholdSegmenter(contrast=np.array([10, 90])).predict(region_images), stretched)


@pytest.mark.parametrize("method", THRESHOLD_METHODS)
def test_normalisation_does_not_change_thresholds(method, region_images):
    # The thresholds are invariant to an affine change of intensities, the
    # reason why normalisation is no separate axis of the grouped search.
    X = region_images[::3]
    plain = ThresholdSegmenter(method).predict(X)
    for mode in ("zscore", "minmax"):
        normalised = ThresholdSegmenter(method, normalize=mode).predict(X)
        # Up to rounding: skimage returns a histogram-bin centre, and pixels
        # in that bin may fall on either side after rescaling.
        assert dice_score(plain, normalised, per_slice=True).min() > 0.98


def test_degenerate_slices_get_empty_masks_with_one_warning(synthetic):
    images, _, truth = synthetic
    images = images.copy()
    images[1] = np.where(np.isnan(images[1]), np.nan, 42.0)  # constant region
    images[2] = np.nan  # no region at all
    with pytest.warns(SkcardioWarning, match=r"2 of 3 slices.*1 \(constant.*2 \(region has 0"):
        masks = ThresholdSegmenter().predict(images)
    assert not masks[1:].any()
    assert dice_score(truth[0], masks[0]) > 0.95


def test_method_failure_is_reported_per_slice():
    flat_histogram = np.linspace(0, 1, 400).reshape(1, 20, 20)  # no two peaks
    with pytest.warns(SkcardioWarning, match="threshold_minimum failed"):
        mask = ThresholdSegmenter(method="minimum").predict(flat_histogram)
    assert not mask.any()


def test_stateless_predict_without_fit_and_any_image_size(synthetic):
    images, _, truth = synthetic
    seg = ThresholdSegmenter()
    assert dice_score(truth, seg.predict(images)) > 0.99
    seg.fit(images)
    small = images[:, 4:-4, 4:-4]
    assert seg.predict(small).shape == small.shape
    assert vars(seg) == vars(clone(seg))  # fit stores nothing


def test_score_is_mean_dice(synthetic):
    images, _, truth = synthetic
    seg = ThresholdSegmenter(method="li").fit(images)
    assert seg.score(images, truth) == pytest.approx(dice_score(truth, seg.predict(images)))


def test_not_a_classifier_and_tags():
    seg = ThresholdSegmenter()
    assert not is_classifier(seg) and not is_regressor(seg)
    tags = get_tags(seg)
    assert tags.estimator_type is None
    assert tags.input_tags.three_d_array and tags.input_tags.allow_nan
    assert not tags.input_tags.two_d_array
    assert not tags.requires_fit


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(method="sauvola"), "method must be one of"),
        (dict(method="multiotsu", classes=1), "classes"),
        (dict(dilation=-1), "dilation"),
        (dict(contrast=(50, 10)), "contrast"),
    ],
)
def test_invalid_params_raise_in_fit_and_predict(params, match, synthetic):
    images, _, _ = synthetic
    seg = ThresholdSegmenter(**params)  # __init__ does not validate
    with pytest.raises(ValueError, match=match):
        seg.fit(images)
    with pytest.raises(ValueError, match=match):
        seg.predict(images)



def _bare_skimage(image, method, sigma, margin, opening, hull, dilation):
    """The same steps written directly with scikit-image / scipy on the whole image."""
    region = ~np.isnan(image)
    x = np.where(region, image, 0.0)
    if sigma:
        w = ndi.gaussian_filter(region.astype(float), sigma, mode="constant")
        smoothed = ndi.gaussian_filter(x, sigma, mode="constant")
        x = np.where(region, smoothed / np.maximum(w, 1e-300), 0)
    mask = region & (x > getattr(filters, f"threshold_{method}")(x[region]))
    mask &= ndi.binary_erosion(region, disk(margin)) if margin else region
    if opening:
        mask = ndi.binary_opening(mask, disk(opening))
    labels = label(mask, connectivity=2)
    mask = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
    mask = ndi.binary_fill_holes(mask)
    if hull:
        mask = convex_hull_image(mask)
    if dilation:
        mask = ndi.binary_dilation(mask, disk(dilation))
    return mask & region


@pytest.mark.parametrize(
    "method, sigma, margin, opening, hull, dilation",
    [("otsu", 0, 0, 0, False, 0), ("li", 0, 2, 0, True, 1), ("mean", 1.5, 3, 1, True, 2)],
)
def test_same_masks_as_bare_scikit_image_on_whole_images(
    method, sigma, margin, opening, hull, dilation, region_images
):
    # predict works on each region's bounding box; the masks must be those
    # of the plain whole-image computation.
    X = region_images[::4]
    seg = ThresholdSegmenter(
        method, sigma=sigma, border_margin=margin, opening=opening, keep_largest=True,
        fill_holes=True, convex_hull=hull, dilation=dilation,
    )
    expected = [_bare_skimage(x, method, sigma, margin, opening, hull, dilation) for x in X]
    np.testing.assert_array_equal(seg.predict(X), np.stack(expected))
