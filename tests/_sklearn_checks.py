"""scikit-learn estimator checks that feed a 2-D table ``(n_samples, n_features)``.

skcardio's estimators take image stacks, slice records or ``[image, region]``
arrays, so each of these checks fails with the estimator's own input error.
Every test module that runs ``parametrize_with_checks`` lists them as expected
failures, with a reason that names its estimator's real input.

The estimators' tags say they do not take 2-D tables
(``input_tags.two_d_array=False``), and for such tags
``parametrize_with_checks`` runs no check at all; :func:`claiming_2d` makes a
subclass that claims 2-D input so that the checks run (and the table checks
fail with the estimator's own input error, listed as expected).
"""


def claiming_2d(cls):
    """Subclass of ``cls`` whose tags claim 2-D input, so that sklearn's checks run."""

    def __sklearn_tags__(self):
        tags = super(checked, self).__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags

    checked = type(cls.__name__, (cls,), {"__sklearn_tags__": __sklearn_tags__})
    return checked

TABLE_CHECKS = (
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
)

# Run only on transformers (DicomLoader, RegionSelector).
TRANSFORMER_TABLE_CHECKS = (
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
)
