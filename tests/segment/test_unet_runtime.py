"""The U-Net without skorch: the net a model file is loaded into under ``python -OO``, skorch on demand.

The real ``-OO`` runs (import, pretrained prediction, save and load, the
error of fit) are in tests/test_optimized.py; these pin the pieces in a
normal interpreter.
"""

import copy
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from skcardio.datasets import load_sample
from skcardio.segment import UNetSegmenter, _unet_runtime
from skcardio.segment._unet_runtime import InferenceNet, import_skorch


def test_inference_net_predicts_as_the_skorch_net():
    model = UNetSegmenter.pretrained()
    assert type(model.net_).__name__ == "_LoadedNet"  # skorch's, for prediction (normal interpreter)
    trained = model.net_.module_
    module = type(trained)(
        in_channels=model.n_channels_,
        base_channels=model.base_channels,
        depth=model.depth,
        out_channels=trained.out_channels,
    )
    module.load_state_dict(trained.state_dict())
    plain = copy.copy(model)
    plain.net_ = InferenceNet(module, device="cpu")
    X = load_sample().images[:3]
    expected = model.predict_proba(X)
    got = plain.predict_proba(X)
    assert got.shape == expected.shape == X.shape
    np.testing.assert_array_equal(got, expected)
    assert plain.net_.history.to_list() == [] and plain.net_.initialize() is plain.net_


def test_import_skorch_names_python_OO(monkeypatch):
    def fails(name):
        raise AttributeError("'NoneType' object has no attribute 'split'")

    monkeypatch.setattr(_unet_runtime.importlib, "import_module", fails)
    monkeypatch.setattr(sys, "flags", SimpleNamespace(optimize=2))
    with pytest.raises(ImportError, match=r"cannot be imported under python -OO .* run Python without -OO"):
        import_skorch()
    # Without -OO the error is skorch's own: nothing to explain.
    monkeypatch.setattr(sys, "flags", SimpleNamespace(optimize=0))
    with pytest.raises(AttributeError, match="NoneType"):
        import_skorch()
