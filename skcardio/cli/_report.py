"""``skcardio report [ROOT | DICOM_FOLDER ...] --out DIR``: LV volumes and ejection fraction per patient."""

from __future__ import annotations

import argparse
import logging
import math
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

from .._text import printable, some_named
from ._arguments import add_device_argument, add_threads_argument, apply_threads, device_option, positive_int
from ._output import check_destinations, check_outside_inputs, out_dir
from ._problems import report_problems, unexpected
from ._progress import PROGRESS_HELP
from ._progress import progress as progress_bar
from ._records import REPORT_WRITTEN_BY, record_files
from ._report_outputs import (
    CSV_FIELDS,
    PATIENT_FILES,
    PatientResult,
    StagedPatient,
    _finite,
    stage_patient,
    write_summary,
)
from ._report_patients import SUMMARY_FILES, PatientInput, find_patients, hidden_note
from ._series import SERIES_CSV, check_extras, check_series_index, not_written
from ._series import add_arguments as add_series_arguments
from ._staging import publish, staging
from ._trim_option import add_trim_argument, trim_level

__all__ = ["register", "PatientInput", "find_patients", "CSV_FIELDS"]

logger = logging.getLogger("skcardio.cli.report")

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
            "FOLDER/ed_es_overlay.png and FOLDER/slices.csv to --out, all at once at the end (each patient's "
            "files are staged as soon as it is measured: memory holds one study at a time, whatever the number of "
            "patients); the files that an earlier "
            "report's report.json there lists and this run does not write are removed, no other file. In a folder "
            "of patient folders, an entry whose name starts with '.' is not a patient: the summary names those "
            "left out. With "
            "--dicom-seg and --nifti, also the masks the volumes count (the kept slices; the others "
            "empty) of each series in these standard formats, in FOLDER and listed in series.csv (refused where "
            "--out holds a series.csv of skcardio predict). FOLDER is "
            "the patient folder's name, made unique with _2, _3... A dataset's dicoms/ entry that is a link "
            "out of the dataset or a loop is skipped, as qc does. A "
            "patient that cannot be read, or of whom no slice is kept as holding the left ventricle (no "
            "volume), or that meets an unexpected error (a defect in skcardio, whose traceback -v logs), is "
            "reported and skipped; the exit status is then 1. Every file of a study's folder is "
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
    parser.add_argument("--no-progress", action="store_true", help=PROGRESS_HELP)
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
    writes_series = args.dicom_seg or args.nifti
    with staging(out, "report") as stage:
        # Each patient's files are staged as soon as it is measured and its images and masks dropped:
        # memory holds one study, not the cohort. --out changes only at publish, all at once.
        reported = _report_all(stage, patients, model, args, level, out)
        _warn_same_patient(reported)
        measured = any(patient.measured for patient in reported)
        if measured:  # else nothing to show: the stage is discarded, the earlier run's outputs stay
            entries = write_summary(stage, reported, plots=not args.no_plots, series=writes_series,
                                    boundary_level=level, skipped=skipped)
            publish(stage, out, owned=lambda: _owned_now(out, writes_series=writes_series))
    if not measured:
        print(f"reported 0 of {len(reported)} patient(s) (see the errors above): {printable(out)} left unchanged"
              + (f"; {hidden_note(hidden)}" if hidden else ""))
        report_problems("skipped", skipped)
        return 1
    series_failed = [failure for p in reported for failure in p.series_failed]
    incomplete = [(str(p.patient.folder), p.unreadable) for p in reported if p.unreadable]
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


def _report_all(stage: Path, patients: list[PatientInput], model, args, level: float | None,
                out: Path) -> list[StagedPatient]:
    """Measure each patient and stage its files in turn; return what the summary needs of each."""
    reported = []
    # A bar on a terminal, a line a minute in a batch job's log; the patient's name made printable.
    progress = progress_bar(total=len(patients), unit="patient", desc="report", hidden=args.no_progress)
    for patient in patients:
        progress.set_postfix_str(printable(patient.name))
        reported.append(_report_one(stage, patient, model, args, level, out))
        progress.update()
    progress.close()
    return reported


def _report_one(stage: Path, patient: PatientInput, model, args, level: float | None, out: Path) -> StagedPatient:
    """Measure ``patient`` and stage its files; its study and masks are dropped on return.

    A defect met while writing its files fails this patient alone, as one
    met while measuring it, and its files are removed from ``stage``; an
    ``OSError`` (a full disk) still fails the whole run, ``--out`` unchanged.
    """
    from ..exceptions import SkcardioError

    result = _measure_one(patient, model, args.batch_size, level)
    options = {"plots": not args.no_plots, "dicom_seg": args.dicom_seg, "nifti": args.nifti,
               "boundary_level": level, "out": out}
    notes = list(result.notes)  # before the series files' remarks, which a failed patient does not keep
    try:
        staged = stage_patient(stage, result, **options)
    except (OSError, SkcardioError):
        raise  # a full disk, --out gone: the whole run fails, --out unchanged (staging's OutputError)
    except Exception as exc:  # a plot of a pathological study, say: the other patients are still reported
        shutil.rmtree(stage / patient.name, ignore_errors=True)
        result.measurement, result.error, result.notes = None, _unexpected(patient, exc), notes
        _print_error(patient, result.error)
        staged = stage_patient(stage, result, **options)  # its entry, no file
    if staged.measured and any(a.unreadable for a in result.study.set_aside):
        staged.unreadable = _unreadable_files(result.study)
    return staged


def _measure_one(patient: PatientInput, model, batch_size: int, boundary_level: float | None = None) -> PatientResult:
    from ..clinical import measure_study, segment_study
    from ..exceptions import SkcardioError
    from ..io import read_cine

    result = PatientResult(patient)
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
        _print_error(patient, result.error)
    except Exception as exc:  # a defect met on this study (a numpy error), out of memory: not the others' loss
        result.measurement = None
        result.error = _unexpected(patient, exc)
        _print_error(patient, result.error)
    for note in result.notes:
        print(f"skcardio report: warning: {printable(note)}", file=sys.stderr)
    result.seconds = time.perf_counter() - start
    return result


#: Files set aside that a console line names; the others are counted (report.json lists each).
_LISTED_SET_ASIDE = 3


def _set_aside_note(items) -> str:
    """Files left out by :func:`~skcardio.io.read_cine` as never images of the stack, a few named, the rest counted."""
    # "not a DICOM image: PATH: why" -> "why": the name is given just before.
    named = some_named([f"{Path(a.path).name} ({a.reason.removeprefix(f'not a DICOM image: {a.path}: ')})"
                        for a in items], _LISTED_SET_ASIDE)
    return (f"{len(items)} file(s) set aside, not images of the stack measured: {named} (report.json's "
            "set_aside lists each with its reason)")


def _unreadable_files(study) -> str:
    """The files of ``study`` set aside as unreadable, for the list at the end: counted, the first named."""
    unreadable = [a for a in study.set_aside if a.unreadable]
    named = some_named([Path(a.path).name for a in unreadable], _LISTED_SET_ASIDE)
    used = study.geometry.n_phases * study.geometry.n_slices
    return (f"{len(unreadable)} file(s) cannot be read as DICOM images ({named}); measured on the {used} "
            "images read; report.json's set_aside lists each with its reason")


def _warn_same_patient(reported: list[StagedPatient]) -> None:
    """Warn when two measured studies have one PatientID: the table shows it on both rows, which look alike.

    The warning is also one of each such patient's notes in ``report.json``.
    """
    by_id: dict[str, list[StagedPatient]] = {}
    for patient in reported:
        if patient.measured:
            by_id.setdefault(patient.patient_id, []).append(patient)
    for patient_id, same in by_id.items():
        if len(same) < 2:
            continue
        folders = ", ".join(f"{r.patient.folder} (folder {r.patient.name})" for r in same)
        note = (f"patient ID {patient_id or '(none)'} in {len(same)} studies: {folders}; the table shows the same "
                "ID on their rows, report.csv's folder column tells them apart (the same patient twice, or a "
                "PatientID that is not unique?)")
        # Printed as one line, the folders' names and the ID escaped (a newline, an ESC); report.json keeps them.
        print(f"skcardio report: warning: {printable(note)}", file=sys.stderr)
        for patient in same:
            patient.entry["notes"].append(note)


def _print_error(patient: PatientInput, message: str) -> None:
    """Print a patient's error led by its name, unless the message already is (a relative input: ``c5: ...``)."""
    if not message.startswith(f"{patient.name}: "):
        message = f"{patient.name}: {message}"
    print(f"skcardio report: error: {printable(message)}", file=sys.stderr)


def _unexpected(patient: PatientInput, exc: Exception) -> str:
    """The status of a patient stopped by an exception that is no ``SkcardioError``; the traceback is logged (-v)."""
    return f"{patient.folder}: {unexpected(exc, patient.folder, logger, cannot='measured')}"


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
    # The discs of the volumes (lv_volumes), not the median gap: with a gap that differs (a slice
    # missing from the stack), the volumes and the mass would otherwise count the stack differently.
    return lv_mass(myocardium, geometry.pixel_spacing, geometry.disc_thickness[keep])


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
