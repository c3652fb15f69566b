"""scikit-learn's estimator checks for the classical segmenters.

The segmenters take stacks of images ``(n, H, W)`` and say so in their tags
(``input_tags.two_d_array=False``, ``three_d_array=True``). For such tags
``parametrize_with_checks`` runs no check at all, so the checks run on
subclasses that claim 2-D support; every check that feeds a 2-D table
``(n_samples, n_features)`` then fails with the segmenters' own "expected
images of shape (n, H, W)" error, and is listed below with that reason.
What remains (cloning, ``get_params``/``set_params``, ``__init__`` storing
arguments only, repr, tags, mixin order, unfitted errors, 1-D input errors,
complex and sparse input rejected with a clear message) must pass. The real
behaviour on images is tested in the other modules.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import TABLE_CHECKS

from skcardio.segment import KMeansSegmenter, RegionGrowingSegmenter, ThresholdSegmenter


def _claiming_2d(cls):
    """Subclass of ``cls`` whose tags claim 2-D input, so that the checks run."""

    def __sklearn_tags__(self):
        tags = super(checked, self).__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags

    checked = type(cls.__name__, (cls,), {"__sklearn_tags__": __sklearn_tags__})
    return checked


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
    return failed


@parametrize_with_checks(
    [
        _claiming_2d(ThresholdSegmenter)(),
        _claiming_2d(KMeansSegmenter)(random_state=0),
        _claiming_2d(RegionGrowingSegmenter)(),
    ],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
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
