"""The files of ``skcardio report``: each patient's, staged as soon as it is measured, and the summary's at the end.

A patient's files (``slices.csv``, plots, series files) are written into the
staging folder right after it is measured (:func:`stage_patient`); what the
summary needs of it, its ``report.json`` entry (:class:`StagedPatient`), is
all that is kept: its images and masks are dropped, so that a cohort's run
holds one study in memory, not all of them. The summary files
(``report.csv``, ``report.json``, ``bland_altman.png``, ``series.csv``)
are written last (:func:`write_summary`); ``--out`` changes only when the
stage is published, all at once.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .._text import printable, readable, text_file
from ._records import REPORT_WRITTEN_BY
from ._report_patients import PatientInput
from ._series import SERIES_CSV, SeriesFailure
from ._trim_option import level_text

__all__ = ["CSV_FIELDS", "PATIENT_FILES", "PatientResult", "StagedPatient", "stage_patient", "write_summary"]

#: Columns of ``report.csv`` (and of each patient's ``row`` in ``report.json``).
CSV_FIELDS = (
    "patient_id", "folder", "status", "n_phases", "n_slices", "slices_kept", "slice_spacing_mm", "spacing_source",
    "ed_phase", "es_phase", "edv_ml", "esv_ml", "sv_ml", "ef_pct", "heart_rate_bpm", "cardiac_output_l_min",
    "expert_images", "expert_ed_phase", "expert_es_phase", "expert_edv_ml", "expert_esv_ml", "expert_sv_ml",
    "expert_ef_pct", "model_on_expert_ed_phase", "model_on_expert_es_phase", "model_on_expert_edv_ml",
    "model_on_expert_esv_ml", "model_on_expert_sv_ml", "model_on_expert_ef_pct",
    "model_on_expert_edv_diff_pct", "model_on_expert_esv_diff_pct", "model_on_expert_ef_diff_points",
    "auto_edv_diff_pct", "auto_esv_diff_pct", "auto_ef_diff_points", "lv_mass_g", "boundary_level", "seconds",
)
#: Files written for each patient, in ``<folder>/``.
PATIENT_FILES = ("volume_curve.png", "ed_es_overlay.png", "slices.csv")


@dataclass
class PatientResult:
    """One patient as measured: its study and masks (tens of MB), or the error that stopped it."""

    patient: PatientInput
    measurement: object = None  # StudyMeasurement
    study: object = None  # CineStudy
    error: str = ""
    expert_error: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = math.nan
    mass_g: float = math.nan


@dataclass
class StagedPatient:
    """What the summary needs of a patient whose files are staged: no image, no mask (a few kB)."""

    patient: PatientInput
    entry: dict  # its entry of report.json; entry["row"] is its row of report.csv
    patient_id: str | None = None  # the study's PatientID, when measured
    unreadable: str = ""  # its files that could not be read, for the list at the end (when measured)
    series_index: list[dict] = field(default_factory=list)  # its rows of series.csv
    series_failed: list[SeriesFailure] = field(default_factory=list)  # its series files not written

    @property
    def measured(self) -> bool:
        """Whether its volumes were measured (status ``ok``)."""
        return self.entry["row"]["status"] == "ok"


def stage_patient(stage: Path, result: PatientResult, *, plots: bool, dicom_seg: bool = False, nifti: bool = False,
                  boundary_level: float | None = None, out: Path | None = None) -> StagedPatient:
    """Write the files of one patient under ``stage``; return what the summary needs of it.

    Parameters
    ----------
    stage : Path
        The run's staging folder (:func:`~skcardio.cli._staging.staging`).
    result : PatientResult
        The patient as measured; a failed one gets its entry and no file.
    plots : bool
        Whether to write ``volume_curve.png`` and ``ed_es_overlay.png``.
    dicom_seg, nifti : bool
        Whether to write the masks the volumes count as DICOM SEG / NIfTI files.
    boundary_level : float or None
        The ``--trim-boundary`` level, written on the patient's row.
    out : Path or None
        Where ``stage`` is published: messages about series files name them there.

    Returns
    -------
    StagedPatient
        Its ``report.json`` entry, PatientID and series rows: nothing that
        holds its images or masks, so ``result`` can be dropped.
    """
    entry = _entry(result)
    # The level asked for (--trim-boundary), on a failed patient's row too.
    entry["row"]["boundary_level"] = math.nan if boundary_level is None else boundary_level
    entry["files"] = _files_of(result, plots)
    staged = StagedPatient(result.patient, entry)
    if result.measurement is None:
        return staged
    staged.patient_id = result.study.patient_id
    folder = stage / result.patient.name
    folder.mkdir(parents=True, exist_ok=True)
    _write_slices_csv(folder / "slices.csv", entry["slices"])
    if plots:
        _patient_plots(folder, result)
    if dicom_seg or nifti:
        staged.series_index = _series_files(stage, result, entry, dicom_seg=dicom_seg, nifti=nifti,
                                            boundary_level=boundary_level, out=out, failures=staged.series_failed)
        entry["series_files"] = staged.series_index
        entry["files"] += [row["file"] for row in staged.series_index]
    return staged


def write_summary(stage: Path, patients: list[StagedPatient], *, plots: bool, series: bool = False,
                  boundary_level: float | None = None, skipped: list[tuple[str, str]] = ()) -> list[dict]:
    """Write ``report.csv``, ``report.json``, ``bland_altman.png`` and ``series.csv`` under ``stage``.

    Parameters
    ----------
    stage : Path
        The run's staging folder, which holds the patients' files (:func:`stage_patient`).
    patients : list of StagedPatient
        Every patient of the run, in order, measured or not.
    plots : bool
        Whether to draw ``bland_altman.png`` (when expert values exist).
    series : bool
        Whether ``--dicom-seg`` or ``--nifti`` was given: ``series.csv`` is written.
    boundary_level : float or None
        The ``--trim-boundary`` level, recorded in ``report.json``.
    skipped : list of (str, str)
        Dataset entries skipped, ``(path, reason)``, recorded in ``report.json``.

    Returns
    -------
    list of dict
        The patients' entries of ``report.json``.
    """
    from ._series import write_series_index

    entries = [patient.entry for patient in patients]
    _write_csv(stage / "report.csv", [e["row"] for e in entries])
    experts = [e["row"] for e in entries if _finite(e["row"].get("expert_ef_pct"))]
    if plots and experts:
        _bland_altman(stage / "bland_altman.png", experts)
    files = {f for e in entries for f in e["files"]} | {"report.csv", "report.json"}
    if plots and experts:
        files.add("bland_altman.png")
    if series:
        write_series_index(stage, [row for patient in patients for row in patient.series_index])
        files.add(SERIES_CSV)
    summary = {"written_by": REPORT_WRITTEN_BY, "patients": entries, "files": sorted(files), "boundary_level": boundary_level,
               "skipped": [{"path": path, "reason": reason} for path, reason in skipped]}
    with text_file(stage / "report.json") as handle:
        json.dump(_jsonable(summary), handle, indent=1, allow_nan=False)
    return entries


def _series_files(stage: Path, result: PatientResult, entry: dict, *, dicom_seg: bool, nifti: bool,
                  boundary_level: float | None = None, out: Path | None = None,
                  failures: list[SeriesFailure] | None = None) -> list[dict]:
    """Write the masks the automatic volumes count as NIfTI / DICOM SEG per series; the ``series.csv`` rows.

    Slices that the selection left out are written empty, so that the files
    give the reported volumes. Errors and warnings are printed once per
    patient and kept in ``entry``; they name the files in ``out``, where ``stage`` is published.
    The files not written are appended to ``failures``.
    """
    from ..exceptions import SkcardioError
    from ..io import read_dicom
    from ._series import series_of, write_series_files

    m, name = result.measurement, result.patient.name
    masks = m.masks & m.selection.keep[None, :, None, None]
    index, failed, caught = [], [], []
    try:  # the files were read moments ago; one may have gone since
        headers = [read_dicom(path, pixels=False) for path in m.geometry.paths.ravel()]  # phase by phase, as masks
    except SkcardioError as exc:
        failed.append(SeriesFailure(f"no series file written: {exc}", "series", None, scope="patient(s)"))
    else:
        groups = series_of(Path(name), masks.reshape(-1, *masks.shape[2:]), headers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            index, failed = write_series_files(stage, groups, dicom_seg=dicom_seg, nifti=nifti,
                                               boundary_level=boundary_level, out=out)
    if failures is not None:
        failures += failed
    errors = [failure.message for failure in failed]
    # A remark on the sources comes once per SEG file (one per phase): said once, counted.
    remarks: dict[str, list[str]] = {}
    for w in caught:
        remarks.setdefault(re.sub(r"\d+", "#", str(w.message)), []).append(str(w.message))
    for same in remarks.values():
        note = same[0] + (f" (and {len(same) - 1} more like it)" if len(same) > 1 else "")
        print(f"skcardio report: warning: {printable(name)}: {printable(note)}", file=sys.stderr)
        entry["notes"].append(note)
    for error in errors:
        print(f"skcardio report: error: {printable(name)}: {printable(error)}", file=sys.stderr)
    if errors:
        entry["series_errors"] = errors
    return index


def _files_of(result: PatientResult, plots: bool) -> list[str]:
    if result.measurement is None:
        return []
    names = PATIENT_FILES if plots else ("slices.csv",)
    return [f"{result.patient.name}/{name}" for name in names]


def _entry(result: PatientResult) -> dict:
    row = dict.fromkeys(CSV_FIELDS, math.nan)
    row.update(folder=result.patient.name, patient_id=result.patient.name, seconds=round(result.seconds, 2))
    entry: dict = {"source": str(result.patient.folder), "notes": result.notes}
    if result.study is not None:
        entry["set_aside"] = [{"path": a.path, "reason": a.reason} for a in result.study.set_aside]
    if result.measurement is None:
        row["status"] = f"error: {result.error}"
        entry["row"] = row
        return entry
    m = result.measurement
    row.update(m.row())
    row["folder"], row["status"] = result.patient.name, "ok"
    row["lv_mass_g"] = result.mass_g
    if result.expert_error:
        entry["expert_error"] = result.expert_error
    g = m.geometry
    entry.update(
        row=row,
        geometry={
            "pixel_spacing_mm": list(g.pixel_spacing), "slice_positions_mm": g.slice_positions.round(3).tolist(),
            "slice_spacing_mm": g.slice_spacing, "spacing_source": g.spacing_source, "spacing_check": g.spacing_check,
            "slice_thickness_mm": g.slice_thickness, "series": list(g.series),
            "heart_rate_bpm": g.heart_rate, "heart_rate_source": g.heart_rate_source,
        },
        volumes_ml={
            "automatic": m.volumes.round(2).tolist(),
            "expert": None if m.expert_volumes is None else m.expert_volumes.round(2).tolist(),
            "model_on_expert": None if m.model_on_expert_volumes is None else m.model_on_expert_volumes.round(2).tolist(),
        },
        trigger_times_ms=g.trigger_times.round(2).tolist(),
        slices=m.selection.table(g),
    )
    if m.expert_observed is not None:
        # Which slices the expert contoured (at how many phases): tells a difference in the slices
        # counted from a difference in segmentation when the automatic volumes differ from the expert's.
        for slice_row, count in zip(entry["slices"], m.expert_observed.sum(axis=0)):
            slice_row["expert_contours"] = int(count)
    return entry


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _jsonable(value):
    """NaN -> None (JSON has no NaN), numpy scalars -> Python, text -> :func:`readable` (a file name not UTF-8)."""
    if isinstance(value, dict):
        return {readable(k) if isinstance(k, str) else k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return readable(value)
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _format(value, field: str = "") -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        # The level as given (0.145, 0.1234); volumes, EF and the rest to two decimals.
        return level_text(value) if field == "boundary_level" else f"{value:.2f}"
    return str(value)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with text_file(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _format(row.get(k, ""), k) for k in CSV_FIELDS})


def _write_slices_csv(path: Path, slices: list[dict]) -> None:
    with text_file(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(slices[0]) if slices else ["slice"])
        writer.writeheader()
        writer.writerows(slices)


def _patient_plots(folder: Path, result: PatientResult) -> None:
    from ..analysis import plot_ed_es_sheet, plot_volume_curve

    m, name = result.measurement, result.patient.name
    others = {}
    if m.expert_volumes is not None:
        others = {"expert contours": m.expert_volumes, "model on the expert's images": m.model_on_expert_volumes}
    f = m.function
    title = f"{name}: EDV {f.edv:.0f} mL, ESV {f.esv:.0f} mL, EF {f.ef:.0f} %"
    ed, es = (f.ed_phase, f.es_phase) if f.ed_phase >= 0 else (None, None)
    plot_volume_curve(m.volumes, ed_phase=ed, es_phase=es, others=others, title=title, path=folder / "volume_curve.png")
    kept = [int(s) for s in m.selection.keep.nonzero()[0]]
    if ed is None or not kept:
        kept, ed, es = list(range(m.geometry.n_slices)), 0, 0
    labels = [f"{m.geometry.slice_positions[s]:.0f} mm" for s in kept]
    plot_ed_es_sheet(
        result.study.images, m.masks, ed_phase=ed, es_phase=es, slices=kept, slice_labels=labels,
        title=f"{name}: kept slices at ED and ES (automatic masks)", path=folder / "ed_es_overlay.png",
    )


def _bland_altman(path: Path, rows: list[dict]) -> None:
    from ..analysis import plot_bland_altman

    measured = {
        "automatic (every image)": [r["ef_pct"] for r in rows],
        "model on the expert's images": [r["model_on_expert_ef_pct"] for r in rows],
    }
    plot_bland_altman(
        [r["expert_ef_pct"] for r in rows], measured, labels=[r["patient_id"] for r in rows],
        title="Ejection fraction against the expert's contours", path=path,
    )

