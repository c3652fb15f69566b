"""The package works under ``python -OO``, which strips every docstring.

Code that edits docstrings at import time (``fill_doc``) must cope with
``__doc__`` being ``None``; each check runs in a fresh interpreter. skorch
cannot be imported under ``-OO``: the U-Net loads and predicts without it
there, and only training says it needs a plain interpreter.
"""

import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np

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
        timeout=600,  # a loaded CI machine; a hang still fails
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


def test_unet_predicts_under_OO_without_skorch(tmp_path):
    # skorch 1.4 cannot be imported under -OO (skorch/classifier.py builds
    # NeuralNetClassifier.__doc__ from NeuralNet.__doc__, None there): the
    # U-Net imports it only to build a training net. The pretrained model,
    # saved and reloaded, predicts exactly as in a normal interpreter.
    from skcardio.datasets import load_sample
    from skcardio.segment import UNetSegmenter

    images = load_sample().images[:2]
    np.save(tmp_path / "images.npy", images)
    code = (
        "import numpy as np, torch\n"
        "from skcardio.segment import UNetSegmenter\n"
        "torch.set_num_threads(1)\n"  # oneDNN's rounding may depend on the thread count
        f"folder = {str(tmp_path)!r}\n"
        "model = UNetSegmenter.pretrained()\n"
        "model.save(folder + '/model.pt')\n"
        "proba = UNetSegmenter.load(folder + '/model.pt').predict_proba(np.load(folder + '/images.npy'))\n"
        "np.save(folder + '/proba.npy', proba)\n"
        "print(type(model.net_).__name__)\n"
        "try:\n"
        "    UNetSegmenter(max_epochs=1).fit(np.zeros((2, 16, 16)), np.zeros((2, 16, 16), bool))\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = _run_oo(code)
    assert result.returncode == 0, result.stderr
    net_type, message = result.stdout.strip().split("\n")
    assert net_type == "InferenceNet"
    assert "cannot be imported under python -OO" in message and "run Python without -OO" in message
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the subprocess: the same kernels, the same rounding
    try:
        expected = UNetSegmenter.pretrained().predict_proba(images)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), expected)


def test_cli_training_under_OO_is_one_error_line(tmp_path):
    # fit's ImportError came as a traceback, after the slices were loaded.
    code = (
        "import sys\n"
        "from skcardio.cli import main\n"
        f"folder = {str(tmp_path)!r}\n"
        "codes = [main(['train', '--out', folder + '/m.pt', '--epochs', '1']),\n"
        "         main(['evaluate', '--method', 'unet', '--out', folder + '/cv'])]\n"
        "print(codes)\n"
    )
    result = _run_oo(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[2, 2]"
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["skcardio train", "skcardio evaluate"], result.stderr
    assert all("cannot be imported under python -OO" in line for line in lines)
    assert not list(tmp_path.iterdir())
