"""Argument types shared by the subcommands: out-of-range values are usage errors (exit 2)."""

import argparse
import os

import numpy as np
import pytest

from skcardio.cli import main
from skcardio.cli._arguments import MAX_THREADS, file_identity, repeated_input, threads


def test_threads_accepts_1_to_max_threads():
    assert (threads("1"), threads(str(MAX_THREADS))) == (1, MAX_THREADS)
    for text, expected in [
        ("0", f"expected a number of threads from 1 to {MAX_THREADS}, got 0"),
        (str(MAX_THREADS + 1), f"expected a number of threads from 1 to {MAX_THREADS}, got {MAX_THREADS + 1}"),
        ("two", "expected an integer number of threads, got two"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=f"^{expected}$"):
            threads(text)


@pytest.mark.parametrize(
    "command",
    [["train"], ["evaluate", "--method", "unet"], ["predict", "x.dcm"], ["report", "study"]],
    ids=["train", "evaluate", "predict", "report"],
)
@pytest.mark.parametrize("value", ["99999999999", "0", "-1", str(MAX_THREADS + 1)])
def test_every_threads_option_refuses_out_of_range_values(command, value, tmp_path, capsys, monkeypatch):
    # Above 2**31 - 1, torch.set_num_threads failed with a traceback (exit 1) after the options
    # were accepted; docs/unet.md promises the option parser's usage error, exit 2.
    def no_loading(*args, **kwargs):  # pragma: no cover - reached only if the option is accepted
        raise AssertionError("data loaded although --threads is out of range")

    monkeypatch.setattr("skcardio.cli._train.load_sources", no_loading)
    monkeypatch.setattr("skcardio.cli._evaluate.load_sources", no_loading)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--out", str(out), "--threads", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(
        f"skcardio {command[0]}: error: argument --threads: expected a number of threads from 1 to "
        f"{MAX_THREADS}, got {value}\n"
    ), err
    assert not out.exists()


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "report"])
def test_every_threads_help_gives_the_range_and_the_default(command, capsys):
    # One declaration (add_threads_argument): the same words in every command's --help.
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"--threads N PyTorch CPU threads, 1 to {MAX_THREADS} (default: PyTorch's choice)" in help_text


def test_evaluate_threads_help_is_not_under_the_training_options(capsys):
    # evaluate --model uses --threads for its predictions: the group "... and no --model" would mislead.
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ("(default: PyTorch's choice); with --method unet (training, or scoring --model or --pretrained) or --region-model only"
            in help_text)
    assert help_text.index("--threads N PyTorch") < help_text.index("U-Net training, with --method unet and no --model")


# ----------------------------------------------------------------- --device

#: Every command that trains or loads a U-Net, as far as its first argument.
_DEVICE_COMMANDS = {
    "train": ["train"],
    "evaluate": ["evaluate", "--method", "unet"],
    "evaluate --model": ["evaluate", "--method", "unet", "--model", "m.pt"],
    "evaluate --region-model": ["evaluate", "--region", "predicted", "--region-model", "m.pt"],
    "predict": ["predict", "x.dcm"],
    "report": ["report", "study"],
}


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "report"])
def test_every_device_help_gives_the_choices_and_the_default(command, capsys):
    # One declaration (add_device_argument); predict and report had no --device (the model on the CPU).
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ("--device {auto,cpu,cuda} where PyTorch runs the U-Net: auto (CUDA when available), cpu or cuda "
            "(default auto)") in help_text


@pytest.mark.parametrize("command", _DEVICE_COMMANDS.values(), ids=_DEVICE_COMMANDS.keys())
def test_every_device_option_refuses_cuda_without_cuda_before_reading_anything(command, tmp_path, capsys, monkeypatch):
    import torch

    from skcardio.segment import UNetSegmenter

    def no_reading(*args, **kwargs):  # pragma: no cover - reached only if the option is accepted
        raise AssertionError("data or model read although --device cuda cannot be used")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("skcardio.cli._train.load_sources", no_reading)
    monkeypatch.setattr("skcardio.cli._evaluate.load_sources", no_reading)
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(no_reading))
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(no_reading))
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--out", "out", "--device", "cuda"]) == 2
    assert capsys.readouterr().err == (
        f"skcardio {command[0]}: error: argument --device: device='cuda' was requested but CUDA is not available\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("given, expected", [([], "auto"), (["--device", "cpu"], "cpu"), (["--device", "auto"], "auto")])
@pytest.mark.parametrize("command", ["predict", "predict --model", "report", "report --model", "evaluate --model",
                                     "evaluate --region-model"])
def test_commands_load_their_model_on_the_device_given(command, given, expected, tmp_path, make_dicom, monkeypatch,
                                                       capsys):
    # predict and report loaded every model with UNetSegmenter.load(path) / pretrained(): on the CPU.
    from _cine_studies import write_study

    from skcardio.exceptions import SkcardioError
    from skcardio.segment import UNetSegmenter

    asked = []

    def loading(cls, path=None, *, device):
        asked.append(device)
        raise SkcardioError("loaded no further")

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(loading))
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(loading))
    monkeypatch.chdir(tmp_path)
    name, _, option = command.partition(" ")
    if name == "predict":
        (tmp_path / "in").mkdir()
        make_dicom(tmp_path / "in" / "1.dcm", np.zeros((8, 8), np.int16))
        argv = ["predict", "in"]
    elif name == "report":
        write_study(make_dicom, tmp_path / "study", n_phases=2, n_slices=2)
        argv = ["report", "study"]
    else:
        argv = ["evaluate", "--method", "unet"] if option == "--model" else ["evaluate", "--region", "predicted"]
    argv += [option, "m.pt"] if option else []
    assert main([*argv, "--out", "out", "--no-progress", *given]) == 2
    assert "loaded no further" in capsys.readouterr().err
    assert asked == [expected]


def test_evaluate_device_needs_a_u_net(capsys, tmp_path):
    for argv, expected in [
        (["--device", "cpu"], "argument --device: needs --method unet or --region-model"),
        (["--threads", "1"], "argument --threads: needs --method unet or --region-model"),
        (["--method", "unet", "--model", "m.pt", "--device", "cpu", "--depth", "2"],
         "argument --depth: trains a U-Net per fold; it does not apply to --model"),
    ]:
        assert main(["evaluate", *argv, "--out", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err == f"skcardio evaluate: error: {expected}\n"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_two_broken_links_to_one_missing_target_are_missing_not_given_twice(tmp_path, monkeypatch, capsys):
    """predict a b and report a b, a and b broken links to one missing file, said 'b: given twice (also as a)'."""
    from skcardio.cli._predict import collect_dicoms

    monkeypatch.chdir(tmp_path)
    for name in ("a", "b", "d/x.dcm", "d/y.dcm"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).symlink_to(tmp_path / "gone")
    assert repeated_input(["a", "b"]) is None and repeated_input(["a", "./a"]) is None  # missing: each says so
    assert file_identity("a") != file_identity("b")
    assert file_identity("a") == file_identity("./a") == file_identity(tmp_path / "d" / ".." / "a")
    assert main(["predict", "a", "b", "--out", "out"]) == 2
    assert capsys.readouterr().err == "skcardio predict: error: a: no such file or folder\n"
    assert main(["report", "a", "b", "--out", "out"]) == 2
    assert capsys.readouterr().err == ("skcardio report: error: a: a broken link (expected a dataset root or a DICOM "
                                       "folder)\n")
    # In one folder too: two broken links are two files that cannot be read, not one file twice.
    assert [str(file) for file, _ in collect_dicoms(["d"])] == ["d/x.dcm", "d/y.dcm"]
    (tmp_path / "c").symlink_to("a")  # c -> a -> gone: still no file
    assert file_identity("c") != file_identity("a")
