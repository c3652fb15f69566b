"""The names in what the commands write and print.

File and folder names that are not valid UTF-8 are written and printed
readably (``\\xNN``): Python lists such a name with lone surrogates
(``b"\\xff"`` as ``"\\udcff"``), and writing one to a CSV file, or printing it
to a strict standard output (a UTF-8 locale's, pytest's capture), raised
``UnicodeEncodeError`` and lost the run's outputs. An output that could not
be written is named where it would be in ``--out``, not in the temporary
staging folder, gone by the time the message is read.

Control characters in ids, names and the messages quoting them (ESC, which
starts a terminal's colour and cursor sequences, ``\\r``, a newline, the C1
CSI ``\\x9b``) are printed escaped, never acted on by the terminal; the CSV
files keep the true values.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys

import numpy as np
import pytest
from _logging import command_logging

from _cine_studies import write_study
from _image_folders import write_image_folder

from skcardio.cli import main
from skcardio.datasets import get_sample_path
from skcardio.segment import UNetSegmenter


def undecodable(folder, raw: bytes, *, directory: bool = False) -> str:
    """The path (as Python names it) of a new file or folder ``raw`` in ``folder``; skip where refused."""
    if sys.platform in ("win32", "darwin"):  # names are text there: no such bytes
        pytest.skip("file names are not bytes on this platform")
    path = os.path.join(os.fsencode(folder), raw)
    try:
        os.mkdir(path) if directory else open(path, "wb").close()
    except OSError as exc:  # a file system that checks names (EILSEQ)
        pytest.skip(f"the file system refuses a name that is not UTF-8: {exc}")
    return os.fsdecode(path)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:  # strict: the file must be UTF-8
        return list(csv.DictReader(handle))


class _Pools:
    """A stand-in U-Net: the bright pixels are the blood pool."""

    target_ = "endocardium"

    def predict_with_proba(self, images):
        pools = np.asarray(images) > 300
        return pools, np.where(pools, 0.99, 0.01)

    def predict(self, images):
        masks = np.asarray(images) > 500
        masks[masks.sum(axis=(1, 2)) < 80] = False
        return masks


def _disc(make_dicom, path):
    rows, cols = np.mgrid[:40, :40]
    return make_dicom(path, np.where((rows - 20) ** 2 + (cols - 20) ** 2 <= 36, 500, 100).astype(np.int16))


def test_predict_writes_and_prints_such_names(tmp_path, make_dicom, monkeypatch, capsys):
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Pools()))
    (tmp_path / "in").mkdir()
    _disc(make_dicom, undecodable(tmp_path / "in", b"\xff\xfe.dcm"))
    _disc(make_dicom, tmp_path / "in" / "2.dcm")
    out = undecodable(tmp_path, b"out\xff", directory=True)  # printed in the summary
    assert main(["predict", str(tmp_path / "in"), "--model", "m.pt", "--out", out, "--no-progress"]) == 0
    rows = read_csv(os.path.join(out, "predictions.csv"))
    assert [(row["dicom_path"], row["output_stem"]) for row in rows] == [
        (f"{tmp_path}/in/2.dcm", "in/2"), (f"{tmp_path}/in/\\xff\\xfe.dcm", "in/_xff_xfe"),
    ]
    # The output files are named as predictions.csv says (text, not the undecodable bytes).
    assert all(os.path.isfile(os.path.join(out, f"{row['output_stem']}_mask.npy")) for row in rows)
    assert f"segmented 2 slice(s) into {tmp_path}/out\\xff" in capsys.readouterr().out


def test_predict_lists_a_skipped_file_of_such_a_name(tmp_path, make_dicom, monkeypatch, capsys):
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Pools()))
    (tmp_path / "in").mkdir()
    junk = undecodable(tmp_path / "in", b"\xff.dcm")
    with open(junk, "wb") as handle:
        handle.write(b"not a DICOM file")
    _disc(make_dicom, tmp_path / "in" / "2.dcm")
    assert main(["predict", str(tmp_path / "in"), "--model", "m.pt", "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 1
    assert f"{tmp_path}/in/\\xff.dcm: " in capsys.readouterr().err
    assert len(read_csv(tmp_path / "out" / "predictions.csv")) == 1


def test_report_writes_such_names_in_its_csv_and_json(tmp_path, make_dicom, monkeypatch, capsys):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _Pools()))
    write_study(make_dicom, tmp_path / "in" / "A", n_phases=4, n_slices=4)
    bad = undecodable(tmp_path / "in", b"B\xff", directory=True)
    with open(os.path.join(bad, "x.dcm"), "wb") as handle:
        handle.write(b"not a DICOM file")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "in"), "--out", str(out), "--no-progress", "--no-plots"]) == 1
    captured = capsys.readouterr()
    assert "reported 1 of 2 patient(s)" in captured.out
    assert f"skcardio report: error: B_: {tmp_path}/in/B\\xff: " in captured.err
    rows = read_csv(out / "report.csv")
    assert rows[1]["folder"] == "B_" and rows[1]["status"].startswith(f"error: {tmp_path}/in/B\\xff: ")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["patients"][1]["source"] == f"{tmp_path}/in/B\\xff"


def test_report_of_a_study_whose_files_have_such_names(tmp_path, make_dicom, monkeypatch, capsys):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _Pools()))
    study = undecodable(tmp_path, b"P\xff", directory=True)
    write_study(make_dicom, tmp_path / "staged", n_phases=4, n_slices=4)
    for file in sorted((tmp_path / "staged").iterdir()):
        shutil.move(file, os.path.join(study, file.stem + "\udcfe.dcm"))
    with open(os.path.join(study, "junk\udcfe.dcm"), "wb") as handle:  # set aside, named in report.json
        handle.write(b"not a DICOM file")
    out = tmp_path / "out"
    # The file that is not DICOM is named on the console (exit status 0: it was no image), its name readable.
    assert main(["report", study, "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert (f"{tmp_path}/P\\xff: 1 file(s) set aside, not images of the stack measured: junk\\xfe.dcm (not DICOM, no "
            "'DICM' at byte 128) (report.json's") in capsys.readouterr().err
    (row,) = read_csv(out / "report.csv")
    assert row["folder"] == "P_" and row["status"] == "ok"
    assert (out / "P_" / "slices.csv").is_file()
    (patient,) = json.loads((out / "report.json").read_text(encoding="utf-8"))["patients"]
    assert patient["source"] == f"{tmp_path}/P\\xff"  # JSON's own "\\udcff" is no text other readers take
    assert [item["path"] for item in patient["set_aside"]] == [f"{tmp_path}/P\\xff/junk\\xfe.dcm"]


def test_evaluate_writes_a_patient_named_by_such_a_file(tmp_path, monkeypatch, capsys):
    from sklearn.base import BaseEstimator

    class Bright(BaseEstimator):
        target_ = "endocardium"

        def fit(self, X, y=None):
            return self

        def predict(self, X):
            X = np.asarray(X)
            return X > 0.5 * X.max(axis=(1, 2), keepdims=True)

        def predict_with_proba(self, X):  # what evaluate scores a U-Net with: masks and their probabilities
            masks = self.predict(X)
            return masks, masks.astype(np.float32)

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": Bright()))
    name = b"SC-\xff-IM-0001-0002.png".decode("utf-8", "surrogateescape")
    undecodable(tmp_path, b"probe\xff")  # skips where such names are refused
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png", name])
    out = tmp_path / "out"
    # Plots too: matplotlib cannot draw a lone surrogate in a label.
    argv = ["evaluate", str(pngs), "--method", "unet", "--model", "m.pt", "--out", str(out), "--no-progress",
            "--groups", "(?P<patient>.+)-IM-[0-9]+-(?P<instance>[0-9]+)"]
    assert main(argv) == 0
    rows = read_csv(out / "per_slice.csv")
    assert sorted(row["patient_id"] for row in rows) == ["SC-N-2", "SC-\\xff"]
    assert (out / "scores_unet.png").is_file() and (out / "overlays_unet.png").is_file()


def test_qc_prints_and_writes_such_names(tmp_path, capsys):
    from dataclasses import replace

    from skcardio.qc import check_dataset

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    undecodable(root / "contourfiles", b"STRAY\xff", directory=True)
    assert main(["qc", str(root), "--csv", str(tmp_path / "qc.csv")]) == 0
    assert f"{root}/contourfiles/STRAY\\xff: not listed in link.csv" in capsys.readouterr().out
    report = check_dataset(root)
    report.slices[0] = replace(report.slices[0], dicom_path=os.path.join(str(root), "\udcff.dcm"))
    report.to_csv(tmp_path / "qc2.csv")
    assert read_csv(tmp_path / "qc2.csv")[0]["dicom_path"] == f"{root}/\\xff.dcm"


def _turned_study(make_dicom, folder):
    """A study whose second slice lies in another orientation: no SEG of the phase can be built."""
    import pydicom
    from pydicom.uid import generate_uid

    files = write_study(make_dicom, folder, n_phases=2, n_slices=2,
                        StudyInstanceUID=generate_uid(), FrameOfReferenceUID=generate_uid())
    ds = pydicom.dcmread(files[0, 1])
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    ds.save_as(files[0, 1])


def test_a_seg_that_cannot_be_built_is_named_in_out(tmp_path, make_dicom, monkeypatch, caplog):
    pytest.importorskip("highdicom")
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Pools()))
    _turned_study(make_dicom, tmp_path / "in3" / "P")
    out = tmp_path / "out"
    argv = ["predict", str(tmp_path / "in3"), "--model", "m.pt", "--out", str(out), "--no-progress", "--dicom-seg"]
    assert main(argv) == 1
    (error,) = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert f": {out}/in3/P/series5_phase00_seg.dcm: no DICOM SEG of sources in different orientations" in error, error
    assert ".skcardio-predict-" not in error


def test_report_names_a_series_file_in_out(tmp_path, make_dicom, monkeypatch, capsys):
    import skcardio.io
    from skcardio.exceptions import ExportError

    pytest.importorskip("highdicom")

    def refused(masks, sources, path, **kwargs):
        raise ExportError(f"{path}: highdicom cannot build a SEG of the {len(sources)} slice(s)")

    monkeypatch.setattr(skcardio.io, "write_dicom_seg", refused)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _Pools()))
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=4)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), "--out", str(out), "--no-progress", "--no-plots", "--dicom-seg"]) == 1
    err = capsys.readouterr().err
    assert f": {out}/a/series5_phase00_seg.dcm: highdicom cannot build a SEG of the 4 slice(s)" in err, err
    assert ".skcardio-report-" not in err
    series_errors = json.loads((out / "report.json").read_text(encoding="utf-8"))["patients"][0]["series_errors"]
    assert f"{out}/a/series5_phase00_seg.dcm: highdicom" in series_errors[0]


#: Control characters a terminal acts on: every C0 control but the newline, DEL, every C1 control.
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: A patient folder and id, and a file name, that recolour the terminal, return to the start of the
#: line (to overwrite it), start a line of their own, and clear the screen (CSI as one C1 character).
HOSTILE = "P\x1b[31m\r\n\x9b2J"
HOSTILE_SHOWN = "P\\x1b[31m\\r\\n\\x9b2J"


def _names_ok():
    if sys.platform == "win32":
        pytest.skip("such names are refused by Windows")


def test_qc_prints_control_characters_of_ids_and_names_escaped(tmp_path, capsys):
    _names_ok()
    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    (root / "dicoms" / "SCD0000101").rename(root / "dicoms" / HOSTILE)
    with open(root / "link.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["patient_id", "original_id"], [HOSTILE, "SC-HF-I-1"], ["SCD0000201", "SC-HF-I-2"],
            ["SCD0000301", "SC-HF-I-4"], ["X\x1b[31mRED\x1b[0m", "Y\x9b"],
        ])
    (root / "dicoms" / "\x1b[2J\r").mkdir()
    assert main(["qc", str(root), "--csv", str(tmp_path / "qc.csv")]) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert not _RAW_CONTROL.search(printed), printed
    lines = captured.out.splitlines()
    # Every slice of the patient on one line of the table, its id shown escaped.
    assert sum(line.startswith(f"{HOSTILE_SHOWN} ") for line in lines) == 5
    assert "X\\x1b[31mRED\\x1b[0m " + f"{root}/contourfiles/Y\\x9b: linked folder does not exist" in lines
    assert f"-            {root}/dicoms/\\x1b[2J\\r: not listed in link.csv" in lines
    assert "X\\x1b[31mRED\\x1b[0m " + f"{root}/dicoms/X\\x1b[31mRED\\x1b[0m: linked folder does not exist" in lines
    # The CSV keeps the true id.
    assert sum(row["patient_id"] == HOSTILE for row in read_csv(tmp_path / "qc.csv")) == 5


def test_predict_prints_control_characters_of_file_names_escaped(tmp_path, make_dicom, monkeypatch, capsys):
    import warnings

    from skcardio.exceptions import SkcardioWarning

    _names_ok()
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Pools()))
    (tmp_path / "in").mkdir()
    _disc(make_dicom, tmp_path / "in" / f"{HOSTILE}.dcm")
    _disc(make_dicom, tmp_path / "in" / "dark\x1b[8m.dcm")
    (tmp_path / "in" / "junk\x1b[1A\x1b[2K.dcm").write_bytes(b"not a DICOM file")  # would erase the line above
    make_dicom(tmp_path / "in" / "empty\r.dcm", np.full((40, 40), 100, np.int16))  # no blood pool: a warning

    def warn_too(*args, **kwargs):  # a warning quoting a name, as skcardio's about a file's values
        warnings.warn(f"{tmp_path}/in/{HOSTILE}.dcm: odd value", SkcardioWarning, stacklevel=2)
        return original(*args, **kwargs)

    import skcardio.cli._predict as predict

    original = predict._read
    monkeypatch.setattr(predict, "_read", warn_too)
    monkeypatch.setattr(warnings, "showwarning", lambda message, category, filename, lineno, file=None, line=None:
                        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line)))
    # Log lines as outside pytest (which installs its own handler): the command's own handler prints them.
    with command_logging(monkeypatch), warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["predict", str(tmp_path / "in"), "--model", "m.pt", "--out", str(tmp_path / "out"),
                     "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert not _RAW_CONTROL.search(captured.out + captured.err), captured.err
    err = captured.err.splitlines()
    assert f"skcardio predict: warning: {tmp_path}/in/{HOSTILE_SHOWN}.dcm: odd value" in err
    assert any(line.startswith(f"  {tmp_path}/in/junk\\x1b[1A\\x1b[2K.dcm: not a DICOM file") for line in err)
    assert f"skcardio predict: warning: {tmp_path}/in/empty\\r.dcm: no blood pool found, no contour written" in err
    # predictions.csv keeps the true names.
    paths = [row["dicom_path"] for row in read_csv(tmp_path / "out" / "predictions.csv")]
    assert f"{tmp_path}/in/{HOSTILE}.dcm" in paths and f"{tmp_path}/in/dark\x1b[8m.dcm" in paths
