"""UNetSegmenter's model file: save / load round trips, atomic writes, refused and damaged files."""

from __future__ import annotations

import copy
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from _unet_discs import make_discs

from skcardio.exceptions import DeviceWarning, SkcardioError
from skcardio.metrics import dice_score
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_file import PRETRAINED

# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_save_load_roundtrip(fitted, discs, tmp_path):
    X, _ = discs
    path = tmp_path / "model.pt"
    fitted.save(path)
    state = torch.get_rng_state()
    loaded = UNetSegmenter.load(path)
    # Building the network draws initial weights: inside a fork of PyTorch's RNG.
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(loaded.predict(X[:4]), fitted.predict(X[:4]))
    np.testing.assert_allclose(loaded.predict_proba(X[:4]), fitted.predict_proba(X[:4]), atol=1e-6)
    assert loaded.get_params() == fitted.get_params()  # device="auto" included
    assert len(loaded.net_.history) == len(fitted.net_.history)
    assert loaded.best_epoch_ == fitted.best_epoch_
    assert (loaded.depth_, loaded.crop_size_) == (fitted.depth_, fitted.crop_size_)


def test_loading_builds_no_optimizer_and_refits_build_a_new_net(fitted, discs, tmp_path):
    # Building any torch.optim optimizer imports torch._dynamo (about a second
    # per CLI call); prediction never steps one.
    import subprocess
    import sys

    code = (
        "import sys; from skcardio.segment import UNetSegmenter; import numpy as np; "
        "m = UNetSegmenter.pretrained(); m.predict(np.zeros((1, 64, 64), np.float32)); "
        "assert m.net_.optimizer_ is None; assert 'torch._dynamo' not in sys.modules, 'dynamo imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    X, y = discs
    fitted.save(tmp_path / "model.pt")
    loaded = UNetSegmenter.load(tmp_path / "model.pt")
    before = loaded.predict_proba(X[:2])
    for train in (loaded.net_.fit, loaded.net_.partial_fit):
        with pytest.raises(SkcardioError, match="for prediction only .* call UNetSegmenter.fit"):
            train(X[:2], y[:2])
    # skorch's fit re-initialises the module first: the refusal comes before it.
    np.testing.assert_array_equal(loaded.predict_proba(X[:2]), before)
    loaded.set_params(max_epochs=1).fit(X[:4], y[:4])  # a new net, with its optimizer
    assert loaded.net_.optimizer_ is not None and len(loaded.net_.history) == 1


def test_label_offset_survives_save_and_load_and_old_files_have_none(fitted, discs, saved_payload, tmp_path):
    X, _ = discs
    shifted = copy.deepcopy(fitted)
    shifted.label_offset_ = np.array([[1.25, -0.5]])
    shifted.save(tmp_path / "shifted.pt")
    loaded = UNetSegmenter.load(tmp_path / "shifted.pt")
    np.testing.assert_array_equal(loaded.label_offset_, [[1.25, -0.5]])
    np.testing.assert_array_equal(loaded.predict_proba(X[:2]), shifted.predict_proba(X[:2]))
    assert not np.array_equal(loaded.predict_proba(X[:2]), fitted.predict_proba(X[:2]))
    # A file from before the offset: neither the parameter nor the entry (the shipped model's case).
    old = _edit_params({k: v for k, v in saved_payload.items() if k != "label_offset"}, correct_offset=_DROP)
    torch.save(old, tmp_path / "old.pt")
    loaded_old = UNetSegmenter.load(tmp_path / "old.pt")
    assert loaded_old.correct_offset is False
    np.testing.assert_array_equal(loaded_old.label_offset_, [[0.0, 0.0]])


def test_save_refuses_an_offset_that_load_would_refuse(fitted, tmp_path):
    bad = copy.deepcopy(fitted)
    for offset in ([[12.0, 0.0]], [[np.nan, 0.0]], [[0.0, 0.0], [0.0, 0.0]]):
        bad.label_offset_ = np.array(offset)
        with pytest.raises(SkcardioError, match=r"not saved: label_offset_ must be 1 \(row, col\) pairs"):
            bad.save(tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


def test_save_stores_the_fitted_network_not_pending_set_params(fitted, tmp_path):
    # set_params of the architecture only affects the next fit; save stored the
    # new values, so load failed (depth, base_channels) or refined with another
    # window (crop_size).
    X, _ = make_discs(3, size=72, seed=2)
    X[0] = np.where(X[0] > np.percentile(X[0], 99), X[0].max(), np.median(X[0]))  # a small pool: refined
    changed = copy.deepcopy(fitted).set_params(depth=2, base_channels=4, crop_size=16, threshold=0.4)
    expected_proba, expected = changed.predict_proba(X), changed.predict(X)
    changed.save(tmp_path / "model.pt")
    loaded = UNetSegmenter.load(tmp_path / "model.pt")
    np.testing.assert_allclose(loaded.predict_proba(X), expected_proba, atol=1e-6)
    np.testing.assert_array_equal(loaded.predict(X), expected)
    fit_time = (fitted.depth_, fitted.base_channels_, fitted.crop_size_)
    assert fit_time == (3, 8, 48)
    assert (loaded.depth_, loaded.base_channels_, loaded.crop_size_) == fit_time
    assert (loaded.depth, loaded.base_channels, loaded.crop_size) == fit_time
    assert loaded.threshold == 0.4  # prediction-time parameters are saved as they are


def test_save_stores_numpy_parameters(fitted, tmp_path):
    # A zoom_range given as an array trained, then save raised TypeError.
    model = copy.deepcopy(fitted).set_params(zoom_range=np.array([0.9, 1.1]), rotation=np.float32(5))
    model.save(tmp_path / "model.pt")
    loaded = UNetSegmenter.load(tmp_path / "model.pt")
    assert loaded.zoom_range == (0.9, 1.1)  # as a zoom_range given as a tuple loads
    assert loaded.rotation == 5.0


def test_load_accepts_a_crop_size_allowed_when_it_was_saved(saved_payload, tmp_path):
    # Files of earlier versions may have crop_size == 2 ** (depth - 1); they predict fine.
    path = tmp_path / "old.pt"
    torch.save(_edit_params(dict(saved_payload), crop_size=4), path)
    assert UNetSegmenter.load(path).crop_size_ == 4


class _Exploit:
    """Unpickling this object creates a directory: a stand-in for running any code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (str(self.marker),)


def test_load_refuses_pickled_code(tmp_path):
    marker = tmp_path / "code-was-executed"
    path = tmp_path / "evil.pt"
    torch.save({"format": "skcardio.UNetSegmenter", "state_dict": _Exploit(marker)}, path)
    with pytest.raises(SkcardioError, match="refused to load") as error:
        UNetSegmenter.load(path)
    assert not marker.exists()
    message = str(error.value)
    # What was refused, but never torch's advice to retry with weights_only=False.
    assert "os.makedirs" in message and str(path) in message
    assert "weights_only" not in message and "trusted" not in message
    # The file really is malicious: an unsafe load runs the code.
    torch.load(path, weights_only=False)
    assert marker.is_dir()


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(SkcardioError, match="not a model file saved by UNetSegmenter.save .*format tag"):
        UNetSegmenter.load(path)
    for text in ("hello", "x", ""):
        (tmp_path / "text.pt").write_text(text)
        with pytest.raises(SkcardioError, match="text.pt: not a model file saved by UNetSegmenter.save "
                           "\\(not a torch file\\)$") as error:
            UNetSegmenter.load(tmp_path / "text.pt")
        assert "weights_only" not in str(error.value) and "run code" not in str(error.value)
    with zipfile.ZipFile(tmp_path / "archive.pt", "w") as archive:
        archive.writestr("notes.txt", "a zip, but not torch's")
    with pytest.raises(SkcardioError, match="archive.pt: not a model file .*damaged torch file"):
        UNetSegmenter.load(tmp_path / "archive.pt")
    with pytest.raises(SkcardioError, match="missing.pt: no such file"):
        UNetSegmenter.load(tmp_path / "missing.pt")
    with pytest.raises(SkcardioError, match="is a folder, expected a regular model file"):
        UNetSegmenter.load(tmp_path)


@pytest.fixture(scope="module")
def saved_payload(fitted, tmp_path_factory):
    """The dict that ``fitted.save`` writes, to be damaged by the tests."""
    path = tmp_path_factory.mktemp("saved") / "model.pt"
    fitted.save(path)
    return torch.load(path, weights_only=True)


#: A parameter value meaning "remove this parameter" for :func:`_edit_params`.
_DROP = object()


def _edit_params(payload, **changes):
    params = {**json.loads(payload["params"]), **changes}
    return {**payload, "params": json.dumps({k: v for k, v in params.items() if v is not _DROP})}


def _edit_state(payload, name, dtype):
    """``payload`` with the tensor ``name`` of its weights converted to ``dtype``."""
    return {**payload, "state_dict": {**payload["state_dict"], name: payload["state_dict"][name].to(dtype)}}


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: {k: v for k, v in p.items() if k != "params"}, "damaged model file: no 'params' entry"),
        (lambda p: {k: v for k, v in p.items() if k != "state_dict"}, "no 'state_dict' entry"),
        (lambda p: {**p, "params": "not json"}, "'params' is not valid JSON"),
        (lambda p: {**p, "params": "[1, 2]"}, "'params' holds a list, expected a dict"),
        (lambda p: {**p, "n_channels": "1"}, "'n_channels' is a str, expected an integer"),
        (lambda p: {**p, "history": "[1, 2]"}, "'history' must be a list of epoch records"),
        (lambda p: _edit_params(p, bogus=1), "parameters do not match UNetSegmenter's; unknown: bogus"),
        (lambda p: _edit_params(p, depth=_DROP), "parameters do not match UNetSegmenter's; missing: depth"),
        (lambda p: _edit_params(p, depth=0), "invalid parameter in the model file: depth must be"),
        (lambda p: _edit_params(p, device="tpu"),
         "invalid parameter in the model file: device must be 'auto', 'cpu' or 'cuda', got 'tpu'"),
        (lambda p: _edit_params(p, depth=2), "weights do not match the network described by the file "
                                             "\\(depth=2, base_channels=8, n_channels=1\\): unexpected \\(26\\)"),
        (lambda p: _edit_params(p, base_channels=4), "weights do not match .* wrong"),
        (lambda p: {**p, "n_channels": 3}, "weights do not match .*n_channels=3.*wrong .*\\(8, 3, 3, 3\\)"),
        (lambda p: {**p, "state_dict": {}}, "weights do not match .*missing"),
        (lambda p: {**p, "state_dict": {**p["state_dict"], "extra.weight": torch.zeros(1)}}, "unexpected"),
        (lambda p: {**p, "label_offset": [[1e9, 0.0]]}, r"label_offset must be 1 \(row, col\) pairs .*within \+-8"),
        (lambda p: {**p, "label_offset": [[0.5, 0.5], [0.0, 0.0]]}, "label_offset must be 1 "),
        (lambda p: {**p, "label_offset": "up"}, "label_offset must be .*got up"),
        # The refine pass divides by typical_area: NaN or a negative value silently disabled it, 1e308 zoomed
        # every pool, an integer beyond a float raised OverflowError.
        *((lambda p, v=value: {**p, "typical_area": v}, "damaged model file: typical_area is " + shown +
           ", expected the median blood-pool area of the training masks: a finite number of pixels >= 0")
          for value, shown in ((float("nan"), "nan"), (-1.0, "-1.0"), (-3, "-3.0"), (float("inf"), "inf"),
                               (10**400, "an integer of 1329 bits"))),
        (lambda p: {**p, "typical_area": 1e308}, "typical_area, the median blood-pool area of the training masks, "
         "of 1e\\+308 pixels exceeds the limit max_image_pixels=33554432"),
        # load_state_dict cast them silently: complex weights lost their imaginary part.
        (lambda p: _edit_state(p, "encoders.0.0.weight", torch.complex64),
         "damaged model file: encoders.0.0.weight holds torch.complex64 values, expected real floating-point values"),
        (lambda p: _edit_state(p, "encoders.0.0.weight", torch.int64), "encoders.0.0.weight holds torch.int64 values"),
        (lambda p: _edit_state(p, "encoders.0.0.weight", torch.bool), "encoders.0.0.weight holds torch.bool values"),
        (lambda p: _edit_state(p, "encoders.0.1.num_batches_tracked", torch.float32),
         "encoders.0.1.num_batches_tracked holds torch.float32 values, expected torch.int64 values"),
    ],
)
def test_load_reports_damaged_or_mismatched_files(damage, message, saved_payload, tmp_path):
    path = tmp_path / "damaged.pt"
    torch.save(damage(dict(saved_payload)), path)
    state = torch.get_rng_state()
    with pytest.raises(SkcardioError, match=message) as error:
        UNetSegmenter.load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert torch.equal(torch.get_rng_state(), state)


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(fitted, monkeypatch, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"the previous model")

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a model")  # a partial write, then the failure
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="No space left on device"):
        fitted.save(path)
    assert path.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
    (tmp_path / "model.pt").unlink()
    with pytest.raises(OSError, match="No space left on device"):
        fitted.save(path)
    assert list(tmp_path.iterdir()) == []  # a first save that fails leaves nothing


def test_save_to_a_missing_folder_names_the_file(fitted, tmp_path):
    path = tmp_path / "missing" / "model.pt"
    with pytest.raises(OSError) as error:
        fitted.save(path)
    assert error.value.filename == os.fspath(path)
    assert not (tmp_path / "missing").exists()


def test_pretrained_model_loads_and_segments_the_sample():
    from skcardio.datasets import load_sample

    model = UNetSegmenter.pretrained()
    sample = load_sample()
    # A smoke test: the sample's slices are among the model's training data
    # (its accuracy on unseen patients is the grouped CV of benchmarks/README.md).
    assert dice_score(sample.y, model.predict(sample.images)) >= 0.85
    record = json.loads(PRETRAINED.with_suffix(".json").read_text())
    # A record written before the target, correct_offset and precision parameters existed
    # describes a blood-pool model without an offset correction, trained in float32.
    recipe = {"target": "endocardium", "correct_offset": False, "precision": "float32", **record["recipe"]}
    # The default recipe trained twice as long (README, "Pretrained U-Net"); it trained every epoch.
    defaults = json.loads(json.dumps(UNetSegmenter().get_params()))
    assert recipe == {**defaults, "random_state": record["seed"], "max_epochs": 160}
    assert record["training"]["epochs"] == model.max_epochs == 160
    assert PRETRAINED.stat().st_size <= 10e6


def test_pretrained_refuses_a_file_whose_hash_differs(tmp_path, monkeypatch):
    from skcardio.segment import _unet_file

    copy = tmp_path / PRETRAINED.name
    data = PRETRAINED.read_bytes()
    copy.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # one byte changed
    (tmp_path / PRETRAINED.with_suffix(".json").name).write_text(PRETRAINED.with_suffix(".json").read_text())
    monkeypatch.setattr(_unet_file, "PRETRAINED", copy)
    with pytest.raises(SkcardioError, match=r"unet_lv_pretrained.pt: SHA-256 [0-9a-f]{64} differs from [0-9a-f]{64} recorded"):
        UNetSegmenter.pretrained()
    # Bounded and streamed as any provenance record: json.loads raised RecursionError on [[[[..., a traceback.
    copy.with_suffix(".json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SkcardioError, match=r"pretrained model is not usable: .*unet_lv_pretrained.json: not JSON: "
                       r"Nested too deeply: character 0 "
                       r"\(expected .*unet_lv_pretrained.pt and unet_lv_pretrained.json beside it; reinstall"):
        UNetSegmenter.pretrained()
    copy.with_suffix(".json").write_text('{"weights": "x"}')
    with pytest.raises(SkcardioError, match=r"pretrained model is not usable: KeyError: 'weights_sha256' "):
        UNetSegmenter.pretrained()
    copy.with_suffix(".json").unlink()
    with pytest.raises(SkcardioError, match=rf"pretrained model is not usable: {re.escape(str(copy.with_suffix('.json')))}: "
                       "no such file \\(expected "):
        UNetSegmenter.pretrained()


# Hostile model files: refused before anything large is allocated


def test_architecture_values_are_bounded_before_the_network_is_built(fitted, tmp_path):
    from _hostile import rewrite_model

    fitted.save(tmp_path / "m.pt")
    path = rewrite_model(tmp_path / "m.pt", tmp_path / "wide.pt", params={"base_channels": 10**8})
    with pytest.raises(SkcardioError, match=r"wide\.pt: the model file describes a U-Net \(n_channels=1, base_channels=100000000, "
                       r"depth=3\) of \d+ weights: \d+ weights exceeds the limit max_model_parameters=50000000"):
        UNetSegmenter.load(path)
    path = rewrite_model(tmp_path / "m.pt", tmp_path / "channels.pt", n_channels=10**9)
    with pytest.raises(SkcardioError, match="exceeds the limit max_model_parameters"):
        UNetSegmenter.load(path)
    # The depth is refused before 2 ** (depth - 1) is computed for the crop size.
    path = rewrite_model(tmp_path / "m.pt", tmp_path / "deep.pt", params={"depth": 10**12})
    with pytest.raises(SkcardioError, match=r"deep\.pt: invalid parameter in the model file: depth must be at most 16 "
                       r"\(2 \*\* \(depth - 1\) must divide .*\), got 1000000000000"):
        UNetSegmenter.load(path)


def test_fit_and_load_refuse_the_same_networks_in_the_same_words(fitted, discs, tmp_path):
    # fit trained networks whose files load then refused (max_model_parameters).
    from skcardio.io import limits_context
    from skcardio.segment._unet_net import n_parameters

    X, y = discs
    fitted.save(tmp_path / "m.pt")
    count = n_parameters(1, fitted.base_channels_, fitted.depth_)
    with limits_context(max_model_parameters=count - 1):
        with pytest.raises(SkcardioError) as loading:
            UNetSegmenter.load(tmp_path / "m.pt")
        with pytest.raises(ValueError) as fitting:
            copy.deepcopy(fitted).set_params(max_epochs=1).fit(X[:2], y[:2])
    described = (f"a U-Net (n_channels=1, base_channels=8, depth=3) of {count} weights: {count} weights exceeds "
                 f"the limit max_model_parameters={count - 1} (raise it with ")
    assert str(loading.value).startswith(f"{tmp_path / 'm.pt'}: the model file describes {described}")
    assert str(fitting.value).startswith(f"base_channels and depth give {described}")
    with limits_context(max_model_parameters=count):
        UNetSegmenter.load(tmp_path / "m.pt")


def test_weights_of_another_real_precision_load_as_the_same_weights(saved_payload, fitted, discs, tmp_path):
    X, _ = discs
    path = tmp_path / "double.pt"
    state = {k: v.double() if v.is_floating_point() else v for k, v in saved_payload["state_dict"].items()}
    torch.save({**saved_payload, "state_dict": state}, path)
    np.testing.assert_array_equal(UNetSegmenter.load(path).predict(X[:2]), fitted.predict(X[:2]))


def test_the_crop_size_of_the_refine_pass_is_bounded_as_fit_bounds_it(saved_payload, fitted, discs, tmp_path):
    """A file's crop_size sets the refine pass's crops: 4096 made one 256 x 256 slice take 5.2 GB and 21 s."""
    from skcardio.io import limits_context

    X, y = discs
    path = tmp_path / "refine.pt"
    torch.save(_edit_params(dict(saved_payload), refine=True, crop_size=4096), path)
    described = ("crop_size 4096 gives crops of 4096 x 4096 = 16777216 pixels: 16777216 pixels exceeds the limit "
                 "max_predict_pixels=4194304 (raise it with ")
    with pytest.raises(SkcardioError) as loading:
        UNetSegmenter.load(path)
    assert str(loading.value).startswith(f"{path}: the model file's {described}")
    # fit refuses it in the same words, before any training: every model it trains loads.
    with pytest.raises(ValueError) as fitting:
        copy.deepcopy(fitted).set_params(crop_size=4096).fit(X[:2], y[:2])
    assert str(fitting.value).startswith(described)
    assert str(fitting.value).endswith("; UNetSegmenter.load would refuse the model file")
    torch.save(_edit_params(dict(saved_payload), refine=True, crop_size=2048), path)
    assert UNetSegmenter.load(path).crop_size_ == 2048  # 2048 x 2048: max_predict_pixels exactly
    torch.save(_edit_params(dict(saved_payload), refine=True, crop_size=10**6), path)
    with limits_context(max_predict_pixels=10**12):
        assert UNetSegmenter.load(path).crop_size_ == 10**6  # raised, the limit lets it load
    with pytest.raises(SkcardioError, match="crop_size 1000000 gives crops of 1000000 x 1000000 = 1000000000000 "):
        UNetSegmenter.load(path)


def test_non_finite_weights_are_refused(fitted, tmp_path):
    from _hostile import rewrite_model

    fitted.save(tmp_path / "m.pt")
    name, tensor = next((k, v) for k, v in fitted.net_.module_.state_dict().items() if v.is_floating_point())
    broken = tensor.detach().clone()
    broken.view(-1)[0] = float("nan")
    path = rewrite_model(tmp_path / "m.pt", tmp_path / "nan.pt", state={name: broken})
    with pytest.raises(SkcardioError, match=rf"nan\.pt: damaged model file: 1 of the {broken.numel()} values of "
                       rf"{re.escape(name)} are NaN or infinite, expected finite weights"):
        UNetSegmenter.load(path)


def test_compressed_records_and_oversized_files_are_refused_unread(fitted, tmp_path):
    from _hostile import zip_bomb_model

    fitted.save(tmp_path / "m.pt")
    path = zip_bomb_model(tmp_path / "m.pt", tmp_path / "bomb.pt", 1 << 20)
    with pytest.raises(SkcardioError, match=r"bomb\.pt: not a model file saved by UNetSegmenter\.save \(record "
                       r"'.*/data/1000' is compressed; torch\.save stores records uncompressed\)"):
        UNetSegmenter.load(path)
    size = (tmp_path / "m.pt").stat().st_size
    from skcardio.io import limits_context

    with limits_context(max_model_bytes=size - 1), pytest.raises(
        SkcardioError, match=rf"m\.pt: a model file of {size} bytes exceeds the limit max_model_bytes"
    ):
        UNetSegmenter.load(tmp_path / "m.pt")
    if os.name == "posix":
        with pytest.raises(SkcardioError, match="/dev/zero: is a character device, expected a regular model file"):
            UNetSegmenter.load("/dev/zero")


def test_target_survives_save_and_load(tmp_path):
    X, pool = make_discs(6, seed=2)
    y = np.stack([pool, pool], axis=1).astype(np.int8)
    y[:3, 1] = -1
    model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, random_state=0,
                          target="both").fit(X, y)
    model.set_params(target="endocardium")  # pending: the file keeps the fitted network's target
    model.save(tmp_path / "both.pt")
    loaded = UNetSegmenter.load(tmp_path / "both.pt")
    assert loaded.target == loaded.target_ == "both"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_files_without_a_target_load_as_blood_pool_models(saved_payload, tmp_path):
    payload = copy.deepcopy(saved_payload)
    params = json.loads(payload["params"])
    del params["target"]  # as written before the target parameter existed
    payload["params"] = json.dumps(params)
    torch.save(payload, tmp_path / "old.pt")
    loaded = UNetSegmenter.load(tmp_path / "old.pt")
    assert loaded.target_ == "endocardium"
    assert loaded.predict(make_discs(2, seed=5)[0]).shape == (2, 64, 64)


def test_frozen_pretrained_model_is_scored_in_grouped_cv_without_training(monkeypatch):
    """docs/unet.md: FrozenEstimator(pretrained()) in a Pipeline is scored by cross_validate, never refitted."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import GroupKFold, cross_validate
    from sklearn.pipeline import make_pipeline

    from skcardio.datasets import load_sample
    from skcardio.metrics import dice_scorer
    from skcardio.preprocessing import DicomLoader

    def no_training(self, *args, **kwargs):
        raise AssertionError("the frozen model was refitted")

    sample = load_sample()
    pipeline = make_pipeline(DicomLoader(), FrozenEstimator(UNetSegmenter.pretrained()))
    monkeypatch.setattr(UNetSegmenter, "fit", no_training)
    scores = cross_validate(pipeline, sample.frame, sample.y, groups=sample.groups, cv=GroupKFold(3),
                            scoring=dice_scorer, error_score="raise")
    # The sample's patients are in the model's training data: a smoke test, not an accuracy figure.
    assert len(scores["test_score"]) == 3 and scores["test_score"].min() >= 0.85


# ----------------------------------------------------------------- device


def test_load_and_pretrained_keep_the_saved_device(fitted, saved_payload, tmp_path, monkeypatch):
    """The device parameter came back "cpu" whatever was saved: clone(pretrained()) in cross_validate
    trained on the CPU where a GPU was available."""
    from sklearn.base import clone

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    fitted.save(tmp_path / "auto.pt")
    loaded = UNetSegmenter.load(tmp_path / "auto.pt")
    assert (loaded.device, loaded.device_) == ("auto", "cpu")
    assert clone(loaded).get_params()["device"] == "auto"
    shipped = UNetSegmenter.pretrained()
    assert (shipped.device, shipped.device_) == ("auto", "cpu")
    assert clone(shipped).get_params()["device"] == "auto"
    # An explicit device replaces the saved one.
    assert UNetSegmenter.load(tmp_path / "auto.pt", device="cpu").get_params()["device"] == "cpu"
    assert UNetSegmenter.pretrained(device="cpu").device == "cpu"
    # Files saved without a device parameter take the estimator's default.
    torch.save(_edit_params(dict(saved_payload), device=_DROP), tmp_path / "old.pt")
    assert UNetSegmenter.load(tmp_path / "old.pt").device == "auto"


def test_load_puts_an_auto_model_on_cuda_where_available(fitted, tmp_path, monkeypatch):
    """Where CUDA is available, "auto" (the saved default) loads the network there (no GPU here: the
    device the network is built on is recorded, and the network built on the CPU)."""
    import contextlib

    from skcardio.segment import _unet_file

    fitted.save(tmp_path / "auto.pt")
    built_on = []

    def build(model, *, n_channels, device):
        built_on.append(device)
        return real_build(model, n_channels=n_channels, device="cpu")

    real_build = _unet_file.build_loaded_net
    monkeypatch.setattr(_unet_file, "build_loaded_net", build)
    monkeypatch.setattr(_unet_file, "_forked_rng", lambda seed, device: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    loaded = UNetSegmenter.load(tmp_path / "auto.pt")
    assert (built_on, loaded.device, loaded.device_) == (["cuda"], "auto", "cuda")
    assert UNetSegmenter.pretrained().device_ == "cuda"
    assert UNetSegmenter.load(tmp_path / "auto.pt", device="cpu").device_ == "cpu"
    assert built_on == ["cuda", "cuda", "cpu"]


def test_a_model_saved_for_cuda_loads_on_the_cpu_with_a_warning(fitted, discs, saved_payload, tmp_path, monkeypatch):
    from sklearn.base import clone

    X, y = discs
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "gpu.pt"
    torch.save(_edit_params(dict(saved_payload), device="cuda"), path)
    with pytest.warns(DeviceWarning, match=re.escape(
        f"{path}: saved with device='cuda', but CUDA is not available: loaded on the CPU (device_='cpu')"
    )) as caught:
        loaded = UNetSegmenter.load(path)
    assert caught[0].filename == __file__  # stacklevel=2: the caller of load
    assert (loaded.device, loaded.device_) == ("cuda", "cpu")
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict(X[:4]), fitted.predict(X[:4]))
    # As fit refuses device="cuda" without CUDA, so does the refit of a clone.
    with pytest.raises(ValueError, match="device='cuda' was requested but CUDA is not available"):
        clone(loaded).set_params(max_epochs=1).fit(X[:4], y[:4])
    # Asked for by the caller: no warning; "cuda" itself is refused, as by fit.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert UNetSegmenter.load(path, device="auto").get_params()["device"] == "auto"
    with pytest.raises(ValueError, match="device='cuda' was requested but CUDA is not available"):
        UNetSegmenter.load(path, device="cuda")
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or None .*, got 'gpu'"):
        UNetSegmenter.load(path, device="gpu")
    with pytest.raises(ValueError, match="got 'gpu'"):
        UNetSegmenter.pretrained(device="gpu")
