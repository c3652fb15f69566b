"""U-Net options shared by ``train`` and ``evaluate --method unet``: refused before any data are read."""

import pytest

from skcardio.cli import main
from skcardio.segment import _unet_runtime


@pytest.mark.parametrize("command", [["train"], ["evaluate", "--method", "unet"]])
def test_training_without_skorch_is_one_error_line(command, tmp_path, capsys, monkeypatch):
    # Under python -OO skorch cannot be imported; fit's ImportError was a traceback after loading the data.
    def no_skorch(module="skcardio.segment._unet_skorch"):
        raise ImportError("training or building a UNetSegmenter needs skorch, which cannot be imported under python -OO")

    def no_loading(*args, **kwargs):  # pragma: no cover - reached only if the check comes too late
        raise AssertionError("data loaded before the options were refused")

    monkeypatch.setattr(_unet_runtime, "import_skorch", no_skorch)
    monkeypatch.setattr("skcardio.cli._train.load_sources", no_loading)
    out = tmp_path / "out"
    assert main([*command, "--out", str(out), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"skcardio {command[0]}: error: training or building a UNetSegmenter needs skorch, "
        "which cannot be imported under python -OO\n"
    ), err
    assert not out.exists()


@pytest.mark.parametrize("command", [["train"], ["evaluate", "--method", "unet"]])
@pytest.mark.parametrize(
    "flags, expected",
    [
        # torch's sampler failed with a traceback once the data were loaded (exit 1).
        (["--batch-size", "99999999999999999999"],
         "batch_size must be at most 65536 (crops per training batch), got 99999999999999999999"),
        # Trained, then saved to a file that load refuses (depth above 16).
        (["--depth", "17", "--crop-size", str(2**17)], "depth must be at most 16 (2 ** (depth - 1) must divide the "
         "image size, and depth 16 already needs images of 32768 pixels a side), got 17"),
        # Hours of training, then a file of more than max_model_parameters weights that load refuses.
        (["--depth", "4", "--base-channels", "256"],
         "base_channels and depth give a U-Net (n_channels=1, base_channels=256, depth=4) of 123103489 weights: "
         "123103489 weights exceeds the limit max_model_parameters=50000000 (raise it with "
         "skcardio.io.set_limits(max_model_parameters=...) or the environment variable "
         "SKCARDIO_MAX_MODEL_PARAMETERS); UNetSegmenter.load would refuse the model file"),
    ],
    ids=["batch-size", "depth", "weights"],
)
def test_training_options_load_would_refuse_are_one_error_line_before_any_data(
    flags, expected, command, tmp_path, capsys, monkeypatch
):
    def no_loading(*args, **kwargs):  # pragma: no cover - reached only if the check comes too late
        raise AssertionError("data loaded before the options were refused")

    monkeypatch.setattr("skcardio.cli._train.load_sources", no_loading)
    monkeypatch.setattr("skcardio.cli._evaluate.load_sources", no_loading)
    out = tmp_path / "out"
    assert main([*command, "--out", str(out), "--epochs", "1", *flags]) == 2
    assert capsys.readouterr().err == f"skcardio {command[0]}: error: {expected}\n"
    assert not out.exists()


def test_the_model_parameter_limit_of_the_environment_applies_to_training(tmp_path, capsys, monkeypatch):
    # SKCARDIO_MAX_MODEL_PARAMETERS=1000 skcardio train ... trained and saved a file predict then refused.
    from skcardio.io import limits_context

    monkeypatch.setattr("skcardio.cli._train.load_sources", lambda *a, **k: pytest.fail("data loaded"))
    out = tmp_path / "lim.pt"
    with limits_context(max_model_parameters=1000):
        code = main(["train", "--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32",
                     "--out", str(out)])
    assert code == 2
    assert "of 1677 weights: 1677 weights exceeds the limit max_model_parameters=1000" in capsys.readouterr().err
    assert not out.exists()


#: A tiny U-Net, one epoch: the warning is the point, not the model.
_TINY = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--threads", "1"]


@pytest.mark.parametrize("command", [["train"], ["evaluate", "--method", "unet", "--cv", "2", "--no-plots",
                                                 "--no-progress"]], ids=["train", "evaluate"])
def test_a_useless_model_is_told_to_train_longer_with_epochs_not_max_epochs(command, tmp_path, capsys, monkeypatch):
    # The advice named max_epochs=1, which is no option of the command line.
    import sys
    import warnings

    from skcardio.exceptions import DegenerateModelWarning
    from skcardio.segment import _unet

    monkeypatch.setattr(_unet, "degenerate_predictions", lambda *args, **kwargs: "finds no blood pool in 8 of "
                        "the 8 slices that have one")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # What Python's display does outside pytest, which records warnings instead.
        monkeypatch.setattr(warnings, "showwarning", lambda message, category, filename, lineno, file=None, line=None:
                            sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line)))
        assert main([*command, "--out", str(tmp_path / "out"), *_TINY]) == 0
    err = capsys.readouterr().err
    advice = ("the trained model finds no blood pool in 8 of the 8 slices that have one on its own training "
              "images: it is useless as it is; train longer (--epochs above 1) or on more data, or check the masks")
    assert (f"skcardio train: warning: {advice}\n" if command == ["train"] else f"unet, fold 0: {advice}\n") in err
    assert "max_epochs" not in err
    # The Python API words it with max_epochs, and a caller recording the warning gets them.
    with pytest.warns(DegenerateModelWarning, match=r"train longer \(max_epochs above 1\)") as caught:
        assert main(["train", "--out", str(tmp_path / "again"), *_TINY, "--quiet"]) == 0
    assert (caught[0].message.problem, caught[0].message.max_epochs) == (
        "finds no blood pool in 8 of the 8 slices that have one", 1
    )


def test_warning_text_leaves_other_warnings_alone():
    from skcardio.cli._unet_options import warning_text
    from skcardio.exceptions import DegenerateModelWarning, SkcardioWarning

    assert warning_text(SkcardioWarning("3 slices share one position")) == "3 slices share one position"
    # Raised by other code without the attributes: its own text.
    assert warning_text(DegenerateModelWarning("max_epochs=3")) == "max_epochs=3"
    assert warning_text("plain text") == "plain text"
