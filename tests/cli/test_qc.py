import csv
import subprocess
import sys

from skcardio.cli import main


def test_qc_sample(capsys, tmp_path):
    out = tmp_path / "qc.csv"
    assert main(["qc", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "15 contoured slice(s) checked" in printed
    assert "missing_ocontour" in printed
    assert len(list(csv.DictReader(out.open()))) == 15


def test_qc_shared_data_only_flagged(capsys, shared_data_root):
    assert main(["qc", str(shared_data_root), "--only-flagged"]) == 0
    printed = capsys.readouterr().out
    assert "96 contoured slice(s) checked, 59 flagged" in printed
    assert "i_outside_o" in printed


def test_qc_console_script_bad_root(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skcardio.cli._main", "qc", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.returncode == 2
    assert "skcardio qc: error:" in result.stderr and "no link.csv" in result.stderr
    assert "Traceback" not in result.stderr
