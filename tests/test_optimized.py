"""The package works under ``python -OO``, which strips every docstring.

Code that edits docstrings at import time (``fill_doc``) must cope with
``__doc__`` being ``None``; each check runs in a fresh interpreter.
"""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import skcardio
from skcardio.cli._main import _COMMANDS

ROOT = Path(__file__).resolve().parents[1]
# Every public module of the package, and every sub-command.
SUBPACKAGES = ["skcardio"] + [
    f"skcardio.{module.name}" for module in pkgutil.iter_modules(skcardio.__path__) if not module.name.startswith("_")
]
COMMANDS = [name.lstrip("_") for name in _COMMANDS]


def _run_oo(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-OO", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_subpackage_imports_under_OO():
    # One interpreter for all (each start costs seconds on a busy machine).
    result = _run_oo("; ".join(f"import {module}" for module in SUBPACKAGES))
    assert result.returncode == 0, result.stderr


def test_classical_segmenter_runs_under_OO():
    code = (
        "import numpy as np\n"
        "from skcardio.segment import ThresholdSegmenter\n"
        "x = np.full((1, 7, 7), np.nan); x[0, 1:6, 1:6] = 10.0; x[0, 2:5, 2:5] = 50.0\n"
        "print(int(ThresholdSegmenter().fit(x).predict(x).sum()))\n"
        "print(ThresholdSegmenter.__doc__)\n"
    )
    result = _run_oo(code)
    assert result.returncode == 0, result.stderr
    # None: -OO did strip the docstrings (else these tests would prove nothing).
    assert result.stdout.split() == ["9", "None"]


def test_cli_help_under_OO():
    commands = [["--help"]] + [[name, "--help"] for name in COMMANDS]
    code = (
        "from skcardio.cli import main\n"
        f"for args in {commands!r}:\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, (args, done.code)\n"
    )
    result = _run_oo(code)
    assert result.returncode == 0, result.stderr
    # argparse printed one usage per command.
    assert result.stdout.count("usage: skcardio") == len(commands), result.stdout


@pytest.mark.xfail(
    reason="skorch (1.4) builds NeuralNetClassifier.__doc__ from NeuralNet.__doc__ at import "
    "and fails under -OO (skorch-dev/skorch, classifier.py); the U-Net needs skorch",
    raises=AssertionError,
)
def test_unet_import_under_OO():
    result = _run_oo("from skcardio.segment import UNetSegmenter")
    assert result.returncode == 0, result.stderr
