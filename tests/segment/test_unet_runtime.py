"""The U-Net without skorch: the net a model file is loaded into under ``python -OO``, skorch on demand.

The real ``-OO`` runs (import, pretrained prediction, save and load, the
error of fit) are in tests/test_optimized.py; these pin the pieces in a
normal interpreter.
"""

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from skcardio.segment import UNetSegmenter, _unet_runtime
from skcardio.segment._unet_runtime import InferenceNet, build_loaded_net, import_skorch


@pytest.mark.parametrize("target", ["endocardium", "both"])
def test_inference_net_predicts_as_the_skorch_net(target):
    model = UNetSegmenter(depth=2, base_channels=4, batch_size=3, target=target)
    torch.manual_seed(0)
    net = build_loaded_net(model, n_channels=1, device="cpu")  # skorch's (normal interpreter)
    assert type(net).__name__ == "_InterruptibleNet"
    plain = InferenceNet(
        type(net.module_)(in_channels=1, base_channels=4, depth=2, out_channels=net.module_.out_channels),
        batch_size=3,
        device="cpu",
    )
    plain.module_.load_state_dict(net.module_.state_dict())
    X = torch.from_numpy(np.random.default_rng(0).normal(size=(7, 1, 16, 16)).astype(np.float32))
    net.module_.train()  # forward must switch to eval mode (batch norm's running statistics)
    plain.module_.train()
    expected = net.forward(X, training=False, device="cpu")
    got = plain.forward(X, training=False, device="cpu")
    assert got.shape == expected.shape == ((7, 16, 16) if target == "endocardium" else (7, 2, 16, 16))
    assert torch.equal(got, expected)
    assert not plain.module_.training and not got.requires_grad
    assert plain.history.to_list() == [] and plain.initialize() is plain


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
