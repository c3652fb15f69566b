"""Fast U-Net inference: folded batch norm gives the trained network's probabilities, without side effects."""

from __future__ import annotations

import copy
import pickle
from functools import partial

import numpy as np
import pytest
import torch

from skcardio.segment import UNetSegmenter, _unet_inference
from skcardio.segment._unet_data import pad_to_multiple, robust_scale
from skcardio.segment._unet_inference import fold_batch_norm, network_proba
from skcardio.segment._unet_net import UNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: Folding reorders float32 arithmetic: probabilities agree to rounding, not bit for bit.
ROUNDING = 1e-5


def _skorch_proba(model: UNetSegmenter, X: np.ndarray) -> np.ndarray:
    """The probabilities of the unfolded network through skorch, as prediction computed them before."""
    padded, (height, width) = pad_to_multiple(robust_scale(model._check_images(X)), model._multiple)
    with torch.random.fork_rng(devices=[]):
        logits = model.net_.forward(torch.from_numpy(np.ascontiguousarray(padded)), training=False, device="cpu")
    return torch.sigmoid(logits).numpy()[..., :height, :width]


def _trained_looking_unet(seed: int = 0) -> UNet:
    """A small U-Net whose batch norms have non-trivial statistics and affine weights."""
    torch.manual_seed(seed)
    net = UNet(base_channels=4, depth=3)
    net.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics away from (0, 1)
            net(3 * torch.rand(4, 1, 32, 32) + 1)
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 2.0)
                module.bias.uniform_(-0.5, 0.5)
    return net.eval()


def test_folding_removes_every_batch_norm_and_keeps_the_function():
    net = _trained_looking_unet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    folded = fold_batch_norm(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert not folded.training and not any(p.requires_grad for p in folded.parameters())
    x = 3 * torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(1)) + 1
    with torch.no_grad():
        expected = net(x)
    np.testing.assert_allclose(folded(x).detach().numpy(), expected.numpy(), atol=1e-4, rtol=1e-4)
    # The trained module is not changed (it is what save() writes).
    assert net.state_dict().keys() == before.keys()
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


def test_fitted_probabilities_agree_with_the_unfolded_network(fitted, discs):
    X, _ = discs
    np.testing.assert_allclose(fitted.predict_proba(X), _skorch_proba(fitted, X), atol=ROUNDING, rtol=0)


def test_pretrained_probabilities_and_masks_agree_with_the_unfolded_network():
    from skcardio.datasets import load_sample

    model = UNetSegmenter.pretrained()
    images = load_sample().images[:3]
    proba = model.predict_proba(images)
    expected = _skorch_proba(model, images)
    np.testing.assert_allclose(proba, expected, atol=ROUNDING, rtol=0)
    raw = copy.deepcopy(model).set_params(postprocess=False)
    np.testing.assert_array_equal(raw.predict(images), expected > model.threshold)


def test_batches_and_padding_do_not_change_probabilities(fitted, discs, monkeypatch):
    X, _ = discs
    X = X[:7, :60, :62]  # padded to 64 x 64
    whole = fitted.predict_proba(X)
    monkeypatch.setattr(_unet_inference, "BATCH_PIXELS", 3 * 64 * 64)  # batches of 3, 3 and 1
    # oneDNN's kernels depend on the batch size: equal to rounding.
    np.testing.assert_allclose(fitted.predict_proba(X), whole, atol=ROUNDING, rtol=0)
    assert whole.shape == (7, 60, 62)
    np.testing.assert_allclose(whole, _skorch_proba(fitted, X), atol=ROUNDING, rtol=0)


def test_network_proba_gives_one_probability_map_per_image():
    net = _trained_looking_unet()
    images = np.random.default_rng(0).random((5, 1, 32, 32), dtype=np.float32)
    proba = network_proba(net, images)
    assert proba.shape == (5, 32, 32) and proba.dtype == np.float32
    assert 0 < proba.min() and proba.max() < 1


def test_prediction_leaves_global_random_state_and_the_model_alone(fitted, discs):
    X, _ = discs
    weights = {k: v.clone() for k, v in fitted.net_.module_.state_dict().items()}
    attributes = set(vars(fitted))
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    fitted.predict_with_proba(X[:4])
    copy.deepcopy(fitted).set_params(tta=True, refine=True).predict(X[:4])
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state))
    # Nothing is cached on the estimator (nothing stale to pickle or save) and the weights are untouched.
    assert set(vars(fitted)) == attributes
    assert all(torch.equal(v, weights[k]) for k, v in fitted.net_.module_.state_dict().items())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in fitted.net_.module_.modules())


def test_a_model_that_predicted_round_trips_save_load_and_pickle(fitted, discs, tmp_path):
    X, _ = discs
    proba = fitted.predict_proba(X[:4])
    fitted.save(tmp_path / "model.pt")
    loaded = UNetSegmenter.load(tmp_path / "model.pt")
    np.testing.assert_array_equal(loaded.predict_proba(X[:4]), proba)
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert any(".running_mean" in key for key in payload["state_dict"])  # the unfolded weights
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X[:4]), proba)


@pytest.mark.filterwarnings("ignore::skcardio.exceptions.DegenerateModelWarning")  # one epoch
def test_refitting_predicts_with_the_new_weights(discs):
    # The folded copy is rebuilt from the current weights: never stale after a refit.
    X, y = discs
    model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, random_state=0)
    first = model.fit(X[:8], y[:8]).predict_proba(X[:2])
    second = model.set_params(random_state=1).fit(X[:8], y[:8]).predict_proba(X[:2])
    assert not np.array_equal(first, second)
    np.testing.assert_allclose(second, _skorch_proba(model, X[:2]), atol=ROUNDING, rtol=0)


def test_the_folded_copy_is_reused_until_a_weight_changes():
    from skcardio.segment._unet_inference import folded

    net = _trained_looking_unet()
    first = folded(net)
    assert folded(net) is first
    images = np.random.default_rng(0).random((2, 1, 32, 32), dtype=np.float32)
    before = network_proba(net, images)
    with torch.no_grad():
        next(net.parameters()).data.mul_(2)  # in place, through .data: no version counter notices
    second = folded(net)
    assert second is not first
    assert not np.allclose(network_proba(net, images), before)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.fill_(4.0)  # a buffer counts too
            break
    assert folded(net) is not second


def _whole_input_proba(model: UNetSegmenter, X: np.ndarray, monkeypatch) -> np.ndarray:
    """Probabilities as prediction computed them before it scaled batch by batch (no refine, no offset).

    The whole input scaled at once (one chunk), padded, and each flip of the
    whole through :func:`network_proba`, which makes the same batches.
    """
    from skcardio.segment import _unet_data

    with monkeypatch.context() as patch:
        patch.setattr(_unet_data, "SCALE_CHUNK_PIXELS", 2**62, raising=False)
        scaled = robust_scale(model._check_images(X))
    padded, (height, width) = pad_to_multiple(scaled, model._multiple)
    flips = [(), (-2,), (-1,), (-2, -1)] if model.tta else [()]
    proba = np.float32(0.0)
    for axes in flips:
        view = network_proba(model.net_.module_, np.flip(padded, axes) if axes else padded)
        proba += np.flip(view, axes) if axes else view
    proba = proba[..., :height, :width] / len(flips)
    proba[np.isnan(X.reshape(proba.shape)) if np.ndim(X) == 3 else np.isnan(X).any(axis=1)] = 0.0
    return proba


def _pretrained_inputs():
    """The embedded sample, some with NaN outside a box, and a cut that needs padding and a last batch of 1."""
    from skcardio.datasets import load_sample

    images = load_sample().images
    nan = images[:4].copy()
    nan[:, :40] = np.nan
    return {"sample": images[:8], "nan": nan, "padded": images[:5, 3:250, 5:201].astype(np.float64) * 1.7}


@pytest.mark.parametrize("tta", [False, True])
def test_pretrained_predictions_are_bit_identical_to_scaling_the_whole_input(tta, monkeypatch):
    """Scaling batch by batch (no float64 copy of the whole input) changes no probability nor mask."""
    model = copy.deepcopy(UNetSegmenter.pretrained()).set_params(tta=tta)
    assert not np.any(model.label_offset_)  # the reference applies no offset
    for name, images in _pretrained_inputs().items():
        if tta:
            images = images[:3]  # four passes per image
        expected = _whole_input_proba(model, images, monkeypatch)
        masks, proba = model.predict_with_proba(images)
        np.testing.assert_array_equal(proba, expected, err_msg=name)
        if not tta:
            np.testing.assert_array_equal(model.predict_proba(images), expected, err_msg=name)
            np.testing.assert_array_equal(model.predict(images), masks, err_msg=name)
            raw = copy.deepcopy(model).set_params(postprocess=False)
            inside = ~np.isnan(images)
            np.testing.assert_array_equal(raw.predict(images), (expected > model.threshold) & inside, err_msg=name)


def test_shared_slices_are_predicted_bit_identically_to_scaling_the_whole_input(shared_data_root, monkeypatch):
    from skcardio.datasets import load_dataset

    model = UNetSegmenter.pretrained()
    images = load_dataset(shared_data_root).images[::8]  # 12 slices of 5 patients
    np.testing.assert_array_equal(model.predict_proba(images), _whole_input_proba(model, images, monkeypatch))


def test_prediction_makes_no_scaled_copy_of_the_whole_input(monkeypatch):
    """predict_proba holds its result and a few masks of the input, not 3 times the input more.

    The input was scaled all at once in float64 (a 262 MB input cost 786 MB more).
    """
    from _memory import traced_peak

    from skcardio.datasets import load_sample

    model = UNetSegmenter.pretrained()
    images = load_sample().images
    images = np.concatenate([images, images[:9, ::-1]])  # 24 images, one per batch: a batch's
    monkeypatch.setattr(_unet_inference, "BATCH_PIXELS", 256 * 256)  # temporaries are small beside them
    size = images.nbytes
    model.predict_proba(images[:1])  # the folded network is built once, not in the measure
    peaks = {}
    for method in ("predict_proba", "predict"):
        peaks[method] = traced_peak(partial(getattr(model, method), images))[1] / size
    # The result (1x for probabilities, 0.25x for masks), NaN masks of the input and a batch's temporaries.
    assert peaks["predict_proba"] < 2.0 and peaks["predict"] < 2.5, peaks
