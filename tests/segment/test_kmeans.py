"""KMeansSegmenter: per-slice and global clustering, determinism, degenerate slices."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skcardio.exceptions import SkcardioWarning
from skcardio.metrics import dice_score
from skcardio.segment import KMeansSegmenter


@pytest.mark.parametrize("fit_mode", ["per_slice", "global"])
def test_brightest_cluster_is_the_blood_pool(fit_mode, synthetic):
    images, regions, truth = synthetic
    seg = KMeansSegmenter(fit_mode=fit_mode, random_state=0).fit(images)
    masks = seg.predict(images)
    assert masks.dtype == bool and not (masks & ~regions).any()
    assert dice_score(truth, masks) > 0.99


def test_three_clusters_keep_only_the_brightest(slice_factory):
    image, region, blood, _ = slice_factory(noise=3)
    image = image.copy()
    middle = region & ~blood & (np.indices(image.shape)[1] < 14)
    image[middle] = np.random.default_rng(0).normal(130, 3, middle.sum())
    three = KMeansSegmenter(3, random_state=0).fit(image[None]).predict(image[None])[0]
    two = KMeansSegmenter(2, random_state=0).fit(image[None]).predict(image[None])[0]
    assert dice_score(blood, three) > 0.99
    assert two[middle].mean() > 0.9  # two clusters lump 130 with 200


def test_global_mode_learns_centres_from_training_slices(synthetic):
    images, regions, _ = synthetic
    seg = KMeansSegmenter(fit_mode="global", normalize=None, random_state=0).fit(images)
    assert seg.cluster_centers_.shape == (2,)
    np.testing.assert_allclose(seg.cluster_centers_, [60, 200], atol=3)
    # A new slice whose whole region is 150: nearer the learned blood centre
    # (200) than the myocardium centre (60), so all blood pool -- a per-slice
    # clustering would have to split it.
    flat = np.where(regions[:1], 150.0, np.nan)
    flat += np.random.default_rng(0).normal(0, 1, flat.shape)
    assert seg.predict(flat)[0][regions[0]].all()
    per_slice = KMeansSegmenter(normalize=None, random_state=0).fit(images).predict(flat)[0]
    assert 0 < per_slice[regions[0]].mean() < 1


def test_per_slice_mode_learns_no_centres(synthetic):
    images, _, _ = synthetic
    assert KMeansSegmenter().fit(images).cluster_centers_ is None


def test_random_state_makes_results_reproducible(region_images):
    X = region_images[:8]
    for fit_mode in ("per_slice", "global"):
        a = KMeansSegmenter(3, fit_mode=fit_mode, random_state=42).fit(X)
        b = KMeansSegmenter(3, fit_mode=fit_mode, random_state=42).fit(X)
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
        np.testing.assert_array_equal(a.predict(X), a.predict(X))  # same at every call
        if fit_mode == "global":
            np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_random_state_instance_is_accepted_and_not_global_seeding(synthetic):
    images, _, truth = synthetic
    state = np.random.RandomState(0)
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    KMeansSegmenter(random_state=state).fit(images).predict(images)
    assert np.random.random() == before  # the global RNG was not touched


def test_predict_before_fit_raises(synthetic):
    images, _, _ = synthetic
    with pytest.raises(NotFittedError):
        KMeansSegmenter().predict(images)


def test_too_few_distinct_values_gives_empty_mask_and_warning(synthetic):
    images, _, truth = synthetic
    images = images.copy()
    region = ~np.isnan(images[0])
    images[0][region] = np.where(np.arange(region.sum()) % 2, 1.0, 2.0)  # 2 values
    seg = KMeansSegmenter(3, random_state=0).fit(images)
    with pytest.warns(SkcardioWarning, match=r"1 of 3 slices.*0 \(2 distinct intensities"):
        masks = seg.predict(images)
    assert not masks[0].any() and dice_score(truth[1:], masks[1:]) > 0.8


def test_global_fit_needs_enough_distinct_values():
    images = np.ones((2, 5, 5))
    images[:, 0] = np.nan
    with pytest.raises(ValueError, match="distinct"):
        KMeansSegmenter(fit_mode="global").fit(images)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_clusters=1), "n_clusters"),
        (dict(fit_mode="both"), "fit_mode"),
        (dict(sigma=-2), "sigma"),
        # Per-slice k-means only runs in predict: fit must catch these itself.
        (dict(n_init="bad"), "n_init"),
        (dict(n_init=0), "n_init"),
        (dict(n_init=1.5), "n_init"),
        (dict(n_init=True), "n_init"),
    ],
)
def test_invalid_params(params, match, synthetic):
    with pytest.raises(ValueError, match=match):
        KMeansSegmenter(**params).fit(synthetic[0])


def test_clone_of_fitted_is_unfitted(synthetic):
    seg = KMeansSegmenter(fit_mode="global", random_state=0).fit(synthetic[0])
    with pytest.raises(NotFittedError):
        clone(seg).predict(synthetic[0])


@pytest.mark.parametrize("n_init", ["auto", 1, 3])
def test_valid_n_init_is_accepted(n_init, synthetic):
    images, _, truth = synthetic
    masks = KMeansSegmenter(n_init=n_init, random_state=0).fit(images).predict(images)
    assert dice_score(truth, masks) > 0.95


def test_global_mode_set_after_a_per_slice_fit_asks_for_a_refit(synthetic):
    images = synthetic[0]
    seg = KMeansSegmenter(random_state=0).fit(images).set_params(fit_mode="global")
    with pytest.raises(NotFittedError, match="fitted with fit_mode='per_slice' .* call fit again"):
        seg.predict(images)
    assert seg.fit(images).predict(images).any()  # refitted: centres learned
