"""scikit-learn's estimator checks for the classical segmenters.

The segmenters take stacks of images ``(n, H, W)`` and say so in their tags
(``input_tags.two_d_array=False``, ``three_d_array=True``). For such tags
``parametrize_with_checks`` runs no check at all, so the checks run on
subclasses that claim 2-D support; every check that feeds a 2-D table
``(n_samples, n_features)`` then fails with the segmenters' own "expected
images of shape (n, H, W)" error, and is listed below with that reason.
What remains (cloning, ``get_params``/``set_params``, ``__init__`` storing
arguments only, repr, tags, mixin order, unfitted errors, 1-D input errors,
complex and sparse input rejected with a clear message) must pass. Checks
that set ``n_clusters=1`` fail for ``KMeansSegmenter`` on that parameter
first and say so. The table checks' properties (pickling, idempotent fit,
subset and order invariance, read-only input, unchanged ``__dict__``) are
tested on images below; the rest of the behaviour on images in the other
modules.
"""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from _sklearn_checks import TABLE_CHECKS, claiming_2d

from skcardio.segment import KMeansSegmenter, RegionGrowingSegmenter, ThresholdSegmenter

_NEEDS_IMAGES = "feeds a 2-D table; the segmenter needs images (n, H, W)"



def _expected_failed_checks(estimator) -> dict[str, str]:
    failed = {name: _NEEDS_IMAGES for name in TABLE_CHECKS}
    failed.update(
        {
            "check_positive_only_tag_during_fit": (
                "feeds a 2-D table of negative values; the error is about the shape, "
                "not the sign"
            ),
            "check_estimators_empty_data_messages": (
                "expects sklearn's message for a (n, 0) table; images get a shape error"
            ),
            "check_fit2d_1sample": "expects sklearn's 1-sample message for a table",
            "check_fit2d_1feature": "expects sklearn's 1-feature message for a table",
        }
    )
    if isinstance(estimator, KMeansSegmenter):
        # These checks set n_clusters=1 before fitting (sklearn does so for
        # any estimator with that parameter); one cluster has no "brightest",
        # so fit raises its parameter error before looking at the table.
        refused = "sets n_clusters=1, which KMeansSegmenter refuses (needs >= 2)"
        failed.update(
            {
                "check_dont_overwrite_parameters": refused,
                "check_methods_subset_invariance": refused,
                "check_fit2d_predict1d": refused,
                "check_fit2d_1sample": f"{refused}: not sklearn's 1-sample message",
                "check_fit2d_1feature": f"{refused}: not sklearn's 1-feature message",
            }
        )
    return failed


@parametrize_with_checks(
    [
        claiming_2d(ThresholdSegmenter)(),
        claiming_2d(KMeansSegmenter)(random_state=0),
        claiming_2d(RegionGrowingSegmenter)(),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_segmenter(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", [ThresholdSegmenter, KMeansSegmenter, RegionGrowingSegmenter])
def test_real_tags_describe_image_stacks(cls):
    from sklearn.utils import get_tags

    tags = get_tags(cls())
    assert not tags.input_tags.two_d_array
    assert tags.input_tags.three_d_array and tags.input_tags.allow_nan
    assert tags.estimator_type is None  # not a classifier: scorers would return NaN
    assert not tags.target_tags.required


# --------------------------------------------------------------------------- the table
# checks' properties, on images: what sklearn would check if it fed image stacks.

SEGMENTERS = [
    ThresholdSegmenter("li", keep_largest=True, convex_hull=True),
    KMeansSegmenter(random_state=0),
    KMeansSegmenter(fit_mode="global", random_state=0),
    RegionGrowingSegmenter(sigma=1.0, fill_holes=True),
]
_IDS = ["threshold", "kmeans-per-slice", "kmeans-global", "region-growing"]


@pytest.fixture
def stack(synthetic):
    """Six slices (three synthetic pools, each twice with other noise), NaN outside."""
    images = synthetic[0]
    noisy = images + np.random.default_rng(1).normal(0, 8, images.shape)
    return np.concatenate([images, noisy])


def _fit_predict(segmenter, X):
    fitted = clone(segmenter).fit(X)
    return fitted, fitted.predict(X)


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
def test_fit_returns_self_and_keeps_params(segmenter, stack):
    fresh = clone(segmenter)
    params = fresh.get_params()
    assert fresh.fit(stack) is fresh
    check_is_fitted(fresh)
    assert fresh.get_params() == params  # check_dont_overwrite_parameters


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
def test_pickle_round_trip_predicts_the_same(segmenter, stack):
    fitted, masks = _fit_predict(segmenter, stack)
    assert masks.any()  # a check on empty masks would prove little
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(stack), masks)


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
def test_fit_is_idempotent(segmenter, stack):
    fitted, masks = _fit_predict(segmenter, stack)
    np.testing.assert_array_equal(fitted.fit(stack[::-1]).fit(stack).predict(stack), masks)


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
def test_predict_is_subset_and_order_invariant(segmenter, stack):
    fitted, masks = _fit_predict(segmenter, stack)
    np.testing.assert_array_equal(fitted.predict(stack[2:5]), masks[2:5])
    order = np.random.default_rng(0).permutation(len(stack))
    np.testing.assert_array_equal(fitted.predict(stack[order]), masks[order])


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
def test_read_only_and_fortran_ordered_input(segmenter, stack):
    _, masks = _fit_predict(segmenter, stack)
    read_only = stack.copy()
    read_only.flags.writeable = False
    _, got = _fit_predict(segmenter, read_only)
    np.testing.assert_array_equal(got, masks)
    np.testing.assert_array_equal(_fit_predict(segmenter, np.asfortranarray(stack))[1], masks)


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
def test_predict_leaves_the_estimator_unchanged(segmenter, stack):
    fitted, _ = _fit_predict(segmenter, stack)
    before = {k: copy.deepcopy(v) for k, v in fitted.__dict__.items()}
    fitted.predict(stack)
    assert fitted.__dict__.keys() == before.keys()
    for key, value in before.items():
        np.testing.assert_equal(fitted.__dict__[key], value, err_msg=key)


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtypes_give_the_same_masks(segmenter, dtype, stack):
    _, masks = _fit_predict(segmenter, stack)
    np.testing.assert_array_equal(_fit_predict(segmenter, stack.astype(dtype))[1], masks)
