import csv
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert "96 contoured slice(s) checked, 59 flagged; 5 dataset item(s) skipped, not checked" in printed
    assert "i_outside_o" in printed


def test_qc_console_script_bad_root(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skcardio.cli._main", "qc", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.returncode == 2
    assert "skcardio qc: error:" in result.stderr and "no link.csv" in result.stderr
    assert "Traceback" not in result.stderr


def _run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "skcardio.cli._main", "qc", *args], capture_output=True, text=True
    )


def test_qc_reports_layout_problems(capsys, tmp_path):
    import shutil

    from skcardio.datasets import get_sample_path

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    with (root / "link.csv").open("a") as handle:
        handle.write("bad-row\nSCD9,SC-MISSING\n")
    (root / "contourfiles" / "STRAY").mkdir()
    out = tmp_path / "qc.csv"
    assert main(["qc", str(root), "--only-flagged", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "15 contoured slice(s) checked, 3 flagged; 4 dataset item(s) skipped, not checked" in printed
    assert f"{root}/link.csv:5: malformed link row ['bad-row']" in printed
    assert f"{root / 'dicoms' / 'SCD9'}: linked folder does not exist" in printed
    assert f"{root / 'contourfiles' / 'STRAY'}: not listed in link.csv" in printed
    assert len(list(csv.DictReader(out.open()))) == 15  # the CSV holds the slices


@pytest.mark.parametrize("value", ["-1", "2", "1.01", "nan", "x"])
def test_qc_max_outside_refused(value):
    result = _run_cli("--max-outside", value)
    assert result.returncode == 2
    assert result.stdout == ""  # refused before any work
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("skcardio qc: error: argument --max-outside: ")
    assert f"got {value}" in result.stderr and "between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["0", "1"])
def test_qc_max_outside_bounds(capsys, value):
    assert main(["qc", "--max-outside", value]) == 0
    # Was: -1 flagged every slice (a fraction 0.0 > -1); 0 and 1 are valid bounds.
    assert "15 contoured slice(s) checked, 3 flagged" in capsys.readouterr().out


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_qc_csv_unwritable_refused_before_work():
    result = _run_cli("--csv", "/proc/x.csv")
    assert result.returncode == 2
    assert result.stdout == ""  # no table printed
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "/proc/x.csv" in errors[0] and errors[0].startswith("skcardio qc: error:")
    assert not Path("/proc/x.csv").exists()


def test_qc_csv_write_failure_leaves_nothing(capsys, tmp_path, monkeypatch):
    from skcardio.qc import QCReport

    def failing_to_csv(self, path):
        Path(path).write_text("kind,patient_id\nslice,P")  # half written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(QCReport, "to_csv", failing_to_csv)
    out = tmp_path / "new" / "qc.csv"
    assert main(["qc", "--csv", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skcardio qc: error:" in err and "No space left" in err
    assert not (tmp_path / "new").exists() or list((tmp_path / "new").iterdir()) == []
    assert list(tmp_path.iterdir()) in ([], [tmp_path / "new"])  # no temporary file left


@pytest.mark.parametrize(
    "data, says",
    [
        (b"patient_id,original_id\nSCD0000101,SC-HF-I-1\n# caf\xe9\n", "is not UTF-8 text: byte 0xe9 at position 49 (line 3)"),
        (b'patient_id,original_id\n"' + b"x" * 200_000 + b'",y\n', "line 2: '\"xxx"),
        (b"patient_id,original_id\n" + b"a,b\n" * 100_001, "more than 100000 rows exceeds the limit max_link_rows=100000"),
    ],
    ids=["latin-1", "line-length-limit", "row-limit"],
)
def test_qc_unreadable_link_csv_one_line_exit_2(tmp_path, data, says):
    # Was a UnicodeDecodeError or csv.Error traceback.
    import shutil

    from skcardio.datasets import get_sample_path

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    (root / "link.csv").write_bytes(data)
    result = _run_cli(str(root))
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "error" in line]  # not runpy's warning
    assert line.startswith(f"skcardio qc: error: {root / 'link.csv'}") and says in line


def test_qc_lists_stray_contour_folder(capsys, tmp_path):
    import shutil

    from skcardio.datasets import get_sample_path

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    folder = root / "contourfiles" / "SC-HF-I-1"
    (folder / "o-contours").rename(folder / "o-contour")  # a typo: its o-contours were ignored without a word
    assert main(["qc", str(root)]) == 0
    printed = capsys.readouterr().out
    assert f"{folder / 'o-contour'}: not an i-contours or o-contours folder" in printed
    assert "; 1 dataset item(s) skipped, not checked" in printed


@pytest.mark.parametrize("denied", ["dicoms/SCD0000101", "contourfiles/SC-HF-I-1/i-contours"])
def test_qc_lists_an_unreadable_folder_and_checks_the_rest(capsys, tmp_path, monkeypatch, denied):
    # Was a PermissionError traceback (os.scandir in scan_layout).
    import shutil

    from _hostile import deny_folders

    from skcardio.datasets import get_sample_path

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    deny_folders(monkeypatch, root / denied)
    assert main(["qc", str(root)]) == 1
    captured = capsys.readouterr()
    assert f"1 file(s) skipped:\n  {root / denied}: cannot read folder: permission denied" in captured.err
    assert "Traceback" not in captured.err
    checked = "10 contoured slice(s)" if denied.startswith("dicoms") else "14 contoured slice(s)"
    assert checked in captured.out  # SCD0000201 and SCD0000301 (and SCD0000101's o-contoured slices)


def test_qc_skips_a_link_row_leaving_the_dataset(capsys, tmp_path):
    # One such row aborted the whole dataset (exit 2), while other malformed rows were skipped.
    import shutil

    from skcardio.datasets import get_sample_path

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    with (root / "link.csv").open("a") as handle:
        handle.write("../etc,O99\n")
    assert main(["qc", str(root)]) == 1
    captured = capsys.readouterr()
    assert "15 contoured slice(s) checked" in captured.out
    assert (f"1 file(s) skipped:\n  {root / 'link.csv'}:5: link row ['../etc', 'O99']: id '../etc' would leave "
            "the dataset root; expected a plain folder name") in captured.err
