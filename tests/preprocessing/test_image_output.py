"""set_output of skcardio's transformers: NumPy image stacks only, so that Pipeline.set_output works."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.utils._set_output import _safe_set_output

import skcardio.preprocessing
from skcardio.preprocessing import DicomLoader, PredictedRegion, RegionSelector
from skcardio.segment import ThresholdSegmenter, make_classical_pipeline

TRANSFORMERS = [DicomLoader(), RegionSelector(), PredictedRegion(model=None)]


def test_every_transformer_of_skcardio_is_covered():
    transformers = {
        name
        for name in skcardio.preprocessing.__all__
        if issubclass(getattr(skcardio.preprocessing, name), TransformerMixin)
    }
    assert transformers == {type(step).__name__ for step in TRANSFORMERS}


@pytest.mark.parametrize("step", TRANSFORMERS, ids=lambda step: type(step).__name__)
@pytest.mark.parametrize("transform", [None, "default"])
def test_default_output_is_accepted_and_changes_nothing(step, transform):
    # scikit-learn's meta-estimators call it through _safe_set_output, which refused
    # "Unable to configure output for RegionSelector() because `set_output` is not available".
    params = step.get_params()
    assert step.set_output(transform=transform) is step
    assert _safe_set_output(step, transform=transform) is step
    assert step.get_params() == params


@pytest.mark.parametrize("step", TRANSFORMERS, ids=lambda step: type(step).__name__)
@pytest.mark.parametrize("transform", ["pandas", "polars"])
def test_table_output_is_refused_naming_the_transformer(step, transform):
    name = type(step).__name__
    with pytest.raises(ValueError, match=rf"^{name}.set_output\(transform='{transform}'\): .*not tables"):
        step.set_output(transform=transform)


@pytest.mark.parametrize("transform", ["Default", "numpy", 1])
def test_unknown_output_is_refused(transform):
    with pytest.raises(ValueError, match=r"transform must be 'default', 'pandas', 'polars' or None, got"):
        RegionSelector().set_output(transform=transform)


class _Everywhere(BaseEstimator):
    """A stand-in epicardium model whose region is the whole image."""

    target = "epicardium"

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.ones(np.shape(X), bool)


@pytest.mark.parametrize("transform", [None, "default"])
def test_pipeline_set_output_default_works(transform):
    from skcardio.datasets import load_sample

    data = load_sample(require="o-contour")
    pairs = DicomLoader(region="o-contour").fit_transform(data.frame)
    classical = make_classical_pipeline().set_output(transform=transform)
    np.testing.assert_array_equal(classical.fit(pairs).predict(pairs), make_classical_pipeline().fit(pairs).predict(pairs))
    loading = make_pipeline(DicomLoader(region="o-contour"), RegionSelector(), ThresholdSegmenter())
    assert loading.set_output(transform=transform).fit(data.frame).predict(data.frame).shape == data.y.shape
    predicted = make_pipeline(PredictedRegion(_Everywhere().fit(None)), RegionSelector(), ThresholdSegmenter())
    assert predicted.set_output(transform=transform).fit(data.images).predict(data.images).shape == data.y.shape


def test_pipeline_set_output_pandas_names_the_step():
    with pytest.raises(ValueError, match=r"^RegionSelector.set_output\(transform='pandas'\)"):
        make_classical_pipeline().set_output(transform="pandas")
