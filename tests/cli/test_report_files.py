"""The files of a study that ``skcardio report`` did not measure, and studies of one patient: said on the console.

A stand-in segmenter (no model is trained): the phantom's bright disc.
"""

from __future__ import annotations

import csv
import json

import pytest
from _stand_ins import PoolsOfEighty

from _cine_studies import phantom, write_study

from skcardio.cli import main
from skcardio.segment import UNetSegmenter


@pytest.fixture(autouse=True)
def _stand_in(monkeypatch):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))


def _rows(out):
    with open(out / "report.csv", newline="", encoding="utf-8") as handle:
        return {row["folder"]: row for row in csv.DictReader(handle)}


def _run(*inputs, out):
    return main(["report", *map(str, inputs), "--out", str(out), "--no-progress", "--no-plots"])


def test_unreadable_files_are_listed_and_the_exit_status_is_1(tmp_path, make_dicom, capsys):
    """Files cut short were set aside without a word: a study of 9 slices of its 12 measured, exit 0."""
    root = tmp_path / "in"
    files = write_study(make_dicom, root / "A", n_phases=4, n_slices=4, shape=(64, 64))
    write_study(make_dicom, root / "B", n_phases=4, n_slices=4, shape=(64, 64), patient_id="SYN002")
    for (_, slice_), path in files.items():
        if slice_ == 0:  # one whole slice position: the study reads, one slice short
            path.write_bytes(path.read_bytes()[:300])
    out = tmp_path / "out"
    assert _run(root, out=out) == 1
    captured = capsys.readouterr()
    # While reading A: one line (counted, the first three named), not one per file.
    (line,) = [line for line in captured.err.splitlines() if "cannot be read" in line and "warning" in line]
    assert line.startswith(f"skcardio report: warning: {root / 'A'}: 4 of 16 file(s) cannot be read as DICOM "
                           "images, set aside: 1.dcm (")
    # All four named, as the list at the end names them: "and 1 more" would say less than the name.
    assert line.endswith("2.dcm, 3.dcm, 4.dcm (set_aside lists each with its reason); the study is read without "
                         "them, and may lack images")
    # At the end, with the patients skipped: the exit status is 1, as predict's for files skipped.
    assert captured.err.endswith(
        "1 patient(s) measured without some of their files:\n"
        f"  {root / 'A'}: 4 file(s) cannot be read as DICOM images (1.dcm, 2.dcm, 3.dcm, 4.dcm); measured on the "
        "12 images read; report.json's set_aside lists each with its reason\n"
    )
    rows = _rows(out)
    assert rows["A"]["status"] == rows["B"]["status"] == "ok"  # the batch went on; B measured whole
    assert (rows["A"]["n_slices"], rows["B"]["n_slices"]) == ("3", "4")
    report = json.loads((out / "report.json").read_text())
    listed = report["patients"][0]["set_aside"]
    assert [item["path"] for item in listed] == [str(files[p, 0]) for p in range(4)]
    assert all(item["reason"].startswith("unreadable: ") for item in listed)


def test_files_of_any_name_are_measured(tmp_path, make_dicom, capsys):
    """A slice saved as *.DICOM beside *.dcm files was left out without a word (3 slices measured of 4)."""
    files = write_study(make_dicom, tmp_path / "A", n_phases=4, n_slices=4, shape=(64, 64))
    for (_, slice_), path in files.items():
        if slice_ == 1:
            path.rename(path.with_suffix(".DICOM"))
    out = tmp_path / "out"
    assert _run(tmp_path / "A", out=out) == 0
    assert _rows(out)["A"]["n_slices"] == "4"


@pytest.mark.parametrize("cut", [False, True])
def test_a_stray_file_is_said(tmp_path, make_dicom, capsys, cut):
    """Files without an extension beside one stray *.dcm: only the stray one was read (and the others never named).

    A stray file that is not DICOM cannot have been an image: named, exit status 0; an image cut short may
    have been one of the study: named among the unreadable, exit status 1.
    """
    files = write_study(make_dicom, tmp_path / "A", n_phases=4, n_slices=4, shape=(64, 64))
    for path in files.values():
        path.rename(path.with_suffix(""))
    first = next(iter(files.values())).with_suffix("")
    (tmp_path / "A" / "extra.dcm").write_bytes(first.read_bytes()[:300] if cut else b"not an image\n")
    out = tmp_path / "out"
    assert _run(tmp_path / "A", out=out) == (1 if cut else 0)
    err = capsys.readouterr().err
    if cut:
        assert f"{tmp_path / 'A'}: 1 of 17 file(s) cannot be read as DICOM images, set aside: extra.dcm (" in err
    else:
        assert (f"{tmp_path / 'A'}: 1 file(s) set aside, not images of the stack measured: extra.dcm (not DICOM, "
                "no 'DICM' at byte 128) (report.json's") in err
        assert "cannot be read as DICOM images" not in err
    assert _rows(out)["A"]["n_slices"] == "4"


def test_files_set_aside_by_the_grouping_rules_are_said(tmp_path, make_dicom, capsys):
    """A localiser set aside was written in report.json only; the study is whole without it: exit status 0."""
    write_study(make_dicom, tmp_path / "A", n_phases=4, n_slices=4, shape=(64, 64))
    make_dicom(tmp_path / "A" / "900.dcm", phantom(0, 0, 4, 4, (64, 64)), instance=900, patient_id="SYN001",
               ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    out = tmp_path / "out"
    assert _run(tmp_path / "A", out=out) == 0
    err = capsys.readouterr().err
    assert (f"skcardio report: warning: {tmp_path / 'A'}: 1 file(s) set aside, not images of the stack measured: "
            "900.dcm (localiser (ImageType ORIGINAL\\PRIMARY\\LOCALIZER)) (report.json's set_aside lists each with "
            "its reason)\n") in err
    assert "measured without some of their files" not in err


def test_two_studies_of_one_patient_id_are_said(tmp_path, make_dicom, capsys):
    """Two folders of one PatientID were two rows of the table that nothing told apart, without a word."""
    write_study(make_dicom, tmp_path / "in" / "A", n_phases=4, n_slices=4, shape=(64, 64))
    write_study(make_dicom, tmp_path / "in" / "B", n_phases=4, n_slices=4, shape=(64, 64))
    write_study(make_dicom, tmp_path / "in" / "C", n_phases=4, n_slices=4, shape=(64, 64), patient_id="SYN003")
    out = tmp_path / "out"
    assert _run(tmp_path / "in", out=out) == 0
    captured = capsys.readouterr()
    note = (f"patient ID SYN001 in 2 studies: {tmp_path / 'in' / 'A'} (folder A), {tmp_path / 'in' / 'B'} (folder B); "
            "the table shows the same ID on their rows, report.csv's folder column tells them apart (the same "
            "patient twice, or a PatientID that is not unique?)")
    assert captured.err.count("warning") == 1 and f"skcardio report: warning: {note}\n" in captured.err
    table = [line.split()[0] for line in captured.out.splitlines()[1:4]]
    assert table == ["SYN001", "SYN001", "SYN003"]  # the table as it was
    report = json.loads((out / "report.json").read_text())
    assert [note in entry["notes"] for entry in report["patients"]] == [True, True, False]


def test_two_studies_of_one_patient_id_are_said_on_one_line_whatever_their_names(tmp_path, make_dicom, capsys):
    """The note quoted the folders and the PatientID unescaped: a newline in a folder's name or the PatientID
    split the warning into lines (one that read as another message). Printed escaped, one line; report.json
    keeps the true values."""
    import sys

    if sys.platform == "win32":
        pytest.skip("such names are refused by Windows")
    first, second = tmp_path / "in" / "A\nskcardio report: done", tmp_path / "in" / "B\x1b[2J\r"
    write_study(make_dicom, first, n_phases=4, n_slices=4, shape=(64, 64), patient_id="SYN\n01")
    write_study(make_dicom, second, n_phases=4, n_slices=4, shape=(64, 64), patient_id="SYN\n01")
    out = tmp_path / "out"
    assert _run(tmp_path / "in", out=out) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err
    warning = [line for line in err.splitlines() if "in 2 studies" in line]
    assert warning == [
        f"skcardio report: warning: patient ID SYN\\n01 in 2 studies: {tmp_path / 'in'}/A\\nskcardio report: done "
        f"(folder A_skcardio_report__done), {tmp_path / 'in'}/B\\x1b[2J\\r (folder B__2J_); the table "
        "shows the same ID on their rows, report.csv's folder column tells them apart (the same patient twice, "
        "or a PatientID that is not unique?)"
    ]
    notes = [entry["notes"] for entry in json.loads((out / "report.json").read_text())["patients"]]
    assert all(any(f"patient ID SYN\n01 in 2 studies: {first} (folder A_skcardio_report__done), {second} (folder "
                   "B__2J_)" in note for note in entry) for entry in notes)
