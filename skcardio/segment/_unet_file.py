"""The model file of :class:`UNetSegmenter`: weights and plain data, read with ``weights_only=True``."""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import hashlib
import io
import json
import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._files import replacing
from .._methods import DEVICES
from ..exceptions import SkcardioError
from ..io import get_limits
from ..io._json_stream import read_json
from ..io._limits import read_regular
from ._unet_net import TARGETS
from ._unet_offset import MAX_OFFSET, check_label_offset
from ._unet_params import crop_size_refusal, network_size_refusal
from ._unet_runtime import _forked_rng, build_loaded_net, loaded_device, resolve_device

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = ["save_model", "load_model", "load_pretrained"]

#: The shipped pretrained model (weights) and its provenance (.json), in segment/data/.
PRETRAINED = Path(__file__).with_name("data") / "unet_lv_pretrained.pt"

#: Written into saved files; :meth:`UNetSegmenter.load` refuses anything else.
_FILE_FORMAT = "skcardio.UNetSegmenter"
_FILE_VERSION = 1
#: Entries of a model file: name -> (accepted types, what is expected).
_FILE_FIELDS = {
    "params": (str, "a JSON string"),
    "n_channels": (int, "an integer"),
    "best_epoch": (int, "an integer"),
    "typical_area": ((int, float), "a number"),
    "history": (str, "a JSON string"),
    "state_dict": (dict, "a dict of tensors"),
}


def save_model(model: UNetSegmenter, path: str | os.PathLike) -> None:
    """Write fitted ``model`` to ``path`` atomically (see :meth:`UNetSegmenter.save`)."""
    params = model.get_params()
    # load builds the network from these: they must be the trained one's.
    params.update(depth=model.depth_, base_channels=model.base_channels_, crop_size=model.crop_size_)
    params.update(target=model.target_)
    if not isinstance(params["random_state"], (int, np.integer, type(None))):
        params["random_state"] = None
    params = json.loads(json.dumps(params, default=_jsonable))
    state = {k: v.detach().cpu() for k, v in model.net_.module_.state_dict().items()}
    payload = {
        "format": _FILE_FORMAT,
        "version": _FILE_VERSION,
        "params": json.dumps(params),
        "n_channels": int(model.n_channels_),
        "best_epoch": int(model.best_epoch_),
        "typical_area": float(model.typical_area_),
        "label_offset": _saved_offset(path, model),
        "history": json.dumps(model.net_.history.to_list(), default=_jsonable),
        "state_dict": state,
    }
    # Atomic: a failed save leaves no partial file and keeps an existing one.
    with replacing(path, "wb") as handle:
        torch.save(payload, handle)


def check_device_argument(device) -> None:
    """Raise ValueError unless ``device`` is a ``load`` / ``pretrained`` device argument."""
    if device is not None and device not in DEVICES:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or None (the saved device), got {device!r}")


def cpu_fallback(model: UNetSegmenter, source: str) -> str | None:
    """The :class:`DeviceWarning` of a model saved for CUDA and loaded on the CPU, else None.

    Only the saved ``device="cuda"`` gets there without CUDA: asked for, it raises.
    """
    if model.device == "cuda" and model.device_ == "cpu":
        return (
            f"{source}: saved with device='cuda', but CUDA is not available: loaded on the CPU "
            "(device_='cpu'), where it predicts; its device parameter stays 'cuda', so fitting it or a "
            "clone here raises: pass device='cpu' or 'auto' to load it as such"
        )
    return None


def load_model(cls: type[UNetSegmenter], path: str | os.PathLike, device: str | None) -> UNetSegmenter:
    """Read a model file into a fitted ``cls`` (see :meth:`UNetSegmenter.load`).

    ``device`` None keeps the file's ``device`` parameter, and loads a saved
    ``"cuda"`` on the CPU where CUDA is not available (the caller warns);
    a given ``device`` replaces it and must be usable (:func:`resolve_device`).
    """
    check_device_argument(device)
    path = os.fspath(path)
    payload = _read_model_file(path)
    params = _decode_json(path, payload, "params", dict)
    history = _decode_json(path, payload, "history", list)
    if not all(isinstance(row, dict) for row in history):
        raise SkcardioError(f"{path}: damaged model file: 'history' must be a list of epoch records")
    # Files written before the target parameter existed segment the blood pool.
    params.setdefault("target", "endocardium")
    # ... and, before correct_offset existed, shifted nothing.
    params.setdefault("correct_offset", False)
    # ... and, before precision existed, computed in float32.
    params.setdefault("precision", "float32")
    # ... and files without a device take the estimator's default.
    params.setdefault("device", "auto")
    names = set(cls._get_param_names())
    missing, unknown = sorted(names - params.keys()), sorted(params.keys() - names)
    if missing or unknown:
        raise SkcardioError(
            f"{path}: the model file's parameters do not match UNetSegmenter's"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    if isinstance(params["zoom_range"], list):
        params["zoom_range"] = tuple(params["zoom_range"])
    if device is not None:
        params["device"] = device
    model = cls(**params)
    try:
        model._validate_params_values(training=False)
    except ValueError as exc:
        raise SkcardioError(f"{path}: invalid parameter in the model file: {exc}") from exc
    # The refine pass predicts crops of crop_size x crop_size pixels: bounded as fit bounds it.
    refusal = crop_size_refusal(model.crop_size)
    if refusal:
        raise SkcardioError(f"{path}: the model file's {refusal}")
    typical_area = _typical_area(path, payload["typical_area"])
    # Validated above: a damaged file's device is refused before it is resolved.
    device_ = loaded_device(model.device) if device is None else resolve_device(model.device)
    n_channels = payload["n_channels"]
    if n_channels < 1:
        raise SkcardioError(f"{path}: damaged model file: n_channels is {n_channels}, expected >= 1")
    _check_size(path, n_channels, model)
    # Building the network initialises weights from PyTorch's global RNG:
    # fork it so that loading leaves the caller's random state alone.
    with _forked_rng(0, device_):
        net = build_loaded_net(model, n_channels=n_channels, device=device_)
    _check_state_dict(path, payload["state_dict"], net.module_.state_dict(), model, n_channels)
    _check_dtypes(path, payload["state_dict"], net.module_.state_dict())
    _check_finite(path, payload["state_dict"])
    net.module_.load_state_dict(payload["state_dict"])
    net.history.extend(history)
    model._set_fitted(
        net,
        device_,
        n_channels,
        payload["best_epoch"],
        typical_area,
        _label_offset(path, payload, len(TARGETS[model.target])),
    )
    return model


def _saved_offset(path, model: UNetSegmenter) -> list:
    """``model.label_offset_`` as the file stores it; refused where load would refuse it."""
    offset = check_label_offset(model.label_offset_, len(TARGETS[model.target_]))
    if offset is None:
        raise SkcardioError(
            f"{os.fspath(path)}: not saved: label_offset_ must be {len(TARGETS[model.target_])} (row, col) pairs "
            f"of pixels within +-{MAX_OFFSET:g}, got {np.asarray(model.label_offset_).tolist()}"
        )
    return offset.tolist()


def _label_offset(path: str, payload: dict, n_targets: int) -> np.ndarray:
    """The file's ``label_offset`` (n_targets, 2) pixels, zeros for files saved before it existed."""
    if "label_offset" not in payload:
        return np.zeros((n_targets, 2))
    offset = check_label_offset(payload["label_offset"], n_targets)
    if offset is None:
        raise SkcardioError(
            f"{path}: damaged model file: label_offset must be {n_targets} (row, col) pairs of pixels within "
            f"+-{MAX_OFFSET:g}, got {str(payload['label_offset'])[:80]}"
        )
    return offset


def _safe_detail(exc: BaseException) -> str:
    """The first informative line of ``exc``, never torch's advice to retry with weights_only=False."""
    for line in str(exc).splitlines():
        line = line.strip()
        lowered = line.lower()
        if line and not any(word in lowered for word in ("weights_only", "weights only", "trusted", "documentation")):
            return line
    return type(exc).__name__


def _check_size(path: str, n_channels: int, model: UNetSegmenter) -> None:
    """Refuse, before building it, a network larger than ``max_model_parameters``.

    Values such as 10**8 channels would otherwise allocate hundreds of GB
    while the network is built, before its weights are read (the depth is
    already bounded by :func:`~skcardio.segment._unet_params.validate_params`).
    ``fit`` refuses the same networks with the same rule
    (:func:`~skcardio.segment._unet_params.network_size_refusal`).
    """
    refusal = network_size_refusal(n_channels, model.base_channels, model.depth, len(TARGETS[model.target]))
    if refusal:
        raise SkcardioError(f"{path}: the model file describes {refusal}")


def _typical_area(path: str, value: int | float) -> float:
    """The file's ``typical_area``: a finite number of pixels, from 0 to ``max_image_pixels``; else SkcardioError.

    It is the median blood-pool area of the training masks (0 without any),
    which the ``refine`` pass divides by a pool's area: NaN or a negative
    value silently disabled the pass (with a RuntimeWarning from the square
    root), 1e308 zoomed every pool, and an integer beyond a float raised
    OverflowError. No mask holds more pixels than an image that skcardio reads.
    """
    try:
        area, shown = float(value), repr(float(value))
    except OverflowError:  # str() of an integer of 5000 digits raises ValueError: not quoted
        area, shown = math.inf, f"an integer of {value.bit_length()} bits"
    if not (math.isfinite(area) and area >= 0):
        raise SkcardioError(
            f"{path}: damaged model file: typical_area is {shown}, expected the median blood-pool area of the "
            "training masks: a finite number of pixels >= 0"
        )
    limits = get_limits()
    if area > limits.max_image_pixels:
        raise SkcardioError(
            f"{path}: damaged model file: typical_area, the median blood-pool area of the training masks, of "
            + limits.refusal("max_image_pixels", f"{area:g} pixels")
        )
    return area


def _check_dtypes(path: str, state: dict, expected: dict) -> None:
    """Refuse weights of another kind than the network's (its shapes already checked).

    ``load_state_dict`` casts silently: complex weights lost their imaginary
    part, integer or boolean ones loaded as floats. A real floating-point
    tensor of another precision (float64, float16) is the same weights.
    """
    for name, tensor in expected.items():
        given = state[name]
        if given.layout != torch.strided:
            raise SkcardioError(f"{path}: damaged model file: {name} is a {given.layout} tensor, expected a dense one")
        same = given.is_floating_point() if tensor.is_floating_point() else given.dtype == tensor.dtype
        if not same:
            kind = "real floating-point values" if tensor.is_floating_point() else f"{tensor.dtype} values"
            raise SkcardioError(f"{path}: damaged model file: {name} holds {given.dtype} values, expected {kind}")


def _check_finite(path: str, state: dict) -> None:
    """Refuse NaN or infinite weights: such a network silently predicts nothing."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise SkcardioError(
                f"{path}: damaged model file: {bad} of the {tensor.numel()} values of {name} are NaN or "
                "infinite, expected finite weights"
            )


def _check_records(path: str, archive: zipfile.ZipFile) -> None:
    """Refuse compressed records or records larger together than ``max_model_bytes``, before any is read.

    torch.save writes its records uncompressed: a deflated record (a zip
    bomb) would be inflated whole by torch.load.
    """
    limits = get_limits()
    records = archive.infolist()
    for record in records:
        if record.compress_type != zipfile.ZIP_STORED:
            raise SkcardioError(
                f"{path}: not a model file saved by UNetSegmenter.save (record {record.filename!r} is "
                "compressed; torch.save stores records uncompressed)"
            )
    total = sum(record.file_size for record in records)
    if total > limits.max_model_bytes:
        raise SkcardioError(f"{path}: its records hold " + limits.refusal("max_model_bytes", f"{total} bytes"))


def _read_model_file(path: str) -> dict:
    """``torch.load(weights_only=True)`` of a model file, its entries checked; SkcardioError otherwise.

    Only a regular file of at most ``max_model_bytes`` is read (not
    ``/dev/zero`` or a pipe), its records checked before torch reads them.
    """
    data = io.BytesIO(read_regular(path, SkcardioError, "model", "max_model_bytes"))
    try:
        with zipfile.ZipFile(data) as archive:
            _check_records(path, archive)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, SkcardioError):
            raise
        # torch.save always writes a zip archive
        raise SkcardioError(f"{path}: not a model file saved by UNetSegmenter.save (not a torch file)") from None
    data.seek(0)
    try:
        payload = torch.load(data, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise SkcardioError(
            f"{path}: refused to load: the file holds objects whose loading could run code "
            f"({_safe_detail(exc)}); a model file saved by UNetSegmenter.save holds only "
            "weights and plain data"
        ) from None
    except Exception as exc:  # torch raises many types for a damaged archive
        raise SkcardioError(
            f"{path}: not a model file saved by UNetSegmenter.save (damaged torch file: {_safe_detail(exc)})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _FILE_FORMAT:
        raise SkcardioError(
            f"{path}: not a model file saved by UNetSegmenter.save "
            f"(a torch file without the {_FILE_FORMAT!r} format tag)"
        )
    if payload.get("version") != _FILE_VERSION:
        raise SkcardioError(f"{path}: model file version {payload.get('version')!r}, expected {_FILE_VERSION}")
    for key, (types, expected) in _FILE_FIELDS.items():
        if key not in payload:
            raise SkcardioError(f"{path}: damaged model file: no {key!r} entry")
        value = payload[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise SkcardioError(
                f"{path}: damaged model file: {key!r} is a {type(value).__name__}, expected {expected}"
            )
    return payload


def _decode_json(path: str, payload: dict, key: str, kind: type):
    try:
        value = json.loads(payload[key])
    except json.JSONDecodeError as exc:
        raise SkcardioError(f"{path}: damaged model file: {key!r} is not valid JSON ({exc})") from None
    except RecursionError:
        raise SkcardioError(f"{path}: damaged model file: {key!r} nests JSON too deeply") from None
    if not isinstance(value, kind):
        raise SkcardioError(
            f"{path}: damaged model file: {key!r} holds a {type(value).__name__}, expected a {kind.__name__}"
        )
    return value


def _check_state_dict(path: str, state: dict, expected: dict, model: UNetSegmenter, n_channels: int) -> None:
    """Raise SkcardioError unless ``state`` has exactly the tensors of ``expected``, shapes included."""
    missing = [k for k in expected if k not in state]
    unknown = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} instead of {tuple(v.shape)}"
        if isinstance(state[k], torch.Tensor)
        else f"{k} is a {type(state[k]).__name__}, not a tensor"
        for k, v in expected.items()
        if k in state and not (isinstance(state[k], torch.Tensor) and state[k].shape == v.shape)
    ]
    if missing or unknown or wrong:
        problems = [
            f"{label} ({len(keys)}): {', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unknown), ("wrong", wrong))
            if keys
        ]
        raise SkcardioError(
            f"{path}: the weights do not match the network described by the file "
            f"(depth={model.depth}, base_channels={model.base_channels}, n_channels={n_channels}): "
            + "; ".join(problems)
        )


def _jsonable(value):
    # NumPy values from parameter grids (np.array([0.9, 1.1]) as zoom_range).
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def load_pretrained(cls: type[UNetSegmenter], device: str | None) -> UNetSegmenter:
    """Load :data:`PRETRAINED` after checking its SHA-256 against its provenance record."""
    check_device_argument(device)
    record = PRETRAINED.with_suffix(".json")
    try:
        # Bounded and streamed as any provenance record: json.loads raised RecursionError on [[[[...
        expected = read_json(record, SkcardioError)["weights_sha256"]
        digest = hashlib.sha256(read_regular(str(PRETRAINED), SkcardioError, "model", "max_model_bytes")).hexdigest()
    except (ValueError, KeyError, TypeError) as exc:  # SkcardioError (a ValueError) names the file
        reason = str(exc) if isinstance(exc, SkcardioError) else f"{type(exc).__name__}: {exc}"
        raise SkcardioError(
            f"the pretrained model is not usable: {reason} "
            f"(expected {PRETRAINED} and {record.name} beside it; reinstall skcardio)"
        ) from None
    if digest != expected:
        raise SkcardioError(
            f"{PRETRAINED}: SHA-256 {digest} differs from {expected} recorded in {record.name}: "
            "the file is damaged or was replaced; reinstall skcardio"
        )
    return load_model(cls, PRETRAINED, device)
