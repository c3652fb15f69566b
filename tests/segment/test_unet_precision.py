"""UNetSegmenter(precision=...): bfloat16 autocast in training and prediction, or float32."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from _unet_discs import TINIEST, TINY, make_discs

from skcardio.metrics import dice_score
from skcardio.segment import UNetSegmenter, _unet_net
from skcardio.segment._unet_inference import folded
from skcardio.segment._unet_net import autocast_dtype, precision_context


def test_autocast_dtype():
    assert autocast_dtype("float32") is None
    assert autocast_dtype("bfloat16") is torch.bfloat16


def test_context_computes_convolutions_in_bfloat16_and_returns_float32_logits():
    net = _unet_net.UNet(base_channels=4, depth=2).eval()
    seen = []
    net.encoders[0][0].register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    x = torch.rand(1, 1, 16, 16)
    with torch.inference_mode():
        plain = net(x)
        with precision_context("bfloat16", "cpu"):
            mixed = net(x)
    assert seen == [torch.float32, torch.bfloat16]
    assert plain.dtype == mixed.dtype == torch.float32
    assert not torch.equal(plain, mixed) and torch.allclose(plain, mixed, atol=0.1)


def _conv_dtypes(model: UNetSegmenter, call) -> set:
    """The dtypes of the first convolution's outputs while ``call()`` runs.

    Prediction runs the copy with batch norm folded in (``folded``), cached per trained module.
    """
    seen = set()
    network = folded(model.net_.module_)
    hook = network.encoders[0][0].register_forward_hook(lambda m, a, out: seen.add(out.dtype))
    try:
        call()
    finally:
        hook.remove()
    return seen


@pytest.mark.parametrize("precision, dtype", [("bfloat16", torch.bfloat16), ("float32", torch.float32)])
def test_fit_trains_in_the_precision_asked_for(precision, dtype, discs, monkeypatch):
    X, y = discs
    seen = set()
    original = _unet_net.UNet.__init__

    def spying_init(self, *args, **kwargs):  # hook every network fit builds
        original(self, *args, **kwargs)
        self.encoders[0][0].register_forward_hook(lambda m, a, out: seen.add(out.dtype))

    monkeypatch.setattr(_unet_net.UNet, "__init__", spying_init)
    UNetSegmenter(**{**TINIEST, "precision": precision}).fit(X[:8], y[:8])
    assert seen == {dtype}


def test_prediction_follows_the_precision_set_after_fit(discs):
    X, y = discs
    model = UNetSegmenter(**{**TINIEST, "precision": "float32"}).fit(X[:8], y[:8])
    assert _conv_dtypes(model, lambda: model.predict_proba(X[:2])) == {torch.float32}
    exact = model.predict_proba(X[:2])
    mixed = copy.deepcopy(model).set_params(precision="bfloat16")
    assert _conv_dtypes(mixed, lambda: mixed.predict_proba(X[:2])) == {torch.bfloat16}
    approx = mixed.predict_proba(X[:2])
    assert approx.dtype == np.float32 and not np.array_equal(exact, approx)
    np.testing.assert_allclose(approx, exact, atol=0.05)


def test_precision_is_saved_with_the_model(discs, tmp_path):
    X, y = discs
    model = UNetSegmenter(**{**TINIEST, "precision": "bfloat16"}).fit(X[:8], y[:8])
    model.save(tmp_path / "m.pt")
    loaded = UNetSegmenter.load(tmp_path / "m.pt")
    assert loaded.precision == "bfloat16"
    np.testing.assert_array_equal(loaded.predict_proba(X[:2]), model.predict_proba(X[:2]))


def test_files_written_before_precision_existed_load_as_float32(discs, tmp_path):
    X, y = discs
    model = UNetSegmenter(**TINIEST).fit(X[:8], y[:8])
    model.save(tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    params = json.loads(payload["params"])
    del params["precision"]
    payload["params"] = json.dumps(params)
    torch.save(payload, tmp_path / "old.pt")
    assert UNetSegmenter.load(tmp_path / "old.pt").precision == "float32"


def test_bfloat16_training_learns_the_discs():
    # With autocast's weight cache, a bfloat16 fit ran every step on the first step's weights:
    # Dice 0.00-0.10 here, where float32 reaches 0.94 (benchmarks/bench_precision_discs.py).
    X, y = make_discs(32, seed=0)
    X_test, y_test = make_discs(16, seed=1)
    model = UNetSegmenter(**TINY, max_epochs=20, validation_fraction=None, precision="bfloat16").fit(X, y)
    assert dice_score(y_test, model.predict(X_test)) > 0.85


def test_the_weights_the_network_sees_follow_the_optimizer_inside_one_context():
    net = _unet_net.UNet(base_channels=4, depth=2)
    x = torch.rand(1, 1, 16, 16)
    with precision_context("bfloat16", "cpu"):
        before = net(x)
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.zero_()
        after = net(x)
    assert not torch.equal(before, after) and not after.any()


def test_pickles_from_before_precision_existed_predict_in_float32(discs):
    X, y = discs
    model = UNetSegmenter(**TINIEST).fit(X[:8], y[:8])
    state = model.__getstate__()
    del state["precision"]
    restored = UNetSegmenter.__new__(UNetSegmenter)
    restored.__setstate__(state)
    assert restored.precision == "float32"
    np.testing.assert_array_equal(restored.predict_proba(X[:2]), model.predict_proba(X[:2]))
