"""Argument types shared by the subcommands: out-of-range values are usage errors (exit 2)."""

import argparse

import pytest

from skcardio.cli import main
from skcardio.cli._arguments import MAX_THREADS, threads


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
    assert "(default: PyTorch's choice); with --method unet only (training, or scoring --model)" in help_text
    assert help_text.index("--threads N PyTorch") < help_text.index("U-Net training, with --method unet and no --model")
