"""``skcardio predict`` on a cohort: folders of one name, and a re-run over an earlier run's large record.

Folders named alike (``cohort/P001/DICOM``, ``cohort/P002/DICOM``...) all
wrote into one ``DICOM/`` output folder, renamed ``240_4999_mask.png`` with
one warning per file, and making the names distinct took time in the
square of their number (19 s for 200 folders of 240 files before the first
slice). A ``predictions.csv`` beyond ``max_text_bytes`` (16 MiB: about
205,000 slices) was not read on the next run into the same ``--out``: the
earlier run's outputs stayed mixed with the new ones.
"""

from __future__ import annotations

import csv
import logging
import shutil
import warnings

import pytest

from _cine_studies import BrightDisc, write_study

from skcardio.cli import main
from skcardio.cli._predict import collect_dicoms
from skcardio.io import limits_context
from skcardio.segment import UNetSegmenter


@pytest.fixture(autouse=True)
def _bright_disc(monkeypatch):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: BrightDisc()))


def _predict(*inputs, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(["predict", *map(str, inputs), "--out", str(out), "--no-progress", "--no-overlay"])


def _stems(out):
    with open(out / "predictions.csv", newline="", encoding="utf-8") as handle:
        return [row["output_stem"] for row in csv.DictReader(handle)]


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_folders_of_one_name_keep_the_names_of_their_parents(tmp_path, make_dicom, capsys):
    for patient in ("P1", "P2"):
        write_study(make_dicom, tmp_path / "a" / patient / "DICOM", n_phases=2, n_slices=1)
    out = tmp_path / "out"
    assert _predict(tmp_path / "a" / "P1" / "DICOM", tmp_path / "a" / "P2" / "DICOM", out=out) == 0
    assert _stems(out) == ["P1/DICOM/1", "P1/DICOM/2", "P2/DICOM/1", "P2/DICOM/2"]
    assert _files(out) == ["P1/DICOM/1_contour.txt", "P1/DICOM/1_mask.npy", "P1/DICOM/1_mask.png",
                           "P1/DICOM/2_contour.txt", "P1/DICOM/2_mask.npy", "P1/DICOM/2_mask.png",
                           "P2/DICOM/1_contour.txt", "P2/DICOM/1_mask.npy", "P2/DICOM/1_mask.png",
                           "P2/DICOM/2_contour.txt", "P2/DICOM/2_mask.npy", "P2/DICOM/2_mask.png",
                           "predictions.csv"]
    assert "warning" not in capsys.readouterr().err  # a documented layout, not a rename


def test_as_many_parents_as_tell_the_folders_apart(tmp_path):
    """The same number of names for every folder of one name; other folders keep theirs alone."""
    folders = ["k/a/x/P1/DICOM", "k/b/x/P1/DICOM", "k/c/P2/DICOM", "k/c/P2/dicom2", "k/c/P3/Dicom"]
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "1.dcm").write_bytes(b"")
    notes = []
    pairs = collect_dicoms([str(tmp_path / folder) for folder in folders], notes)
    assert [str(stem) for _, stem in pairs] == ["a/x/P1/DICOM/1", "b/x/P1/DICOM/1", "k/c/P2/DICOM/1", "dicom2/1",
                                                "k/c/P3/Dicom/1"]  # DICOM and Dicom: one name, ignoring case
    assert notes == []


def test_files_of_one_name_given_directly_keep_their_folders_names(tmp_path):
    for folder in ("p1", "p2", "p3/sub"):
        (tmp_path / "k" / folder).mkdir(parents=True)
        (tmp_path / "k" / folder / "2.dcm").write_bytes(b"")
    (tmp_path / "k" / "p1" / "3.dcm").write_bytes(b"")
    notes = []
    pairs = collect_dicoms([str(tmp_path / "k" / name) for name in ("p1/2.dcm", "p2/2.dcm", "p3/sub/2.dcm", "p1/3.dcm")],
                           notes)
    assert [str(stem) for _, stem in pairs] == ["p1/2", "p2/2", "sub/2", "3"]
    assert notes == []


def test_cohort_of_folders_of_one_name_is_named_in_linear_time(tmp_path, monkeypatch):
    """200 folders DICOM of 240 files took 19 s before the first slice (50: 1.2 s); now time grows with the files."""
    from skcardio.cli import _output_names

    calls = []
    real = _output_names.fit_name
    monkeypatch.setattr(_output_names, "fit_name", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    for patients in (10, 40):
        for p in range(patients):
            folder = tmp_path / str(patients) / f"P{p:03d}" / "DICOM"
            folder.mkdir(parents=True)
            for k in range(20):
                (folder / f"{k}.dcm").write_bytes(b"")
        calls.clear()
        notes = []
        pairs = collect_dicoms([str(tmp_path / str(patients) / f"P{p:03d}" / "DICOM") for p in range(patients)], notes)
        assert str(pairs[-1][1]) == f"P{patients - 1:03d}/DICOM/19" and notes == []
        assert len(calls) == 3 * 20 * patients  # one call a part of each stem


def test_many_renamed_outputs_are_one_warning(tmp_path, make_dicom, capsys):
    """One warning line each: 1.2 million of them for a cohort of folders of one name."""
    files = write_study(make_dicom, tmp_path / "in", n_phases=5, n_slices=1)
    for path in files.values():  # 1.dcm and 1.DCM: one output name on macOS and Windows
        shutil.copyfile(path, path.with_suffix(".DCM"))
    out = tmp_path / "out"
    assert _predict(tmp_path / "in", out=out) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 2, err  # the heading and one line
    assert (f"1 warning(s):\n  5 files: outputs renamed (5 as their name was another's, ignoring case; 0 as too long "
            f"for a file system); predictions.csv maps each file to its output_stem: {tmp_path}/in/1.dcm as in/1_2, "
            f"{tmp_path}/in/2.dcm as in/2_2, {tmp_path}/in/3.dcm as in/3_2 and 2 more\n") == err
    assert sorted(_stems(out)) == sorted(f"in/{k}{suffix}" for k in range(1, 6) for suffix in ("", "_2"))


def test_a_record_larger_than_a_text_file_is_read_and_the_stale_files_removed(tmp_path, make_dicom, caplog):
    """predictions.csv beyond max_text_bytes (100 bytes here, 16 MiB by default: ~205,000 slices) kept every file."""
    for patient in ("P1", "P2", "P3"):
        write_study(make_dicom, tmp_path / "cohort" / patient, n_phases=3, n_slices=1)
    out = tmp_path / "out"
    assert _predict(*(tmp_path / "cohort" / p for p in ("P1", "P2", "P3")), out=out) == 0
    assert (out / "predictions.csv").stat().st_size > 1000
    with limits_context(max_text_bytes=1000), caplog.at_level(logging.WARNING):
        assert _predict(tmp_path / "cohort" / "P1", out=out) == 0
    assert "not read as the record" not in caplog.text
    expected = [f"P1/{k}{suffix}" for k in (1, 2, 3) for suffix in ("_contour.txt", "_mask.npy", "_mask.png")]
    assert _files(out) == sorted(expected + ["predictions.csv"])  # P2's and P3's removed


@pytest.mark.parametrize("planted, reason", [
    ("output_stem\n" + "P2/1\n" * 2000, "a CSV file of 10012 bytes exceeds the limit max_record_bytes=5000"),
    ("output_stem\n" + "P" * 3000 + "\n", "a CSV row of more than 1000 characters exceeds the limit max_text_bytes=1000"),
    ('output_stem\n"P2/1\n' + "P2/1\n" * 500 + '"\n', "a CSV row of more than 1000 characters"),  # a quote left open
])
def test_a_planted_record_removes_nothing(tmp_path, make_dicom, caplog, planted, reason):
    for patient in ("P1", "P2"):
        write_study(make_dicom, tmp_path / "cohort" / patient, n_phases=1, n_slices=1)
    out = tmp_path / "out"
    assert _predict(tmp_path / "cohort" / "P1", tmp_path / "cohort" / "P2", out=out) == 0
    (out / "predictions.csv").write_text(planted)
    before = _files(out)
    with limits_context(max_text_bytes=1000, max_record_bytes=5000), caplog.at_level(logging.WARNING):
        assert _predict(tmp_path / "cohort" / "P1", out=out) == 0
    assert f"{out / 'predictions.csv'}: not read as the record of an earlier run (" in caplog.text
    assert reason in caplog.text and "the files of that run are kept" in caplog.text
    assert _files(out) == before and "P2/1_mask.npy" in before
