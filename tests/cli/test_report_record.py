"""Which files of an earlier ``skcardio report`` a re-run removes: only those its own record, ``report.json``, lists."""

from __future__ import annotations

import json
import logging
import os

import pytest
from _hostile import planted_fifo
from _locks import locked_by_another, needs_flock
from _stand_ins import PoolsOfEighty

from _cine_studies import write_study

from skcardio.cli import main
from skcardio.io import limits_context
from skcardio.segment import UNetSegmenter

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _report_a(tmp_path, out, *flags):
    return main(["report", str(tmp_path / "a"), "--out", str(out), "--no-progress", "--no-plots", *flags])


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_files_merely_named_like_outputs_are_kept(tmp_path, make_dicom, monkeypatch):
    """Without a report.json listing it, bland_altman.png was deleted as "left by an earlier run"."""
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    out.mkdir()
    (out / "bland_altman.png").write_text("mine")
    assert _report_a(tmp_path, out) == 0
    assert (out / "bland_altman.png").read_text() == "mine"
    assert "bland_altman.png" not in json.loads((out / "report.json").read_text())["files"]
    # Nor with a report.json that does not list it (the earlier run drew no Bland-Altman plot).
    assert _report_a(tmp_path, out) == 0
    assert (out / "bland_altman.png").read_text() == "mine"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and FIFOs")
def test_a_link_or_a_pipe_planted_as_report_json_is_not_read(tmp_path, make_dicom, monkeypatch, caplog):
    """A FIFO hung report after all the work; a link was followed and decided what was deleted."""
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"files": ["mine.txt"]}))
    (out / "report.json").symlink_to(planted)
    assert _report_a(tmp_path, out) == 0
    assert (out / "mine.txt").read_text() == "mine" and json.loads(planted.read_text()) == {"files": ["mine.txt"]}
    assert not (out / "report.json").is_symlink()  # replaced by the output, its target untouched
    assert f"{out / 'report.json'}: not read as the record of an earlier run (a symbolic link" in caplog.text

    (out / "report.json").unlink()
    with planted_fifo(out / "report.json") as fifo:
        assert _report_a(tmp_path, out) == 0
    assert not fifo["released"], "report waited on the FIFO"
    assert "is a pipe (FIFO), expected a regular JSON file" in caplog.text
    assert (out / "mine.txt").read_text() == "mine" and (out / "report.json").is_file()


def test_report_and_predict_keep_to_their_own_series_files(tmp_path, make_dicom, monkeypatch, capsys):
    """Both write a series.csv: one command removed (or replaced) the other's series files through it."""
    pytest.importorskip("nibabel")
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=3)
    write_study(make_dicom, tmp_path / "stack", n_phases=1, n_slices=3, series_number=7)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))

    def predict(out, *flags):
        return main(["predict", str(tmp_path / "stack"), "--out", str(out), "--no-progress", *flags])

    shared = tmp_path / "shared"
    assert _report_a(tmp_path, shared, "--nifti") == 0
    reported = _files(shared)
    assert {"series.csv", "a/series5_mask.nii.gz"} <= set(json.loads(reported["report.json"])["files"])
    # predict's re-run removes its own earlier files, not report's series files...
    assert predict(shared) == 0
    assert {name: data for name, data in _files(shared).items() if name in reported} == reported
    # ... nor replaces report's series.csv: refused before any work.
    before = _files(shared)
    capsys.readouterr()
    assert predict(shared, "--nifti") == 2
    assert f"{shared / 'series.csv'}: it lists the series files of an earlier 'skcardio report' " \
        f"({shared / 'report.json'} names it); predict --dicom-seg/--nifti would replace it" in capsys.readouterr().err
    assert _files(shared) == before

    # The other way round: predict's series.csv first.
    other = tmp_path / "other"
    assert predict(other, "--nifti") == 0
    predicted = _files(other)
    assert {"series.csv", "stack/series7_mask.nii.gz"} <= set(predicted)
    assert _report_a(tmp_path, other, "--nifti") == 2
    assert f"{other / 'series.csv'}: no {other / 'report.json'} lists it" in capsys.readouterr().err
    assert _files(other) == predicted
    assert _report_a(tmp_path, other) == 0  # without series files: predict's are left alone
    assert {name: data for name, data in _files(other).items() if name in predicted} == predicted
    # predict's own re-run still removes its own series files, and nothing of report's.
    report_files = set(json.loads((other / "report.json").read_text())["files"])
    assert predict(other) == 0
    assert not (other / "series.csv").exists() and not (other / "stack" / "series7_mask.nii.gz").exists()
    assert all((other / name).is_file() for name in report_files)


def test_report_removes_only_the_files_report_writes_that_its_own_record_lists(tmp_path, caplog):
    """Any report.json with a "files" list decided what report removed: another program's, or a hand-edited one."""
    from skcardio.cli._report import _earlier_outputs

    ours = ["report.csv", "report.json", "bland_altman.png", "series.csv", "P1/volume_curve.png",
            "P1/ed_es_overlay.png", "P1/slices.csv", "P1/series5_mask.nii.gz", "P1/series5-2_seg.dcm",
            "P1/series_phase03_seg.dcm"]
    others = ["notes.txt", "P1/notes.txt", "a/b/slices.csv", "P1/series5_mask.nii", "P1/series5.dcm", "slices.csv"]
    for record in ({"written_by": "skcardio report", "patients": []}, {"patients": []}):  # today's, and before the mark
        (tmp_path / "report.json").write_text(json.dumps({**record, "files": ours + others}))
        assert _earlier_outputs(tmp_path) == ours
    (tmp_path / "report.json").write_text(json.dumps({"files": ours}))  # another program's
    assert _earlier_outputs(tmp_path) == []
    assert 'no "written_by": "skcardio report": written by another program' in caplog.text


def test_another_programs_report_json_removes_nothing(tmp_path, make_dicom, monkeypatch):
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    (out / "x").mkdir(parents=True)
    (out / "x" / "slices.csv").write_text("another program's")
    (out / "report.json").write_text(json.dumps({"files": ["x/slices.csv"]}))
    assert _report_a(tmp_path, out) == 0
    assert (out / "x" / "slices.csv").read_text() == "another program's"
    assert json.loads((out / "report.json").read_text())["written_by"] == "skcardio report"


@needs_flock
def test_report_and_predict_read_the_earlier_record_with_out_locked(tmp_path, make_dicom, monkeypatch):
    """Read unlocked, a concurrent run's half-published record replaced another's: files listed by no record."""
    from skcardio.cli import _predict, _report

    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    seen = []
    for module in (_report, _predict):
        real = module._earlier_outputs
        monkeypatch.setattr(module, "_earlier_outputs",
                            lambda out, real=real, name=module.__name__: seen.append((name, locked_by_another(out)))
                            or real(out))
    assert _report_a(tmp_path, tmp_path / "r") == 0
    assert main(["predict", str(tmp_path / "a"), "--out", str(tmp_path / "p"), "--no-progress"]) == 0
    assert seen == [("skcardio.cli._report", True), ("skcardio.cli._predict", True)]


def test_another_programs_report_json_does_not_give_report_predicts_series_index(
    tmp_path, make_dicom, monkeypatch, capsys
):
    """A report.json that skcardio report did not write listed series.csv: report then replaced predict's."""
    pytest.importorskip("nibabel")
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=3)
    write_study(make_dicom, tmp_path / "stack", n_phases=1, n_slices=3, series_number=7)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "stack"), "--out", str(out), "--no-progress", "--nifti"]) == 0
    (out / "report.json").write_text(json.dumps({"files": ["series.csv"], "tool": "another program"}))
    before = _files(out)
    capsys.readouterr()
    assert _report_a(tmp_path, out, "--nifti") == 2
    err = capsys.readouterr().err
    assert "series.csv" in err and "report" in err
    assert _files(out) == before


def test_a_report_json_larger_than_a_text_file_is_read_and_stale_patients_removed(tmp_path, make_dicom, monkeypatch,
                                                                                  caplog):
    """report.json beyond max_text_bytes (16 MiB: about 2,200 patients; 4,000 bytes here) kept every stale patient.

    It is read entry by entry now: max_text_bytes bounds one patient's entry, max_record_bytes the whole.
    """
    for patient in "ABC":
        write_study(make_dicom, tmp_path / "cohort" / patient, n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "cohort"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert (out / "report.json").stat().st_size > 6000 and {"A", "B", "C"} <= {p.name for p in out.iterdir()}
    with limits_context(max_text_bytes=4000), caplog.at_level(logging.WARNING):
        assert main(["report", str(tmp_path / "cohort" / "A"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert "not read as the record" not in caplog.text
    assert sorted(_files(out)) == ["A/slices.csv", "report.csv", "report.json"]


@pytest.mark.parametrize("limits, reason", [
    ({"max_record_bytes": 6000}, "exceeds the limit max_record_bytes=6000"),  # the whole record
    ({"max_text_bytes": 1000}, "a JSON value of more than 1000 characters exceeds the limit max_text_bytes=1000"),
])
def test_a_report_json_over_its_bounds_removes_nothing(tmp_path, make_dicom, monkeypatch, caplog, limits, reason):
    for patient in "AB":
        write_study(make_dicom, tmp_path / "cohort" / patient, n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "cohort"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    record = json.loads((out / "report.json").read_text())
    (out / "report.json").write_text(json.dumps(record, indent=1) + " " * 6000)  # its own, padded
    with limits_context(**limits), caplog.at_level(logging.WARNING):
        assert main(["report", str(tmp_path / "cohort" / "A"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert f"{out / 'report.json'}: not read as the record of an earlier run (" in caplog.text
    assert reason in caplog.text and "the files of that run are kept" in caplog.text
    assert (out / "B" / "slices.csv").is_file()


def test_a_malformed_report_json_removes_nothing(tmp_path, make_dicom, monkeypatch, caplog):
    for patient in "AB":
        write_study(make_dicom, tmp_path / "cohort" / patient, n_phases=3, n_slices=2)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "cohort"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    text = (out / "report.json").read_text()
    (out / "report.json").write_text(text[: len(text) // 2])  # cut short: the list of files never reached
    with caplog.at_level(logging.WARNING):
        assert main(["report", str(tmp_path / "cohort" / "A"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert f"{out / 'report.json'}: not read as the record of an earlier run (" in caplog.text
    assert (out / "B" / "slices.csv").is_file()
