"""UNetSegmenter's parameter checks: in fit, and at predict and save time after set_params."""

import copy

import pytest

from skcardio.segment import UNetSegmenter

# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"depth": 0}, "depth must be a positive integer"),
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
