"""``skcardio report [ROOT | DICOM_FOLDER ...] --out DIR``: LV volumes and ejection fraction per patient."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .._text import console_stream, printable, readable, text_file
from ._arguments import add_device_argument, add_threads_argument, apply_threads, device_option, positive_int
from ._output import check_destinations, check_outside_inputs, out_dir
from ._problems import report_problems
from ._records import REPORT_WRITTEN_BY, record_files
from ._report_patients import SUMMARY_FILES, PatientInput, find_patients, hidden_note
from ._series import SERIES_CSV, SeriesFailure, check_extras, check_series_index, not_written
from ._series import add_arguments as add_series_arguments
from ._staging import publish, staging
from ._trim_option import add_trim_argument, level_text, trim_level

__all__ = ["register", "PatientInput", "find_patients", "CSV_FIELDS"]

logger = logging.getLogger("skcardio.cli.report")

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
#: The series files report writes in a patient's folder (``_series.write_series_files``): ``series5_mask.nii.gz``,
#: ``series5-2_seg.dcm``, ``series5_phase03_seg.dcm``, ``series_seg.dcm`` (no SeriesNumber).
_SERIES_FILE = re.compile(r"series(-?\d+)?(-\d+)?(_mask\.nii\.gz|_seg\.dcm|_phase\d+_seg\.dcm)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="LV volumes, ejection fraction and plots per patient from cine DICOM studies",
        description=(
            "Segment every image of each patient's short-axis cine study, trim each mask's dark rim "
            "(--trim-boundary), keep the slices that hold the left ventricle, and report end-diastolic "
            "and end-systolic volume, stroke volume, "
            "ejection fraction (and cardiac output when the DICOMs carry the heart rate). INPUT is a "
            "dataset folder with link.csv (every dicoms/<patient> folder; the expert i-contours give "
            "expert values and the model's values on the expert's images), a folder of patient "
            "folders, or one patient's DICOM folder (a dataset's dicoms/<patient> folder keeps its expert "
            "contours); each a whole cine study, every phase at every slice position, and each given once (a study "
            "given twice, by two inputs, by a link to another study or as a folder inside another study's, which "
            "is read with its subfolders, is refused). "
            "Writes report.csv, report.json, "
            "bland_altman.png (when expert values exist) and per patient FOLDER/volume_curve.png, "
            "FOLDER/ed_es_overlay.png and FOLDER/slices.csv to --out, all at the end; the files that an earlier "
            "report's report.json there lists and this run does not write are removed, no other file. In a folder "
            "of patient folders, an entry whose name starts with '.' is not a patient: the summary names those "
            "left out. With "
            "--dicom-seg and --nifti, also the masks the volumes count (the kept slices; the others "
            "empty) of each series in these standard formats, in FOLDER and listed in series.csv (refused where "
            "--out holds a series.csv of skcardio predict). FOLDER is "
            "the patient folder's name, made unique with _2, _3... A dataset's dicoms/ entry that is a link "
            "out of the dataset or a loop is skipped, as qc does. A "
            "patient that cannot be read, or of whom no slice is kept as holding the left ventricle (no "
            "volume), is reported and skipped; the exit status is then 1. Every file of a study's folder is "
            "read whatever its name; one that cannot be read as a DICOM image is set aside, the study measured "
            "without it and listed at the end (the count and the first names; report.json lists each): the "
            "exit status is then 1 too. When no "
            "patient can be measured, --out is left as it was. --out must lie outside the input folders."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="dataset root, folder of patient folders, or DICOM folder")
    parser.add_argument(
        "--model", metavar="FILE",
        help="U-Net model file from 'skcardio train' (default: the pretrained U-Net shipped with skcardio, "
        "UNetSegmenter.pretrained()); a model of target 'both' (blood pool and epicardium) also gives the "
        "LV mass at end-diastole; one of target 'epicardium' is refused (no blood pool)",
    )
    parser.add_argument(
        "--out", required=True, type=out_dir, metavar="DIR", help="output folder (created), outside the input folders"
    )
    parser.add_argument("--batch-size", type=positive_int, default=20, metavar="N", help="images per batch (default 20)")
    add_device_argument(parser)
    add_threads_argument(parser)
    parser.add_argument(
        "--no-tta", action="store_true",
        help="for a model that averages its four flips (tta=True; the pretrained one does not): one pass of the "
        "network per image instead (about 4x faster)",
    )
    add_trim_argument(
        parser, default=True,
        note="The masks are trimmed before measuring (on the shared patients the trim halved the automatic "
        "volumes' bias and lowered the EF error; benchmarks/README.md); the epicardium of a target 'both' "
        "model is not, so the rim joins the myocardium (LV mass). ",
    )
    parser.add_argument("--no-plots", action="store_true", help="write no plot (no PNG file)")
    add_series_arguments(parser, masks="the masks the volumes count (kept slices; the others empty)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (there is none when stderr is not a terminal)")
    parser.set_defaults(func=run)



def run(args: argparse.Namespace) -> int:
    """Report every patient; 0 if all were measured, 1 if some failed or dataset entries were skipped (none
    measured: --out left as it was), 2 on unusable inputs, model or --out."""
    try:
        device = device_option(args)  # --device cuda without CUDA: refused before anything is read
    except ValueError as exc:
        print(f"skcardio report: error: {printable(exc)}", file=sys.stderr)
        return 2
    skipped: list[tuple[str, str]] = []
    hidden: list[str] = []
    try:
        patients = find_patients(args.inputs, skipped, hidden=hidden)
    except (FileNotFoundError, ValueError) as exc:  # an input that is no study, a study given twice
        print(f"skcardio report: error: {printable(exc)}", file=sys.stderr)
        return 2
    missing = check_extras(args)
    if missing:
        print(f"skcardio report: error: {printable(missing)}", file=sys.stderr)
        return 2
    out = Path(args.out)
    names = list(SUMMARY_FILES) + [f"{p.name}/{f}" for p in patients for f in PATIENT_FILES]
    # --out that is an input first: that, not a patient folder squatting on an output name, is the mistake.
    check_outside_inputs(out, [*args.inputs, *(p.folder for p in patients)], names)
    check_destinations(out, names + [SERIES_CSV] * (args.dicom_seg or args.nifti))  # before the slow part
    # predict's series.csv must not be replaced: its series files would be tracked by nobody.
    check_series_index(out, "report", writes=args.dicom_seg or args.nifti)
    model = _load_model(args.model, device)
    level = trim_level(args)
    if args.no_tta:
        model.set_params(tta=False)
    apply_threads(args.threads)
    results = _measure_all(patients, model, args, level)
    _warn_same_patient(results)
    incomplete = [(str(r.patient.folder), _unreadable_files(r.study)) for r in results
                  if r.measurement is not None and any(a.unreadable for a in r.study.set_aside)]
    if all(result.measurement is None for result in results):  # nothing to show: the earlier run's outputs stay
        print(f"reported 0 of {len(results)} patient(s) (see the errors above): {printable(out)} left unchanged"
              + (f"; {hidden_note(hidden)}" if hidden else ""))
        report_problems("skipped", skipped)
        return 1
    series_failed: list[SeriesFailure] = []
    with staging(out, "report") as stage:
        entries = _write_outputs(stage, results, plots=not args.no_plots, dicom_seg=args.dicom_seg, nifti=args.nifti,
                                 boundary_level=level, skipped=skipped, out=out, series_failed=series_failed)
        publish(stage, out, owned=lambda: _owned_now(out, writes_series=args.dicom_seg or args.nifti))
    _print_table(entries)
    failed = [e for e in entries if e["row"]["status"] != "ok"]
    print(
        f"reported {len(entries) - len(failed)} of {len(entries)} patient(s) into {printable(out)}"
        + (f"; {not_written(series_failed)}" if series_failed else "")
        + (f"; {hidden_note(hidden)}" if hidden else "")
    )
    report_problems("skipped", skipped)
    # Measured without files that could not be read: maybe without some of its images, so not a success.
    report_problems("skipped", incomplete, label="patient(s) measured without some of their files")
    return 1 if failed or series_failed or skipped or incomplete else 0


def _load_model(path: str | None, device: str = "auto"):
    """The model from ``--model``, else the pretrained U-Net shipped with skcardio, on ``device`` (``--device``)."""
    from ..exceptions import SkcardioError
    from ..segment import UNetSegmenter

    model = UNetSegmenter.pretrained(device=device) if path is None else UNetSegmenter.load(path, device=device)
    if getattr(model, "target_", None) == "epicardium":
        # Its masks would be reported as blood-pool volumes, and written as "LV blood pool" SEGs.
        raise SkcardioError(
            f"{path}: a model of target 'epicardium' segments the epicardium, not the blood pool "
            "that the volumes and EF are measured on; expected a model of target 'endocardium' or 'both'"
        )
    return model


@dataclass
class _Result:
    patient: PatientInput
    measurement: object = None  # StudyMeasurement
    study: object = None  # CineStudy
    error: str = ""
    expert_error: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = math.nan
    mass_g: float = math.nan


def _measure_all(patients: list[PatientInput], model, args, level: float | None = None) -> list[_Result]:
    from tqdm.auto import tqdm

    results = []
    # The bar writes "\r" itself: to the stream under printable_streams(), the patient's name made printable.
    progress = tqdm(total=len(patients), unit="patient", desc="report", disable=True if args.no_progress else None,
                    file=console_stream(sys.stderr))
    for patient in patients:
        progress.set_postfix_str(printable(patient.name))
        results.append(_measure_one(patient, model, args.batch_size, level))
        progress.update()
    progress.close()
    return results


def _measure_one(patient: PatientInput, model, batch_size: int, boundary_level: float | None = None) -> _Result:
    from ..clinical import measure_study, segment_study
    from ..exceptions import SkcardioError
    from ..io import read_cine

    result = _Result(patient)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            study = read_cine(patient.folder)
        result.notes = [str(w.message) for w in caught]  # unreadable files among them (read_cine warns)
        grouped_out = [a for a in study.set_aside if not a.unreadable]
        if grouped_out:
            result.notes.append(f"{patient.folder}: {_set_aside_note(grouped_out)}")
        if study.geometry.n_phases < 2:  # ED = ES: an EF of 0, not a measurement
            raise SkcardioError(
                f"{patient.folder}: one image per slice position ({study.geometry.n_slices} positions): "
                "selected slices, not a complete cine study; volumes over the cycle and EF need every "
                "cardiac phase at every slice position"
            )
        result.study = study
        masks = segment_study(study, model, batch_size=batch_size)
        epicardium = None
        if masks.ndim == 5:  # a target="both" model: blood pool, epicardium
            masks, epicardium = masks[:, :, 0], masks[:, :, 1]
        if boundary_level is not None:
            from ..segment import trim_dark_boundary

            try:
                masks = trim_dark_boundary(study.images, masks, level=boundary_level)
            except ValueError as exc:  # this patient's images, not the others'
                raise SkcardioError(f"{patient.folder}: the masks could not be trimmed: {exc}") from None
        try:
            result.measurement = measure_study(study, masks, contours=patient.contours or None)
        except SkcardioError as exc:  # a bad contour: the automatic values still stand
            result.expert_error = str(exc)
            print(f"skcardio report: warning: {printable(patient.name)}: expert values left out: {printable(exc)}",
                  file=sys.stderr)
            result.measurement = measure_study(study, masks)
        _check_volumes(patient, result.measurement)
        result.mass_g = _ed_mass(result.measurement, epicardium)
    except SkcardioError as exc:
        result.measurement = None  # no volume: a failed patient, as one that cannot be read
        result.error = str(exc)
        print(f"skcardio report: error: {printable(patient.name)}: {printable(exc)}", file=sys.stderr)
    for note in result.notes:
        print(f"skcardio report: warning: {printable(note)}", file=sys.stderr)
    result.seconds = time.perf_counter() - start
    return result


#: Files set aside that a console line names; the others are counted (report.json lists each).
_LISTED_SET_ASIDE = 3


def _listed(items) -> tuple[list, str]:
    """The items to name and ``' and N more'``: all of them when one more than the limit would be counted."""
    if len(items) <= _LISTED_SET_ASIDE + 1:
        return list(items), ""
    return list(items[:_LISTED_SET_ASIDE]), f" and {len(items) - _LISTED_SET_ASIDE} more"


def _set_aside_note(items) -> str:
    """Files left out by :func:`~skcardio.io.read_cine` as never images of the stack, a few named, the rest counted."""
    shown, more = _listed(items)
    # "not a DICOM image: PATH: why" -> "why": the name is given just before.
    named = ", ".join(f"{Path(a.path).name} ({a.reason.removeprefix(f'not a DICOM image: {a.path}: ')})"
                      for a in shown)
    return (f"{len(items)} file(s) set aside, not images of the stack measured: {named}{more} (report.json's "
            "set_aside lists each with its reason)")


def _unreadable_files(study) -> str:
    """The files of ``study`` set aside as unreadable, for the list at the end: counted, the first named."""
    unreadable = [a for a in study.set_aside if a.unreadable]
    shown, more = _listed(unreadable)
    named = ", ".join(Path(a.path).name for a in shown)
    used = study.geometry.n_phases * study.geometry.n_slices
    return (f"{len(unreadable)} file(s) cannot be read as DICOM images ({named}{more}); measured on the {used} "
            "images read; report.json's set_aside lists each with its reason")


def _warn_same_patient(results: list[_Result]) -> None:
    """Warn when two measured studies have one PatientID: the table shows it on both rows, which look alike."""
    by_id: dict[str, list[_Result]] = {}
    for result in results:
        if result.measurement is not None:
            by_id.setdefault(result.study.patient_id, []).append(result)
    for patient_id, same in by_id.items():
        if len(same) < 2:
            continue
        folders = ", ".join(f"{r.patient.folder} (folder {r.patient.name})" for r in same)
        note = (f"patient ID {patient_id or '(none)'} in {len(same)} studies: {folders}; the table shows the same "
                "ID on their rows, report.csv's folder column tells them apart (the same patient twice, or a "
                "PatientID that is not unique?)")
        # Printed as one line, the folders' names and the ID escaped (a newline, an ESC); report.json keeps them.
        print(f"skcardio report: warning: {printable(note)}", file=sys.stderr)
        for result in same:
            result.notes.append(note)


def _check_volumes(patient: PatientInput, measurement) -> None:
    """Raise ``SkcardioError`` naming the slices' reasons if the study has no volume (no slice kept).

    A report of NaN volumes with status ``ok`` read as a success; the
    selection's reason for each slice says what to look at (a segmenter that
    finds no blood pool, a stack off the LV axis).
    """
    import numpy as np

    from ..exceptions import SkcardioError

    if np.isfinite(measurement.volumes).any():
        return
    reasons = measurement.selection.reasons
    listed = "; ".join(f"slice {s}: {reason}" for s, reason in enumerate(reasons[:_LISTED_REASONS]))
    more = "; ..." if len(reasons) > _LISTED_REASONS else ""
    raise SkcardioError(
        f"{patient.folder}: no volume measured: none of the {len(reasons)} slice(s) was kept as holding the "
        f"left ventricle ({listed}{more})"
    )


#: Slices whose selection reason the error of a study without volume lists.
_LISTED_REASONS = 3


def _ed_mass(measurement, epicardium) -> float:
    """LV mass (g) at the automatic end-diastole on the kept slices; NaN without an epicardium."""
    from ..clinical import lv_mass
    from ..segment import myocardium_mask

    ed = measurement.function.ed_phase
    if epicardium is None or ed < 0:
        return math.nan
    keep, geometry = measurement.selection.keep, measurement.geometry
    myocardium = myocardium_mask(measurement.masks[ed][keep], epicardium[ed][keep])
    return lv_mass(myocardium, geometry.pixel_spacing, geometry.slice_spacing)


def _write_outputs(stage: Path, results: list[_Result], *, plots: bool, dicom_seg: bool = False, nifti: bool = False,
                   boundary_level: float | None = None, skipped: list[tuple[str, str]] = (),
                   out: Path | None = None, series_failed: list[SeriesFailure] | None = None) -> list[dict]:
    """Write every file of the run under ``stage``; return the patients' entries of ``report.json``.

    The series files that could not be written are appended to ``series_failed``.
    """
    from ._series import write_series_index

    entries, series_index = [], []
    for result in results:
        entry = _entry(result)
        # The level asked for (--trim-boundary), on a failed patient's row too.
        entry["row"]["boundary_level"] = math.nan if boundary_level is None else boundary_level
        entry["files"] = _files_of(result, plots)
        if result.measurement is not None:
            folder = stage / result.patient.name
            folder.mkdir(parents=True, exist_ok=True)
            _write_slices_csv(folder / "slices.csv", entry["slices"])
            if plots:
                _patient_plots(folder, result)
            if dicom_seg or nifti:
                index = _series_files(stage, result, entry, dicom_seg=dicom_seg, nifti=nifti,
                                      boundary_level=boundary_level, out=out, failures=series_failed)
                series_index += index
                entry["series_files"] = index
                entry["files"] += [row["file"] for row in index]
        entries.append(entry)
    _write_csv(stage / "report.csv", [e["row"] for e in entries])
    experts = [e["row"] for e in entries if _finite(e["row"].get("expert_ef_pct"))]
    if plots and experts:
        _bland_altman(stage / "bland_altman.png", experts)
    files = {f for e in entries for f in e["files"]} | {"report.csv", "report.json"}
    if plots and experts:
        files.add("bland_altman.png")
    if dicom_seg or nifti:
        write_series_index(stage, series_index)
        files.add(SERIES_CSV)
    summary = {"written_by": REPORT_WRITTEN_BY, "patients": entries, "files": sorted(files), "boundary_level": boundary_level,
               "skipped": [{"path": path, "reason": reason} for path, reason in skipped]}
    with text_file(stage / "report.json") as handle:
        json.dump(_jsonable(summary), handle, indent=1, allow_nan=False)
    return entries


def _series_files(stage: Path, result: _Result, entry: dict, *, dicom_seg: bool, nifti: bool,
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


def _files_of(result: _Result, plots: bool) -> list[str]:
    if result.measurement is None:
        return []
    names = PATIENT_FILES if plots else ("slices.csv",)
    return [f"{result.patient.name}/{name}" for name in names]


def _entry(result: _Result) -> dict:
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


def _patient_plots(folder: Path, result: _Result) -> None:
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


def _owned_now(out: Path, *, writes_series: bool) -> list[str]:
    """The files of an earlier report in ``out`` (:func:`publish` calls it with ``out`` locked).

    ``series.csv`` is checked again: a predict into the same ``out`` may
    have published one since the check before the slow part.
    """
    check_series_index(out, "report", writes=writes_series)
    return _earlier_outputs(out)


def _earlier_outputs(out: Path) -> list[str]:
    """The files that the ``report.json`` of an earlier report in ``out`` lists: the only ones a re-run removes.

    Without a readable ``report.json`` nothing is removed: a file that merely
    has the name of an output (``bland_altman.png``) may be the user's. Nor
    with one of another program: it must carry ``"written_by": "skcardio
    report"`` (or, written before that mark, a ``"patients"`` list). Of the
    names listed, only those report writes count (:func:`_is_report_output`),
    as for evaluate: a hand-edited record cannot remove the user's other files.
    """
    listed = record_files(out / "report.json", written_by=REPORT_WRITTEN_BY, legacy_key="patients") or []
    return [name for name in listed if _is_report_output(name)]


def _is_report_output(name: str) -> bool:
    """Whether report writes a file named ``name``: a summary file, ``series.csv``, or a patient's file or series file.

    Examples
    --------
    >>> [_is_report_output(n) for n in ("report.csv", "P1/slices.csv", "P1/series5_phase02_seg.dcm", "notes.txt",
    ...                                  "P1/notes.txt", "a/b/slices.csv")]
    [True, True, True, False, False, False]
    """
    parts = Path(name).parts
    if len(parts) == 1:
        return parts[0] in SUMMARY_FILES or parts[0] == SERIES_CSV
    return len(parts) == 2 and (parts[1] in PATIENT_FILES or _SERIES_FILE.fullmatch(parts[1]) is not None)


def _print_table(entries: list[dict]) -> None:
    columns = [
        ("patient", "patient_id", "{}"), ("kept", "slices_kept", "{:.0f}"), ("ED", "ed_phase", "{:.0f}"),
        ("ES", "es_phase", "{:.0f}"), ("EDV", "edv_ml", "{:.0f}"), ("ESV", "esv_ml", "{:.0f}"),
        ("SV", "sv_ml", "{:.0f}"), ("EF%", "ef_pct", "{:.1f}"), ("CO L/min", "cardiac_output_l_min", "{:.1f}"),
        ("exp EF%", "expert_ef_pct", "{:.1f}"), ("model@exp EF%", "model_on_expert_ef_pct", "{:.1f}"),
        ("dEF auto", "auto_ef_diff_points", "{:+.1f}"), ("dEF model@exp", "model_on_expert_ef_diff_points", "{:+.1f}"),
    ]
    lines = [[title for title, _, _ in columns]]
    for entry in entries:
        row = entry["row"]
        if row["status"] != "ok":
            lines.append([row["patient_id"], "failed"] + [""] * (len(columns) - 2))
            continue
        lines.append([fmt.format(row[key]) if _finite(row[key]) or isinstance(row[key], str) else "-" for _, key, fmt in columns])
    lines = [[printable(cell) for cell in line] for line in lines]  # a patient id: one line, aligned
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    for line in lines:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths)))
    print("volumes in mL; EF in %; dEF = method - expert, in percentage points")
