"""``skcardio report`` end to end on synthetic studies (a tiny model trained on their phantom discs)."""

from __future__ import annotations

import csv
import json
import math
import os
import warnings

import numpy as np
import pytest
from _stand_ins import PoolsOfEighty

from _cine_studies import phantom, write_study

from skcardio.cli import main
from skcardio.cli._report import find_patients
from skcardio.clinical import measure_study, segment_study
from skcardio.io import read_cine
from skcardio.segment import UNetSegmenter

pytestmark = pytest.mark.usefixtures("one_torch_thread")

@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny U-Net trained in seconds on phantom discs: it finds the blood pool of ``write_study``'s studies.

    One trained on the embedded sample found none, so every patient had NaN volumes, now a failure.
    """
    path = tmp_path_factory.mktemp("model") / "unet.pt"
    images = np.array([phantom(p, s, 6, 4, centre=(24 + dx, 24 + dy))
                       for p in range(6) for s in range(4) for dx, dy in ((0, 0), (-6, 5))]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny model's notes on its few epochs
        model = UNetSegmenter(depth=3, base_channels=8, crop_size=32, max_epochs=10, random_state=0)
        model.fit(images, images > 500).save(path)
    return path


@pytest.fixture
def dataset(tmp_path, make_dicom):
    """A link.csv dataset: P1 with i-contours on phases 0 and 3 of its 3 slices, P2 without contours."""
    root = tmp_path / "data"
    write_study(make_dicom, root / "dicoms" / "P1", n_phases=6, n_slices=3, shape=(64, 64))
    write_study(make_dicom, root / "dicoms" / "P2", n_phases=6, n_slices=3, shape=(64, 64), patient_id="SYN002")
    (root / "link.csv").write_text("patient_id,original_id\nP1,O1\nP2,O2\n")
    folder = root / "contourfiles" / "O1" / "i-contours"
    folder.mkdir(parents=True)
    (root / "contourfiles" / "O2" / "i-contours").mkdir(parents=True)
    for s in range(3):
        for p, half in ((0, 9), (3, 5)):
            points = [(32 - half, 32 - half), (32 + half, 32 - half), (32 + half, 32 + half), (32 - half, 32 + half)]
            name = f"IM-0001-{s * 6 + p + 1:04d}-icontour-manual.txt"
            (folder / name).write_text("".join(f"{x} {y}\n" for x, y in points))
    return root


def read_rows(out):
    return list(csv.DictReader((out / "report.csv").open()))


def test_dataset_report(model_path, dataset, tmp_path, capsys):
    out = tmp_path / "out"
    # --no-trim-boundary: compared below with measure_study on the model's own masks.
    argv = ["report", str(dataset), "--model", str(model_path), "--out", str(out), "--no-progress", "--no-trim-boundary"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "reported 2 of 2 patient(s)" in printed and "exp EF%" in printed
    rows = {row["folder"]: row for row in read_rows(out)}
    assert set(rows) == {"P1", "P2"} and rows["P1"]["patient_id"] == "SYN001"
    # The figures are those of the Python API with the same model.
    study = read_cine(dataset / "dicoms" / "P1")
    masks = segment_study(study, UNetSegmenter.load(model_path))
    contours = {s * 6 + p + 1: dataset / "contourfiles/O1/i-contours" / f"IM-0001-{s * 6 + p + 1:04d}-icontour-manual.txt"
                for s in range(3) for p in (0, 3)}
    expected = measure_study(study, masks, contours=contours).row()
    for key in ("expert_edv_ml", "expert_esv_ml", "expert_ef_pct", "model_on_expert_ef_pct", "edv_ml", "ef_pct"):
        value, want = rows["P1"][key], expected[key]
        assert (value == "" and math.isnan(want)) or float(value) == pytest.approx(want, abs=0.006), key
    # The expert's volume from the 18 x 18 px squares as drawn (their masks hold 19 x 19 pixel centres).
    assert float(rows["P1"]["expert_edv_ml"]) == pytest.approx(3 * 18 * 18 * 1.5 * 1.5 * 8 / 1000, abs=0.006)
    assert rows["P1"]["expert_ed_phase"] == "0" and rows["P1"]["expert_es_phase"] == "3"
    assert rows["P2"]["expert_ef_pct"] == "" and rows["P2"]["heart_rate_bpm"] == "60.00"
    report = json.loads((out / "report.json").read_text())
    p1 = report["patients"][0]
    assert len(p1["volumes_ml"]["automatic"]) == 6 and p1["geometry"]["spacing_source"] == "ImagePositionPatient"
    assert len(p1["slices"]) == 3 and {"kept", "reason"} <= set(p1["slices"][0])
    for name in ["report.csv", "report.json", "bland_altman.png", "P1/volume_curve.png", "P1/ed_es_overlay.png",
                 "P1/slices.csv", "P2/volume_curve.png"]:
        assert (out / name).is_file(), name
    assert sorted(report["files"]) == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    # Which slices the expert contoured, at how many phases (P1: all 3 slices at phases 0 and 3; P2: no contours).
    with (out / "P1" / "slices.csv").open() as handle:
        assert [row["expert_contours"] for row in csv.DictReader(handle)] == ["2", "2", "2"]
    with (out / "P2" / "slices.csv").open() as handle:
        assert "expert_contours" not in csv.DictReader(handle).fieldnames


def test_one_patient_folder_of_a_dataset_keeps_its_expert_contours(model_path, dataset, tmp_path, monkeypatch, caplog):
    """ROOT/dicoms/P1 alone is P1 with the i-contours of ROOT's link.csv: the expert columns are filled."""
    out = tmp_path / "one"
    argv = ["report", str(dataset / "dicoms" / "P1"), "--model", str(model_path), "--out", str(out), "--no-progress",
            "--no-plots"]
    assert main(argv) == 0
    (row,) = read_rows(out)
    assert row["folder"] == "P1" and row["expert_ed_phase"] == "0" and row["expert_es_phase"] == "3"
    assert float(row["expert_edv_ml"]) == pytest.approx(3 * 18 * 18 * 1.5 * 1.5 * 8 / 1000, abs=0.006)  # polygons as drawn
    # Named relatively, from inside the folder: the same patient, the same contours.
    monkeypatch.chdir(dataset / "dicoms" / "P1")
    assert main(["report", ".", "--model", str(model_path), "--out", str(tmp_path / "dot"), "--no-progress",
                 "--no-plots"]) == 0
    (dot,) = read_rows(tmp_path / "dot")
    assert dot["expert_ef_pct"] == row["expert_ef_pct"] != ""
    # A link.csv that cannot be read costs the expert columns, not the patient.
    (dataset / "link.csv").write_text("bad header\n")
    assert main(["report", str(dataset / "dicoms" / "P1"), "--model", str(model_path), "--out", str(tmp_path / "bad"),
                 "--no-progress", "--no-plots"]) == 0
    (bad,) = read_rows(tmp_path / "bad")
    assert bad["status"] == "ok" and bad["expert_ef_pct"] == ""
    assert "expert contours not read" in caplog.text and "link.csv, line 1" in caplog.text


def test_bad_patient_is_reported_and_the_batch_goes_on(model_path, tmp_path, make_dicom, capsys):
    folder = tmp_path / "patients"
    write_study(make_dicom, folder / "good", n_phases=4, n_slices=2)
    write_study(make_dicom, folder / "bad", n_phases=4, n_slices=2, skip={(1, 1)}, patient_id="SYN009")
    out = tmp_path / "out"
    argv = ["report", str(folder), "--model", str(model_path), "--out", str(out), "--no-plots", "--trim-boundary=0.5"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines() if "error" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith("skcardio report: error: bad: ") and "(5.dcm, 7.dcm, 8.dcm)" in error_lines[0]
    assert "reported 1 of 2 patient(s)" in captured.out
    rows = {row["folder"]: row for row in read_rows(out)}
    assert rows["good"]["status"] == "ok" and rows["bad"]["status"].startswith("error: ")
    assert rows["good"]["boundary_level"] == rows["bad"]["boundary_level"] == "0.5"  # the level asked, on both
    assert not (out / "bad").exists() and not (out / "good" / "volume_curve.png").exists()


def test_one_phase_is_not_a_cine_study(model_path, tmp_path, make_dicom, capsys):
    """Selected slices, one image per position: refused by name, not reported as an EF of 0."""
    write_study(make_dicom, tmp_path / "slices", n_phases=1, n_slices=3)
    assert main(["report", str(tmp_path / "slices"), "--model", str(model_path), "--out", str(tmp_path / "o"),
                 "--no-progress", "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'slices'}: one image per slice position (3 positions): selected slices, not a complete " \
           "cine study" in err
    # Nothing measured: nothing written (an earlier run's outputs there would be kept).
    assert not (tmp_path / "o").exists()


def test_rerun_removes_stale_outputs(model_path, tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), "--model", str(model_path), "--out", str(out)]) == 0
    assert (out / "a" / "volume_curve.png").is_file()
    (out / "mine.txt").write_text("kept")
    assert main(["report", str(tmp_path / "a"), "--model", str(model_path), "--out", str(out), "--no-plots"]) == 0
    assert not (out / "a" / "volume_curve.png").exists() and (out / "a" / "slices.csv").is_file()
    assert (out / "mine.txt").read_text() == "kept"


def test_a_run_that_measures_nothing_leaves_out_as_it_was(model_path, tmp_path, make_dicom, capsys):
    """report bad --out o removed the earlier good/ outputs and left good/ empty."""
    write_study(make_dicom, tmp_path / "good", n_phases=3, n_slices=2)
    write_study(make_dicom, tmp_path / "bad", n_phases=1, n_slices=2)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "good"), "--model", str(model_path), "--out", str(out), "--no-plots"]) == 0
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "good/slices.csv" in before
    capsys.readouterr()
    assert main(["report", str(tmp_path / "bad"), "--model", str(model_path), "--out", str(out), "--no-plots"]) == 1
    captured = capsys.readouterr()
    assert f"reported 0 of 1 patient(s) (see the errors above): {out} left unchanged" in captured.out
    assert "skcardio report: error: bad: " in captured.err and "removed" not in captured.err
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_rerun_removes_the_folders_it_emptied(model_path, tmp_path, make_dicom):
    for name in ("a", "b"):
        write_study(make_dicom, tmp_path / "in" / name, n_phases=3, n_slices=2)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "in" / "a"), "--model", str(model_path), "--out", str(out), "--no-plots"]) == 0
    assert main(["report", str(tmp_path / "in" / "b"), "--model", str(model_path), "--out", str(out), "--no-plots"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["b", "report.csv", "report.json"]  # no empty a/


def test_outputs_inside_a_patient_folder_are_refused(model_path, tmp_path, make_dicom, capsys):
    """report a --out . from a's parent wrote a/slices.csv among a's DICOM files."""
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2)
    before = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert main(["report", str(tmp_path / "a"), "--model", str(model_path), "--out", str(tmp_path), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio report: error: {tmp_path / 'a'}/") and \
        f": would be written inside the input folder {tmp_path / 'a'}" in err
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == before
    assert main(["report", str(tmp_path / "a"), "--model", str(model_path), "--out", str(tmp_path / "a" / "r")]) == 2
    assert "lies inside the input folder" in capsys.readouterr().err and not (tmp_path / "a" / "r").exists()


def test_pretrained_model_by_default(model_path, tmp_path, make_dicom, monkeypatch):
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=2)
    calls = []

    def pretrained(cls, **kwargs):
        calls.append(kwargs)
        return UNetSegmenter.load(model_path)

    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(pretrained))
    assert main(["report", str(tmp_path / "a"), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    assert calls == [{"device": "auto"}] and (tmp_path / "out" / "report.csv").is_file()


def test_unreadable_model_is_one_line(tmp_path, make_dicom, capsys):
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=2)
    (tmp_path / "m.pt").write_bytes(b"not a model")
    assert main(["report", str(tmp_path / "a"), "--model", str(tmp_path / "m.pt"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skcardio report: error: ") and "m.pt" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unreadable_subfolder_fails_the_patient(tmp_path, make_dicom, capsys, monkeypatch):
    """Path.rglob passed over it: the volumes came from 2 of the 3 slices, exit 0, no word."""
    from _hostile import deny_folders

    files = write_study(make_dicom, tmp_path / "P1", n_phases=2, n_slices=3)
    (tmp_path / "P1" / "extra").mkdir()
    for (_, slice_), path in files.items():
        if slice_ == 2:
            path.rename(tmp_path / "P1" / "extra" / path.name)
    deny_folders(monkeypatch, tmp_path / "P1" / "extra")
    model = tmp_path / "tiny.pt"  # one epoch: what it finds does not matter here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(0)
        UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, batch_size=4, random_state=0).fit(
            rng.normal(size=(4, 32, 32)).astype(np.float32), rng.random((4, 32, 32)) > 0.5
        ).save(model)
    argv = ["report", str(tmp_path / "P1"), "--model", str(model), "--out", str(tmp_path / "out"), "--no-plots", "--no-progress"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert f"skcardio report: error: P1: {tmp_path / 'P1' / 'extra'}: cannot read folder: permission denied" in captured.err
    # The only patient failed: nothing measured, nothing written.
    assert "reported 0 of 1 patient(s)" in captured.out and not (tmp_path / "out").exists()


def test_unreadable_input_folder_is_an_error_not_a_traceback(tmp_path, make_dicom, capsys, monkeypatch):
    from _hostile import deny_folders

    write_study(make_dicom, tmp_path / "P1", n_phases=2, n_slices=2)
    deny_folders(monkeypatch, tmp_path / "P1")
    assert main(["report", str(tmp_path / "P1"), "--out", str(tmp_path / "out"), "--no-plots", "--no-progress"]) == 2
    assert f"{tmp_path / 'P1'}: cannot read folder: permission denied" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_dataset_whose_dicoms_folder_cannot_be_read(dataset, tmp_path, capsys, monkeypatch):
    from _hostile import deny_folders

    deny_folders(monkeypatch, dataset / "dicoms")
    assert main(["report", str(dataset), "--out", str(tmp_path / "out"), "--no-plots", "--no-progress"]) == 2
    assert f"{dataset / 'dicoms'}: cannot read folder: permission denied" in capsys.readouterr().err


def test_missing_input(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "nope: no such folder" in capsys.readouterr().err


def test_find_patients(tmp_path, dataset):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "1.dcm").write_bytes(b"")
    patients = find_patients([str(dataset), str(tmp_path / "one")])
    assert [p.name for p in patients] == ["P1", "P2", "one"]
    assert sorted(patients[0].contours) == [1, 4, 7, 10, 13, 16]
    patients = find_patients([str(dataset / "dicoms")])  # a folder of patient folders: no contours
    assert [p.name for p in patients] == ["P1", "P2"] and patients[0].contours == {}
    # The same studies twice (they were reported as P1, P2, P1_2, P2_2) are refused.
    with pytest.raises(ValueError, match=rf"^{dataset / 'dicoms' / 'P1'}: given twice \(as a study of {dataset} and "
                                         rf"of {dataset / 'dicoms'}\)"):
        find_patients([str(dataset), str(dataset / "dicoms"), str(tmp_path / "one")])


def test_folder_names_never_give_two_patients_one_output_folder(tmp_path):
    """"x y", "x_y" and "x_y_2" gave x_y, x_y_2 and x_y_2 again: two patients' files in one folder."""
    for name in ("x y", "x_y", "x_y_2", "report.csv"):
        (tmp_path / "p" / name).mkdir(parents=True)
        (tmp_path / "p" / name / "1.dcm").write_bytes(b"")
    patients = find_patients([str(tmp_path / "p")])
    assert {p.folder.name: p.name for p in patients} == {
        "x y": "x_y", "x_y": "x_y_3", "x_y_2": "x_y_2", "report.csv": "report.csv_2"
    }


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_dataset_links_out_of_the_dataset_or_looping_are_skipped(model_path, dataset, tmp_path, make_dicom, capsys):
    """As scan_layout (and qc) follow them: dicoms/EXT -> a study elsewhere and dicoms/LOOP -> ../dicoms are
    not reported (P1 was reported twice, the study elsewhere once); each is listed, exit status 1."""
    write_study(make_dicom, tmp_path / "elsewhere" / "study", n_phases=3, n_slices=2)
    (dataset / "dicoms" / "EXT").symlink_to(tmp_path / "elsewhere" / "study")
    (dataset / "dicoms" / "LOOP").symlink_to("../dicoms")
    (dataset / "dicoms" / "GONE").symlink_to("nowhere")
    (dataset / "dicoms" / "SELF").symlink_to("SELF")
    (dataset / "dicoms" / "SAME").symlink_to("P2")  # inside the dataset: followed, as scan_layout does
    skipped = []
    patients = find_patients([str(dataset)], skipped)
    assert [p.name for p in patients] == ["P1", "P2", "SAME"]
    assert skipped == [
        (str(dataset / "dicoms" / "EXT"),
         f"a link leading out of the dataset folder (to {tmp_path / 'elsewhere' / 'study'}); not followed"),
        (str(dataset / "dicoms" / "GONE"), "not a readable folder: does not exist (a broken link)"),
        (str(dataset / "dicoms" / "LOOP"), f"a link to {dataset / 'dicoms'}, a folder that holds it (a loop); not followed"),
        (str(dataset / "dicoms" / "SELF"), "not a readable folder: symbolic link loop (a link that leads back to itself)"),
    ]
    (dataset / "dicoms" / "SAME").unlink()
    out = tmp_path / "out"
    assert main(["report", str(dataset), "--model", str(model_path), "--out", str(out), "--no-plots",
                 "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "reported 2 of 2 patient(s)" in captured.out
    assert "4 file(s) skipped:" in captured.err and f"  {dataset / 'dicoms' / 'LOOP'}: a link to" in captured.err
    assert [row["folder"] for row in read_rows(out)] == ["P1", "P2"]
    report = json.loads((out / "report.json").read_text())
    assert [item["path"] for item in report["skipped"]] == [str(dataset / "dicoms" / n) for n in ("EXT", "GONE", "LOOP", "SELF")]


def test_no_tta_is_one_pass(model_path, tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2, shape=(64, 64))
    out = tmp_path / "out"
    argv = ["report", str(tmp_path / "a"), "--model", str(model_path), "--out", str(out), "--no-tta", "--no-plots",
            "--no-trim-boundary"]
    assert main(argv) == 0
    study = read_cine(tmp_path / "a")
    model = UNetSegmenter.load(model_path).set_params(tta=False)
    expected = measure_study(study, segment_study(study, model)).row()
    (row,) = read_rows(out)
    assert row["slices_kept"] == str(expected["slices_kept"])
    for key in ("edv_ml", "esv_ml"):
        assert (row[key] == "" and math.isnan(expected[key])) or float(row[key]) == pytest.approx(expected[key], abs=0.006)


def test_lv_mass_from_a_model_of_both_targets(dataset, tmp_path, monkeypatch):
    """A target="both" model adds the LV mass at end-diastole: myocardium of the kept slices x 1.05 g/mL."""
    import numpy as np

    class Both:
        target_ = "both"

        def predict(self, images):
            masks = np.zeros((len(images), 2, *images.shape[1:]), bool)
            masks[:, 0, 22:42, 22:42] = True  # blood pool: 400 pixels
            masks[:, 1, 17:47, 17:47] = True  # epicardium: 900 pixels -> myocardium 500
            return masks

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": Both()))
    out = tmp_path / "out"
    argv = ["report", str(dataset), "--model", "both.pt", "--out", str(out), "--no-progress", "--no-plots",
            "--no-trim-boundary"]
    assert main(argv) == 0
    rows = {row["folder"]: row for row in read_rows(out)}
    study = read_cine(dataset / "dicoms" / "P1")
    spacing, thickness = study.geometry.pixel_spacing, study.geometry.slice_spacing
    expected = 3 * 500 * spacing[0] * spacing[1] * thickness / 1000 * 1.05
    assert int(rows["P1"]["slices_kept"]) == 3
    assert float(rows["P1"]["lv_mass_g"]) == pytest.approx(expected, abs=0.006)


def test_lv_mass_on_uneven_gaps_counts_the_discs_of_the_volumes(tmp_path, make_dicom, monkeypatch):
    """Slices at 0, 10, 20, 40, 50 mm: the mass took the median gap (10 mm) for every slice, the volumes each
    slice's disc (10, 10, 15, 15, 10 mm): 46.31 g here instead of 55.57 g."""

    class Both:
        target_ = "both"

        def predict(self, images):
            rows, cols = np.mgrid[: images.shape[1], : images.shape[2]]
            radius = np.hypot(rows - 32, cols - 32)
            masks = np.zeros((len(images), 2, *images.shape[1:]), bool)
            masks[:, 0] = radius <= 10  # blood pool
            masks[:, 1] = radius <= 15  # epicardium
            return masks

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": Both()))
    write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=5, shape=(64, 64), gaps=[10.0, 10.0, 20.0, 10.0],
                spacing=10.0)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), "--model", "both.pt", "--out", str(out), "--no-progress",
                 "--no-plots", "--no-trim-boundary"]) == 0
    (row,) = read_rows(out)
    assert int(row["slices_kept"]) == 5
    rows, cols = np.mgrid[:64, :64]
    radius = np.hypot(rows - 32, cols - 32)
    myocardium = int(((radius <= 15) & (radius > 10)).sum())  # pixels of the ring in every slice
    expected = myocardium * 1.5 * 1.5 * (10 + 10 + 15 + 15 + 10) / 1000 * 1.05
    assert float(row["lv_mass_g"]) == pytest.approx(expected, abs=0.006)
    # The volumes count the same discs: the pool's pixels x the same 60 mm.
    pool = int((radius <= 10).sum())
    assert float(row["edv_ml"]) == pytest.approx(pool * 1.5 * 1.5 * 60 / 1000, abs=0.006)


def test_no_lv_mass_from_a_blood_pool_model(model_path, dataset, tmp_path):
    out = tmp_path / "out"
    assert main(["report", str(dataset), "--model", str(model_path), "--out", str(out), "--no-progress",
                 "--no-plots"]) == 0
    assert {row["lv_mass_g"] for row in read_rows(out)} == {""}


def test_an_epicardium_model_is_refused_before_segmenting(tmp_path, make_dicom, monkeypatch, capsys):
    # Its masks were measured as blood-pool volumes (EDV, EF) and written as "LV blood pool" SEGs.
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=2)
    epicardium = PoolsOfEighty()
    epicardium.target_ = "epicardium"
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: epicardium))
    monkeypatch.setattr(PoolsOfEighty, "predict", lambda self, images: pytest.fail("segmented"))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), "--model", "epi.pt", "--out", str(out), "--no-progress"]) == 2
    assert capsys.readouterr().err == (
        "skcardio report: error: epi.pt: a model of target 'epicardium' segments the epicardium, not the "
        "blood pool that the volumes and EF are measured on; expected a model of target 'endocardium' or 'both'\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("level", [None, "0.5"])
def test_trim_boundary_measures_the_pool_without_its_dark_rim(tmp_path, make_dicom, monkeypatch, level):
    """--trim-boundary: masks one pixel into the wall are trimmed back to the bright pool before measuring."""
    import numpy as np
    from scipy import ndimage as ndi

    from _cine_studies import expected_volumes

    class Wide:
        target_ = "endocardium"

        def predict(self, images):
            return np.array([ndi.binary_dilation(image > 500) for image in images])

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": Wide()))
    write_study(make_dicom, tmp_path / "a", n_phases=4, n_slices=3, shape=(48, 48))
    rows, reports = {}, {}
    for trim in (False, True, None):  # None: no option, the default
        out = tmp_path / f"out_{trim}"
        flags = {True: ["--trim-boundary", *([level] if level else [])], False: ["--no-trim-boundary"], None: []}[trim]
        argv = ["report", str(tmp_path / "a"), "--model", "wide.pt", "--out", str(out), "--no-plots", *flags]
        assert main(argv) == 0
        ((rows[trim],), reports[trim]) = read_rows(out), json.loads((out / "report.json").read_text())
    assert float(rows[None]["edv_ml"]) < float(rows[False]["edv_ml"])  # the default trims...
    if level is None:  # ...at the experts' level, as a bare --trim-boundary does
        assert rows[None]["edv_ml"] == rows[True]["edv_ml"] and rows[None]["esv_ml"] == rows[True]["esv_ml"]
        assert rows[None]["boundary_level"] == "0.145"
    truth = expected_volumes(4, 3, shape=(48, 48))
    assert float(rows[False]["edv_ml"]) > truth.max() + 0.1  # the untrimmed masks overshoot
    assert float(rows[True]["edv_ml"]) == pytest.approx(truth.max(), abs=0.006)
    assert float(rows[True]["esv_ml"]) == pytest.approx(truth.min(), abs=0.006)
    assert reports[False]["boundary_level"] is None
    assert reports[True]["boundary_level"] == (0.5 if level else pytest.approx(0.145))
    assert rows[False]["boundary_level"] == "" and float(rows[True]["boundary_level"]) == (0.5 if level else 0.145)


def test_trim_boundary_level_reaches_the_trimming_and_a_both_model_gains_mass(tmp_path, make_dicom, monkeypatch):
    """Level 0 trims nothing (the wall is at 0); a target="both" model's trimmed rim joins its myocardium."""
    import numpy as np
    from scipy import ndimage as ndi

    class WideBoth:
        target_ = "both"

        def predict(self, images):
            pool = np.array([ndi.binary_dilation(image > 500) for image in images])
            epicardium = np.array([ndi.binary_dilation(p, iterations=4) for p in pool])
            return np.stack([pool, epicardium], axis=1)

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": WideBoth()))
    write_study(make_dicom, tmp_path / "a", n_phases=4, n_slices=3, shape=(48, 48))
    rows = {}
    for flags in (["--no-trim-boundary"], ["--trim-boundary=0"], ["--trim-boundary=0.5"], []):
        out = tmp_path / f"out{len(rows)}"
        argv = ["report", str(tmp_path / "a"), "--model", "both.pt", "--out", str(out), "--no-plots", *flags]
        assert main(argv) == 0
        (rows[tuple(flags)],) = read_rows(out)
    untrimmed, zero, half = rows[("--no-trim-boundary",)], rows[("--trim-boundary=0",)], rows[("--trim-boundary=0.5",)]
    assert rows[()]["boundary_level"] == "0.145"  # the default: the experts' level
    assert zero["edv_ml"] == untrimmed["edv_ml"] and zero["lv_mass_g"] == untrimmed["lv_mass_g"]
    assert float(half["edv_ml"]) < float(untrimmed["edv_ml"])
    assert float(half["lv_mass_g"]) > float(untrimmed["lv_mass_g"])
    assert [r["boundary_level"] for r in (untrimmed, zero, half)] == ["", "0", "0.5"]


@pytest.mark.parametrize("flags", [["--trim-boundary=0.3", "--no-trim-boundary"], ["--no-trim-boundary", "--trim-boundary"]])
def test_trim_and_no_trim_together_are_a_usage_error(flags, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--out", str(tmp_path / "out"), *flags])
    assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_trim_boundary_level_outside_zero_to_one_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--out", str(tmp_path / "out"), "--trim-boundary", "1.5"])
    assert exit_info.value.code == 2
    assert "--trim-boundary: expected a number between 0 and 1 (inclusive), got 1.5" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["report", "predict"])
def test_trim_help_names_the_level_in_use(command, capsys):
    from skcardio.segment import SUNNYBROOK_BOUNDARY_LEVEL

    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"SUNNYBROOK_BOUNDARY_LEVEL, {SUNNYBROOK_BOUNDARY_LEVEL:g})" in help_text
