"""``python -m skcardio`` is the ``skcardio`` command."""

import os
import subprocess
import sys

from skcardio.cli import build_parser


def test_python_m_skcardio_runs_the_command_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # one help width in both processes
    result = subprocess.run(
        [sys.executable, "-m", "skcardio", "--help"], capture_output=True, text=True, timeout=120,
        check=False, env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == build_parser().format_help()
