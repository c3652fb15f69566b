"""The README's Python blocks run as written, each on its own; its command synopses match ``--help``."""

import re
from pathlib import Path

import numpy as np
import pytest

from skcardio.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _run_alone(block: str, number: int) -> dict:
    """Run one block in a fresh namespace, as a reader pasting it into a new session would."""
    namespace: dict = {}
    exec(compile(block, f"{README}[python block {number}]", "exec"), namespace)  # noqa: S102  (our own README)
    return namespace


def test_readme_has_quick_start():
    # Three blocks: classical pipeline / grid search, the U-Net, the pretrained U-Net.
    assert len(_python_blocks()) == 3


def test_classical_block_runs_alone():
    namespace = _run_alone(_python_blocks()[0], 0)
    # A grouped search over 6 candidates and 3-fold scores.
    assert len(namespace["search"].cv_results_["params"]) == 6
    assert 0.5 < namespace["scores"]["test_dice"].mean() <= 1.0


def test_unet_block_runs_alone(tmp_path, monkeypatch, one_torch_thread):
    monkeypatch.chdir(tmp_path)  # the block writes unet.pt
    namespace = _run_alone(_python_blocks()[1], 1)
    # Masks of the input's shape, a model file that loads back and predicts the same.
    masks, data = namespace["masks"], namespace["data"]
    assert masks.shape == data.images.shape and masks.dtype == bool
    assert (tmp_path / "unet.pt").is_file()
    reloaded = namespace["model"].predict(data.images[:2])
    np.testing.assert_array_equal(reloaded, masks[:2])


def test_pretrained_block_runs_alone(one_torch_thread):
    from skcardio.segment._unet_file import PRETRAINED

    if not PRETRAINED.is_file():
        pytest.skip(f"the pretrained weights are not shipped yet ({PRETRAINED} missing)")
    namespace = _run_alone(_python_blocks()[2], 2)
    assert namespace["masks"].shape == namespace["proba"].shape
    # A confidence and flags per slice.
    quality = namespace["quality"]
    assert quality["confidence"].shape == quality["flagged"].shape == (len(namespace["masks"]),)


def _synopses() -> dict[str, str]:
    """``{command: arguments}`` of the README's inline ``skcardio COMMAND ...`` synopses."""
    text = README.read_text(encoding="utf-8")
    paragraph = text[text.index("Command line (also `python -m skcardio`)"):]
    paragraph = paragraph[: paragraph.index("\n\n")]
    return dict(re.findall(r"`skcardio (qc|evaluate|train|predict|report)\b ?([^`]*)`", paragraph))


def _subparsers() -> dict:
    parser = build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return action.choices


@pytest.mark.parametrize("command", ["qc", "evaluate", "train", "predict", "report"])
def test_readme_synopsis_matches_help(command):
    text = _synopses()[command]
    subparser = _subparsers()[command]
    by_flag = {s: a for a in subparser._actions for s in a.option_strings}
    # Optional options shown as [--flag METAVAR]: known, not required, with --help's metavar.
    for flag, metavar in re.findall(r"\[(--[\w-]+) ?([^\]]*)\]", text):
        action = by_flag[flag]
        assert not action.required and (action.metavar or "") == metavar, (command, flag)
    synopsis = re.sub(r"\[--[^\]]*\]", "", text).split()
    positionals = [a for a in subparser._actions if not a.option_strings]
    expected = []
    for action in positionals:
        name = (action.metavar or action.dest).upper()
        expected.append({"?": f"[{name}]", "*": f"[{name} ...]", "+": f"{name}...", None: name}[action.nargs])
    # Positionals in order, then every required option with its metavar.
    assert " ".join(synopsis).startswith(" ".join(expected)), (command, expected)
    for action in subparser._actions:
        if action.option_strings and action.required:
            flag = action.option_strings[-1]
            assert flag in synopsis, (command, flag)
            assert synopsis[synopsis.index(flag) + 1] == action.metavar
    # Nothing in the synopsis that --help does not know.
    known = {s for a in subparser._actions for s in a.option_strings}
    assert {w for w in synopsis if w.startswith("-")} <= known
