"""``skcardio report`` on a cohort: one study in memory at a time, a defect met on one study fails that study alone."""

from __future__ import annotations

import csv
import gc
import json
import weakref

import pytest
from _logging import command_logging

from _cine_studies import BrightDisc, write_study

import skcardio.clinical
import skcardio.io
from skcardio.cli import main
from skcardio.segment import UNetSegmenter


@pytest.fixture
def bright_disc(monkeypatch):
    """The phantom's bright disc as the pretrained model: no network to train or run."""
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: BrightDisc()))


def _rows(out):
    with (out / "report.csv").open() as handle:
        return {row["folder"]: row for row in csv.DictReader(handle)}


def test_a_patients_study_and_masks_are_dropped_once_its_files_are_staged(tmp_path, make_dicom, monkeypatch,
                                                                           bright_disc):
    """Every study (images, masks: ~80 MB a patient) was held until all were measured: 300 studies took 24 GB."""
    for name in ("a", "b", "c"):
        write_study(make_dicom, tmp_path / "in" / name, n_phases=4, n_slices=3)
    read_cine, segment_study = skcardio.io.read_cine, skcardio.clinical.segment_study
    held, alive = [], []  # weak references to each study and its masks; which were alive as the next was read

    def reading(folder, *args, **kwargs):
        gc.collect()
        alive.append([ref() is not None for ref in held])
        study = read_cine(folder, *args, **kwargs)
        held.append(weakref.ref(study))
        return study

    def segmenting(study, *args, **kwargs):
        masks = segment_study(study, *args, **kwargs)
        held.append(weakref.ref(masks))
        return masks

    monkeypatch.setattr(skcardio.io, "read_cine", reading)  # _report imports them as it measures each patient
    monkeypatch.setattr(skcardio.clinical, "segment_study", segmenting)
    out = tmp_path / "out"
    # Untrimmed: the measurement holds the very masks segment_study returned.
    assert main(["report", str(tmp_path / "in"), "--out", str(out), "--no-progress", "--no-trim-boundary"]) == 0
    assert alive == [[], [False, False], [False, False, False, False]]
    # Their files were written all the same, plots of the images included, and listed.
    report = json.loads((out / "report.json").read_text())
    assert [p["row"]["status"] for p in report["patients"]] == ["ok"] * 3
    assert sorted(report["files"]) == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert all((out / name / "ed_es_overlay.png").is_file() for name in ("a", "b", "c"))


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (FloatingPointError("overflow encountered in multiply\nsecond line"),
         "unexpected FloatingPointError: overflow encountered in multiply (a defect in skcardio; please report it "
         "with the traceback that skcardio -v logs)"),
        (MemoryError(), "cannot be measured: out of memory (MemoryError)"),
    ],
)
def test_an_unexpected_error_fails_that_patient_not_the_run(tmp_path, make_dicom, monkeypatch, capsys, bright_disc,
                                                            error, status):
    """Any exception but a SkcardioError stopped the run with a traceback: the patients measured were lost."""
    for name, patient_id in (("a", "SYN001"), ("b", "SYN002"), ("c", "SYN003")):
        write_study(make_dicom, tmp_path / "in" / name, n_phases=4, n_slices=3, patient_id=patient_id)
    measure_study = skcardio.clinical.measure_study

    def measuring(study, *args, **kwargs):
        if study.patient_id == "SYN002":
            raise error
        return measure_study(study, *args, **kwargs)

    monkeypatch.setattr(skcardio.clinical, "measure_study", measuring)
    out = tmp_path / "out"
    with command_logging(monkeypatch):
        assert main(["report", str(tmp_path / "in"), "--out", str(out), "--no-progress", "--no-plots"]) == 1
        captured = capsys.readouterr()
        # -v logs the traceback (skcardio.cli.report's logger, at debug level).
        assert main(["-v", "report", str(tmp_path / "in"), "--out", str(tmp_path / "v"), "--no-progress",
                     "--no-plots"]) == 1
    assert "reported 2 of 3 patient(s)" in captured.out
    assert [line for line in captured.err.splitlines() if "error" in line] == [
        f"skcardio report: error: b: {tmp_path / 'in' / 'b'}: {status}"
    ]
    assert "Traceback" not in captured.err  # a line per patient; the traceback is for -v
    rows = _rows(out)
    assert rows["a"]["status"] == rows["c"]["status"] == "ok"
    assert rows["b"]["status"] == f"error: {tmp_path / 'in' / 'b'}: {status}"
    assert (out / "c" / "slices.csv").is_file() and not (out / "b").exists()
    err = capsys.readouterr().err
    assert (f"skcardio report: debug: skcardio.cli.report: {tmp_path / 'in' / 'b'}: traceback of the unexpected "
            "error\nTraceback (most recent call last):") in err
    assert f"{type(error).__name__}" in err.split("Traceback (most recent call last):")[1]


def test_an_unexpected_error_writing_a_patients_files_fails_that_patient(tmp_path, make_dicom, monkeypatch, capsys,
                                                                         bright_disc):
    """A plot that fails on one study: that patient's files already staged are removed, the others published."""
    import skcardio.analysis

    for name in ("a", "b", "c"):
        write_study(make_dicom, tmp_path / "in" / name, n_phases=4, n_slices=3)
    sheet = skcardio.analysis.plot_ed_es_sheet

    def plotting(images, masks, *, title, **kwargs):
        if title.startswith("b:"):
            raise ValueError("cannot convert float NaN to integer")
        return sheet(images, masks, title=title, **kwargs)

    monkeypatch.setattr(skcardio.analysis, "plot_ed_es_sheet", plotting)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "in"), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"skcardio report: error: b: {tmp_path / 'in' / 'b'}: unexpected ValueError: cannot convert" in err
    rows = _rows(out)
    assert rows["a"]["status"] == rows["c"]["status"] == "ok"
    assert rows["b"]["status"].startswith(f"error: {tmp_path / 'in' / 'b'}: unexpected ValueError: cannot convert")
    assert not (out / "b").exists() and (out / "c" / "ed_es_overlay.png").is_file()
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["files"]) == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_an_interruption_while_measuring_still_stops_the_run(tmp_path, make_dicom, monkeypatch, capsys, bright_disc):
    """KeyboardInterrupt (Ctrl-C) is no patient's failure: the run stops, --out not created."""
    write_study(make_dicom, tmp_path / "in" / "a", n_phases=4, n_slices=3)

    def interrupted(study, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skcardio.clinical, "measure_study", interrupted)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "in"), "--out", str(out), "--no-progress", "--no-plots"]) == 130
    assert "interrupted (SIGINT)" in capsys.readouterr().err and not out.exists()


def test_the_error_line_names_a_relative_folder_once(tmp_path, make_dicom, monkeypatch, capsys, bright_disc):
    """report c5 said 'error: c5: c5: one image per slice position...': the name, then the message naming it."""
    write_study(make_dicom, tmp_path / "c5", n_phases=1, n_slices=2)
    write_study(make_dicom, tmp_path / "ok", n_phases=4, n_slices=2)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "c5", "ok", "--out", "out", "--no-progress", "--no-plots"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert errors == ["skcardio report: error: c5: one image per slice position (2 positions): selected slices, "
                      "not a complete cine study; volumes over the cycle and EF need every cardiac phase at every "
                      "slice position"]
    assert _rows(tmp_path / "out")["c5"]["status"] == f"error: {errors[0].removeprefix('skcardio report: error: ')}"


def test_a_batch_jobs_log_gets_progress_lines(tmp_path, make_dicom, monkeypatch, capsys, bright_disc):
    """stderr not a terminal (a scheduler's log): tqdm showed nothing for hours; now a line per interval."""
    from skcardio.cli import _progress

    for name in ("A", "B"):
        write_study(make_dicom, tmp_path / "in" / name, n_phases=4, n_slices=2, patient_id=name)
    monkeypatch.setattr(_progress, "LOG_INTERVAL", 0.0)  # a line after every patient
    assert main(["report", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("report: ")]
    assert [line.split(" in ")[0] for line in lines] == ["report: 1/2 patient(s) (50 %)", "report: 2/2 patient(s) (100 %)"]
    assert lines[0].endswith("left (last: A)")
    assert main(["report", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-plots", "--no-progress"]) == 0
    assert "report: 1/2" not in capsys.readouterr().err
