import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import TABLE_CHECKS, TRANSFORMER_TABLE_CHECKS, claiming_2d

from skcardio.preprocessing import RegionSelector

_TABULAR = "RegionSelector takes [image, region] arrays (n, 2, H, W); the check feeds 2-D tabular data"
EXPECTED_FAILURES = {
    name: _TABULAR
    for name in [
        *TABLE_CHECKS, *TRANSFORMER_TABLE_CHECKS,
        "check_positive_only_tag_during_fit", "check_fit2d_1sample", "check_fit2d_1feature",
        "check_transformers_unfitted_stateless",
    ]
}


@parametrize_with_checks([claiming_2d(RegionSelector)()], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _pairs():
    X = np.zeros((2, 2, 3, 4), np.float32)
    X[:, 0] = np.arange(12).reshape(3, 4)
    X[0, 1, 1, 1:3] = 1
    X[1, 1, 0, 0] = 1
    return X


def test_nan_outside_region():
    out = RegionSelector().fit_transform(_pairs())
    assert out.shape == (2, 3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(out[0]), [[1, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 1]])
    assert out[0, 1, 1] == 5 and out[0, 1, 2] == 6
    assert np.isnan(out[1]).sum() == 11 and out[1, 0, 0] == 0


def test_fill_value_and_input_untouched():
    X = _pairs()
    copy = X.copy()
    out = RegionSelector(fill_value=-1).fit_transform(X)
    assert (out[0][~(X[0, 1] > 0.5)] == -1).all()
    np.testing.assert_array_equal(X, copy)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.uint8, bool])
def test_any_real_dtype_gives_float32_with_region_pixels_kept(dtype):
    rng = np.random.default_rng(0)
    X = np.stack([rng.integers(0, 2 if dtype is bool else 200, (3, 5, 6)),
                  rng.random((3, 5, 6)) > 0.5], axis=1).astype(dtype)
    out = RegionSelector().fit_transform(X)
    inside = X[:, 1] > 0.5
    assert out.dtype == np.float32 and out.shape == (3, 5, 6)
    np.testing.assert_array_equal(np.isnan(out), ~inside)
    np.testing.assert_array_equal(out[inside], X[:, 0][inside].astype(np.float32))


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 3, 4), (2, 2, 3)])
def test_bad_shape(shape):
    with pytest.raises(ValueError, match=r"expected \[image, region\] arrays of shape \(n, 2, H, W\)"):
        RegionSelector().fit(np.zeros(shape))


def test_clone_pickle_stateless():
    sel = RegionSelector(fill_value=0.0)
    assert clone(sel).fill_value == 0.0
    # Stateless, like FunctionTransformer: transform works before fit, with the same result.
    np.testing.assert_array_equal(sel.transform(_pairs()), clone(sel).fit(_pairs()).transform(_pairs()))
    fitted = pickle.loads(pickle.dumps(sel.fit(_pairs())))
    assert fitted.n_features_in_ == 2


def test_infinite_outside_region_becomes_fill_value():
    X = _pairs()
    X[0, 0, 0, 0] = np.inf  # outside slice 0's region
    out = RegionSelector().fit_transform(X)
    assert np.isnan(out[0, 0, 0])


def test_infinite_inside_region_is_refused_by_the_segmenter():
    # RegionSelector checks shape and type only; the segmenter reads the
    # region's pixels and refuses infinite ones.
    from sklearn.pipeline import make_pipeline

    from skcardio.segment import ThresholdSegmenter

    X = _pairs()
    X[0, 0, 1, 1] = np.inf  # inside slice 0's region
    pipe = make_pipeline(RegionSelector(), ThresholdSegmenter()).fit(X)
    with pytest.raises(ValueError, match="infinite"):
        pipe.predict(X)


def test_sparse_complex_empty_are_refused():
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse input is not supported"):
        RegionSelector().fit(sparse.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="Complex data not supported"):
        RegionSelector().fit(_pairs().astype(complex))
    with pytest.raises(ValueError, match="0 sample"):
        RegionSelector().fit(np.zeros((0, 2, 3, 4)))
    with pytest.raises(ValueError, match="expected a numeric array"):
        RegionSelector().fit(np.full((1, 2, 2, 2), "a"))


def test_tags_describe_the_behaviour():
    from sklearn.utils import get_tags

    tags = get_tags(RegionSelector())
    assert not tags.requires_fit and not tags.input_tags.two_d_array and tags.input_tags.allow_nan
    # The only dtype kept is float32: float64 comes out as float32.
    assert tags.transformer_tags.preserves_dtype == ["float32"]
    for dtype in (np.float32, np.float64):
        assert RegionSelector().transform(_pairs().astype(dtype)).dtype == np.float32


@pytest.mark.parametrize("value", ["x", None, 1e40, True])
def test_fill_value_checked(value):
    # Was: 'x' failed in transform with numpy's message, None became NaN, 1e40 became inf.
    for call in (RegionSelector(fill_value=value).fit, RegionSelector(fill_value=value).transform):
        with pytest.raises(ValueError, match="fill_value must be a number that float32 can hold"):
            call(_pairs())


@pytest.mark.parametrize("value", [0, -1.5, np.inf, np.float32(3)])
def test_fill_value_numbers_accepted(value):
    out = RegionSelector(fill_value=value).fit_transform(_pairs())
    assert out[0, 0, 0] == np.float32(value)
