"""UNetSegmenter's parameter checks: in fit, and at predict and save time after set_params."""

import copy
import re

import numpy as np
import pytest

from skcardio.io import limits_context
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_net import MAX_DEPTH, n_parameters

# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"depth": 0}, "depth must be a positive integer"),
        # Beyond the deepest network a model file may describe: load refused the trained file.
        ({"depth": 17, "crop_size": 2**17}, "depth must be at most 16 \\(2 \\*\\* \\(depth - 1\\) must divide .*, got 17"),
        # 2 ** (depth - 1) of the crop-size check never finished.
        ({"depth": 10**12}, "depth must be at most 16 .*got 1000000000000"),
        # torch's sampler failed after the data were read (exit 1 from skcardio train).
        ({"batch_size": 2**16 + 1}, "batch_size must be at most 65536 \\(crops per training batch\\), got 65537"),
        ({"batch_size": 10**20}, "batch_size must be at most 65536 .*got 100000000000000000000"),
        ({"crop_size": 50}, "multiple of 2 \\*\\* \\(depth - 1\\)"),
        ({"loss": "focal"}, "loss must be one of"),
        ({"zoom_range": (1.2, 0.8)}, "zoom_range"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"threshold": 1.0}, "threshold"),
        ({"device": "tpu"}, "device"),
        ({"learning_rate": -1.0}, "learning_rate must be a positive finite number, got -1.0"),
        ({"learning_rate": float("nan")}, "learning_rate must be a positive finite number, got nan"),
        ({"learning_rate": "fast"}, "learning_rate must be a positive finite number, got 'fast'"),
        ({"weight_decay": -1e-4}, "weight_decay must be a finite number >= 0, got -0.0001"),
        ({"weight_decay": float("inf")}, "weight_decay must be a finite number >= 0, got inf"),
        ({"zoom_range": (1.0,)}, "zoom_range must be two numbers \\(low, high\\).*got \\(1.0,\\)"),
        ({"zoom_range": "ab"}, "zoom_range must be two numbers .*got 'ab'"),
        ({"zoom_range": 1.2}, "zoom_range must be two numbers .*got 1.2"),
        ({"rotation": -5}, "rotation must be a finite number of degrees >= 0, got -5"),
        ({"validation_fraction": "a"}, "validation_fraction must be a number in \\(0, 1\\) or None, got 'a'"),
        ({"validation_fraction": float("nan")}, "validation_fraction must be .*got nan"),
        ({"threshold": "x"}, "threshold must be a number in \\(0, 1\\), got 'x'"),
        ({"patience": 0.5}, "patience must be a positive integer or None, got 0.5"),
        ({"verbose": -1}, "verbose must be an integer >= 0, got -1"),
        # "no" is truthy: unchecked, it switched post-processing on.
        ({"postprocess": "no"}, "postprocess must be True or False, got 'no'"),
        ({"tta": "yes"}, "tta must be True or False, got 'yes'"),
        ({"flip": "False"}, "flip must be True or False, got 'False'"),
        ({"refine": None}, "refine must be True or False, got None"),
        ({"intensity_jitter": 1}, "intensity_jitter must be True or False, got 1"),
        ({"correct_offset": "x"}, "correct_offset must be True or False, got 'x'"),
        ({"precision": "float16"}, "precision must be one of \\('float32', 'bfloat16'\\), got 'float16'"),
        ({"precision": None}, "precision must be one of .*got None"),
    ],
)
def test_invalid_params(params, message, discs):
    X, y = discs
    with pytest.raises(ValueError, match=message):
        UNetSegmenter(**params).fit(X[:2], y[:2])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 1.5}, "threshold must be a number in \\(0, 1\\), got 1.5"),
        ({"threshold": float("nan")}, "threshold must be .*got nan"),
        ({"postprocess": "no"}, "postprocess must be True or False"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"precision": "half"}, "precision must be one of .*got 'half'"),
    ],
)
def test_prediction_and_save_check_parameters_changed_after_fit(params, message, fitted, discs, tmp_path):
    # set_params after fit: predict gave all-empty masks for threshold=1.5, and save wrote
    # a file that load then refused.
    X, _ = discs
    model = copy.deepcopy(fitted).set_params(**params)
    for call in (model.predict, model.predict_proba, model.predict_with_proba, lambda X: model.score(X, X > 0)):
        with pytest.raises(ValueError, match=message):
            call(X[:1])
    with pytest.raises(ValueError, match=message):
        model.save(tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_fit_refuses_a_network_whose_model_file_load_would_refuse(discs):
    # Trained for hours, then saved to a file that no command could load (max_model_parameters).
    X, y = discs
    count = n_parameters(1, 4, 2)
    model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, validation_fraction=None)
    expected = (
        f"base_channels and depth give a U-Net (n_channels=1, base_channels=4, depth=2) of {count} weights: "
        f"{count} weights exceeds the limit max_model_parameters={count - 1} (raise it with "
        "skcardio.io.set_limits(max_model_parameters=...) or the environment variable "
        "SKCARDIO_MAX_MODEL_PARAMETERS); UNetSegmenter.load would refuse the model file"
    )
    with limits_context(max_model_parameters=count - 1), pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        model.fit(X[:2], y[:2])
    assert not hasattr(model, "net_")
    with limits_context(max_model_parameters=count):
        model._validate_params_values()  # the limit itself is allowed


def test_the_network_size_counts_the_targets_and_the_channels_of_x(discs):
    X, y = discs
    one, more = n_parameters(1, 4, 2), n_parameters(3, 4, 2)
    model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, validation_fraction=None)
    with limits_context(max_model_parameters=one):
        model._validate_params_values()
        with pytest.raises(ValueError, match=rf"a U-Net \(n_channels=3, base_channels=4, depth=2\) of {more} weights"):
            model.fit(np.repeat(X[:2, None], 3, axis=1), y[:2])  # checked again once X's channels are known
        with pytest.raises(ValueError, match=f"of {n_parameters(1, 4, 2, 2)} weights"):
            model.set_params(target="both")._validate_params_values()  # two output maps


def test_depth_and_batch_size_at_their_bounds_are_accepted():
    model = UNetSegmenter(depth=MAX_DEPTH, base_channels=1, crop_size=2**MAX_DEPTH, batch_size=2**16)
    # 31.9 billion weights, crops of 2**16 x 2**16 pixels (max_predict_pixels bounds the crops of refine).
    with limits_context(max_model_parameters=n_parameters(1, 1, MAX_DEPTH), max_predict_pixels=2**32):
        model._validate_params_values()
    with limits_context(max_model_parameters=n_parameters(1, 1, MAX_DEPTH), max_predict_pixels=2**32 - 1):
        with pytest.raises(ValueError, match="^crop_size 65536 gives crops of 65536 x 65536 = 4294967296 pixels"):
            model._validate_params_values()


def test_bounds_for_training_only_leave_a_fitted_model_usable(fitted, discs):
    # A saved file's batch_size or size is not training: predict and save check the rest.
    X, _ = discs
    # Nor is the crop size: predict's refine pass uses the fit's (crop_size_), bounded when it was fitted or loaded.
    model = copy.deepcopy(fitted).set_params(batch_size=10**20, crop_size=4096)
    with limits_context(max_model_parameters=1):
        assert model.predict(X[:1]).shape == X[:1].shape


def test_numpy_integers_train(discs):
    # validate_params accepts NumPy integers (a grid given as an array, best_params_ of one), but
    # torch's BatchSampler refused batch_size=np.int64(2): "should be a positive integer value, but got
    # batch_size=2".
    X, y = discs
    params = dict(depth=np.int64(2), base_channels=np.int32(4), crop_size=np.int64(32), max_epochs=np.int64(1),
                  batch_size=np.int64(4), patience=np.int64(3), validation_fraction=0.25, random_state=0)
    model = UNetSegmenter(**params).fit(X[:8], y[:8])
    same = UNetSegmenter(**{k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}).fit(X[:8], y[:8])
    np.testing.assert_array_equal(model.predict_proba(X[8:10]), same.predict_proba(X[8:10]))
