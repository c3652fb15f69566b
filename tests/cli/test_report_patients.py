"""Which studies ``skcardio report`` finds in its inputs (``skcardio.cli._report_patients``), each once, which it
counts as reported, and what its summary says it left out."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pytest

from _cine_studies import write_study

from skcardio.cli import main
from skcardio.cli._report_patients import find_patients
from skcardio.segment import UNetSegmenter


class _NothingIn40:
    """A stand-in segmenter: the phantom's bright disc, but nothing at all in 40 x 40 images."""

    def predict(self, images):
        masks = np.asarray(images) > 500
        if masks.shape[1:] == (40, 40):
            masks[:] = False
        return masks


def _rows(out):
    with open(out / "report.csv", newline="", encoding="utf-8") as handle:
        return {row["folder"]: row for row in csv.DictReader(handle)}


def test_hidden_folders_are_left_out_and_said(tmp_path, make_dicom, monkeypatch, capsys):
    # "reported 1 of 1" with no word of the folder named "..." beside A.
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _NothingIn40()))
    root = tmp_path / "in"
    write_study(make_dicom, root / "A", n_phases=4, n_slices=4)
    write_study(make_dicom, root / "...", n_phases=4, n_slices=4)
    (root / ".git").mkdir()
    (root / ".DS_Store").write_bytes(b"")
    out = tmp_path / "out"
    assert main(["report", str(root), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert (f"reported 1 of 1 patient(s) into {out}; 3 hidden entries (name starting with '.') left out: "
            f"{root}/..., {root}/.DS_Store, {root}/.git\n") in printed
    assert list(_rows(out)) == ["A"]


def test_a_folder_of_hidden_entries_only_says_so(tmp_path, capsys):
    (tmp_path / "in" / ".cache").mkdir(parents=True)
    assert main(["report", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (f"skcardio report: error: {tmp_path}/in: no file or subfolder, expected DICOM files (1 hidden "
                   f"entry (name starting with '.') left out: {tmp_path}/in/.cache)\n")


def test_a_patient_without_volume_is_a_failure(tmp_path, make_dicom, monkeypatch, capsys):
    # "reported 2 of 2", exit 0, for a patient of whom no slice was kept and no volume measured.
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _NothingIn40()))
    root = tmp_path / "in"
    write_study(make_dicom, root / "A", n_phases=4, n_slices=4)
    write_study(make_dicom, root / "B", n_phases=4, n_slices=4, shape=(40, 40))
    out = tmp_path / "out"
    assert main(["report", str(root), "--out", str(out), "--no-progress", "--no-plots"]) == 1
    captured = capsys.readouterr()
    assert f"reported 1 of 2 patient(s) into {out}\n" in captured.out
    reason = (f"{root}/B: no volume measured: none of the 4 slice(s) was kept as holding the left ventricle "
              "(slice 0: excluded: blood pool found in 0 of 4 phases (< 50 %); slice 1: excluded: blood pool "
              "found in 0 of 4 phases (< 50 %); slice 2: excluded: blood pool found in 0 of 4 phases (< 50 %); ...)")
    assert f"skcardio report: error: B: {reason}\n" in captured.err
    rows = _rows(out)
    assert rows["A"]["status"] == "ok" and rows["B"]["status"] == f"error: {reason}"
    assert rows["B"]["edv_ml"] == "" and not (out / "B").exists()


def test_no_patient_with_volumes_leaves_out_unchanged(tmp_path, make_dicom, monkeypatch, capsys):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _NothingIn40()))
    write_study(make_dicom, tmp_path / "B", n_phases=4, n_slices=4, shape=(40, 40))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "B"), "--out", str(out), "--no-progress"]) == 1
    assert f"reported 0 of 1 patient(s) (see the errors above): {out} left unchanged" in capsys.readouterr().out
    assert not out.exists()


@pytest.mark.parametrize(
    "inputs, expected",
    [
        (["in/A", "in/A"], "in/A: given twice (also as in/A); expected each folder once: a study given twice would "
                           "be measured and reported twice, as two patients"),
        (["in/A", "./in/A/"], "./in/A/: given twice (also as in/A)"),
        (["in", "in/A"], "in/A: given twice (as a study of in and of in/A); expected each study once: a study given "
                         "twice would be measured and reported twice, as two patients; leave one of the inputs out"),
        (["data", "data/dicoms/P1"], "data/dicoms/P1: given twice (as a study of data and of data/dicoms/P1)"),
    ],
)
def test_a_study_given_twice_is_refused_naming_both(tmp_path, make_dicom, make_layout, monkeypatch, capsys,
                                                     inputs, expected):
    """report DIR DIR reported the study twice, as DIR and DIR_2."""
    write_study(make_dicom, tmp_path / "in" / "A", n_phases=2, n_slices=2)
    write_study(make_dicom, tmp_path / "in" / "B", n_phases=2, n_slices=2)
    make_layout({"P1": ("O1", {5: {}}), "P2": ("O2", {5: {}})})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        find_patients(inputs)
    assert main(["report", *inputs, "--out", "out"]) == 2
    assert capsys.readouterr().err.startswith(f"skcardio report: error: {expected}")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in find_patients(["in/A", "in/B"])] == ["A", "B"]  # two studies: taken


def _study(folder):
    """A study folder as find_patients sees it (it reads no image): one file."""
    folder.mkdir(parents=True)
    (folder / "1.dcm").write_bytes(b"")


@pytest.mark.parametrize(
    "inputs, inner, outer",
    [
        (["R", "R/P1"], ("R/P1/cine", "R/P1"), ("R/P1", "R")),
        (["R", "R/P1/cine"], ("R/P1/cine", "R/P1/cine"), ("R/P1", "R")),
        (["R/P1/cine", "R"], ("R/P1/cine", "R/P1/cine"), ("R/P1", "R")),
        pytest.param(["R/P1", "Q"], ("Q/link", "Q"), ("R/P1/cine", "R/P1"),
                     marks=pytest.mark.skipif(os.name != "posix", reason="symbolic links")),
    ],
    ids=["R R/P1", "R R/P1/cine", "R/P1/cine R", "R/P1 Q (Q/link->R/P1/cine/x)"],
)
def test_a_study_inside_another_inputs_study_is_refused_naming_both(tmp_path, monkeypatch, capsys, inputs, inner,
                                                                    outer):
    """report R R/P1, P1 keeping its images in P1/cine: read_cine reads P1 with its subfolders, and the one study
    was reported twice, as two identical patients."""
    _study(tmp_path / "R" / "P1" / "cine")
    if "Q" in inputs:
        (tmp_path / "R" / "P1" / "cine" / "x").mkdir()
        (tmp_path / "Q").mkdir()
        (tmp_path / "Q" / "link").symlink_to(tmp_path / "R" / "P1" / "cine" / "x")
    monkeypatch.chdir(tmp_path)
    expected = (f"{inner[0]}: a study (of the input {inner[1]}) inside the study {outer[0]} (of the input "
                f"{outer[1]}), which is read with its subfolders: both hold the same images; expected each study "
                "once: a study given twice would be measured and reported twice, as two patients; leave one of the "
                "inputs out")
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        find_patients(inputs)
    assert main(["report", *inputs, "--out", "out"]) == 2
    assert capsys.readouterr().err == f"skcardio report: error: {expected}\n"
    assert not (tmp_path / "out").exists()


def test_a_study_in_a_hidden_folder_of_another_is_not_inside_it(tmp_path, monkeypatch):
    """read_cine does not enter hidden folders: R/P1/.old/cine holds images that R/P1 does not."""
    _study(tmp_path / "R" / "P1")
    _study(tmp_path / "R" / "P1" / ".old" / "cine")
    monkeypatch.chdir(tmp_path)
    assert [p.folder for p in find_patients(["R", "R/P1/.old/cine"])] == [Path("R/P1"), Path("R/P1/.old/cine")]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
@pytest.mark.parametrize(
    "target, expected",
    [
        ("P1", "R/P2: the same study as R/P1 (both in R, one by a link)"),
        ("P1/cine", "R/P2: inside the study R/P1, which is read with its subfolders (both in R, one by a link)"),
    ],
    ids=["P2->P1", "P2->P1/cine"],
)
def test_a_link_to_a_sibling_study_in_a_folder_of_patient_folders_is_refused(tmp_path, monkeypatch, capsys, target,
                                                                             expected):
    """R/P2 -> P1 was measured as a second patient from P1's images, where predict refuses such a link (a
    dataset's dicoms/<id> links stay patients, as scan_layout reads them: test_report.py)."""
    _study(tmp_path / "R" / "P1" / "cine")
    (tmp_path / "R" / "P2").symlink_to(target)
    monkeypatch.chdir(tmp_path)
    expected += ("; expected each study once: a study given twice would be measured and reported twice, as two "
                 "patients; remove the link, or give R's studies one by one, each once")
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        find_patients(["R"])
    assert main(["report", "R", "--out", "out"]) == 2
    assert capsys.readouterr().err == f"skcardio report: error: {expected}\n"
    (tmp_path / "R" / "P2").unlink()
    _study(tmp_path / "R" / "P2")
    assert [p.name for p in find_patients(["R"])] == ["P1", "P2"]  # two studies: taken


def test_a_file_given_as_a_study_is_named_a_file_with_its_folder(tmp_path, make_dicom, capsys):
    """'48.dcm: no such folder' for a file that exists: report reads a study's folder."""
    files = write_study(make_dicom, tmp_path / "A", n_phases=2, n_slices=2)
    assert main(["report", str(files[0, 1]), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"skcardio report: error: {files[0, 1]}: is a file; expected a dataset root or a DICOM folder: report "
        f"measures a whole study, give the folder that holds its images ({tmp_path / 'A'})\n"
    )
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (f"skcardio report: error: {tmp_path / 'nope'}: no such folder (expected a "
                                       "dataset root or a DICOM folder)\n")


@pytest.mark.shared_data
def test_a_shared_dicom_given_as_a_study_names_its_folder(shared_data_root, tmp_path, capsys):
    image = shared_data_root / "dicoms" / "SCD0000101" / "48.dcm"
    assert main(["report", str(image), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"{image}: is a file;" in err and f"give the folder that holds its images ({image.parent})" in err


def test_patient_folders_of_one_name_are_named_in_linear_time(monkeypatch):
    """Studies all named DICOM (cohort/P0001/DICOM...): 2,000 took 18 s to name, 4,000 86 s, before any was read."""
    from skcardio.cli import _output_names
    from skcardio.cli._report_patients import PatientInput, _unique_names

    calls = []
    real = _output_names.fit_name
    monkeypatch.setattr(_output_names, "fit_name", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    patients = [PatientInput(Path(f"cohort/P{i:04d}/DICOM"), "DICOM") for i in range(2000)]
    assert [p.name for p in _unique_names(patients)] == ["DICOM"] + [f"DICOM_{k}" for k in range(2, 2001)]
    assert len(calls) == 2000 + 1999  # each name fitted, then one try for each copy
