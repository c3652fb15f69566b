"""``skcardio evaluate``: the pretrained U-Net scored (``--pretrained``), its training data named, and the
columns of ``per_slice.csv`` that trace each slice to its file and give the U-Net's confidence and flags."""

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from _image_folders import write_image_folder

from skcardio.cli import main
from skcardio.datasets import get_sample_path, load_image_folder, load_sample

#: The columns of predict's predictions.csv for the confidence and flags of a mask.
QUALITY = ["confidence", "empty", "several_components", "touches_border", "implausible_area", "flagged"]
TINY_UNET = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--threads", "1"]
PNG_NAMES = ["SC-N-2-IM-0001-0001.png", "SC-N-2-IM-0001-0021.png", "SC-HYP-3-IM-0001-0005.png"]
IN_SAMPLE = "slices were in the pretrained model's training data: the scores are in-sample, not an estimate on unseen patients"
FAST = ["--no-plots", "--no-progress", "--threads", "1"]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def pretrained():
    from skcardio.segment import UNetSegmenter

    return UNetSegmenter.pretrained(device="cpu")


def test_pretrained_scores_the_shipped_model_and_says_it_saw_these_slices(tmp_path, capsys, pretrained):
    from skcardio.metrics import dice_score
    from skcardio.qc import assess_predictions

    out = tmp_path / "out"
    assert main(["evaluate", "--method", "unet", "--pretrained", "--out", str(out), *FAST]) == 0
    captured = capsys.readouterr()
    assert ("15 slice(s) with an i-contour or label from 3 patient(s) (embedded sample); no training: the "
            "pretrained model (UNetSegmenter.pretrained()) scored on every slice") in captured.out
    # The shipped model was trained on the shared data, the sample's files among them: one line says so.
    assert captured.err.count("training data") == 1
    assert f"warning: 15 of 15 {IN_SAMPLE}\n" in captured.err
    rows = _rows(out / "per_slice.csv")
    data = load_sample()
    masks, proba = pretrained.predict_with_proba(data.images)
    np.testing.assert_allclose([float(r["dice"]) for r in rows], dice_score(data.y, masks, per_slice=True), atol=1e-5)
    assert {r["fold"] for r in rows} == {"0"}
    # The confidence and flags of predict's predictions.csv, from the same probabilities.
    quality = assess_predictions(masks, proba, pixel_spacing=list(data.frame.pixel_spacing))
    assert [float(r["confidence"]) for r in rows] == pytest.approx(quality["confidence"], abs=5e-4)
    for name in QUALITY[1:]:
        assert [r[name] for r in rows] == [str(int(v)) for v in quality[name]], name
    # Every row names its DICOM file, as predictions.csv's dicom_path does.
    assert [r["dicom_path"] for r in rows] == [str(p) for p in data.frame.dicom_path]
    assert all(Path(r["dicom_path"]).is_file() and r["image_path"] == "" for r in rows)


@pytest.mark.parametrize("flags, expected", [
    (["--method", "unet", "--pretrained", "--model", "m.pt"], None),  # argparse: usage error
    (["--pretrained"], "argument --pretrained: needs --method unet"),
    (["--method", "unet", "--method", "otsu", "--pretrained"],
     "argument --pretrained: scores a U-Net file alone; expected --method unet and no other method"),
    (["--method", "unet", "--pretrained", "--cv", "3"],
     "argument --cv: trains a U-Net per fold; it does not apply to --pretrained"),
    (["--method", "unet", "--pretrained", "--random-state", "1"],
     "argument --random-state: trains a U-Net per fold; it does not apply to --pretrained"),
    (["--method", "unet", "--pretrained", "--epochs", "2"],
     "argument --epochs: trains a U-Net per fold; it does not apply to --pretrained"),
])
def test_pretrained_refuses_model_and_training_options(flags, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"")  # never read: the options are refused first
    if expected is None:
        with pytest.raises(SystemExit) as exit_info:
            main(["evaluate", *flags, "--out", "out"])
        assert exit_info.value.code == 2
        assert "argument --model: not allowed with argument --pretrained" in capsys.readouterr().err
    else:
        assert main(["evaluate", *flags, "--out", "out"]) == 2
        err = capsys.readouterr().err
        assert err == f"skcardio evaluate: error: {expected}\n"
    assert not (tmp_path / "out").exists()


def test_pretrained_on_unseen_images_warns_of_nothing_and_names_their_files(tmp_path, capsys):
    pngs = write_image_folder(tmp_path / "png", PNG_NAMES, shape=(64, 48))
    out = tmp_path / "out"
    assert main(["evaluate", str(pngs), "--method", "unet", "--pretrained", "--out", str(out), *FAST]) == 0
    assert "training data" not in capsys.readouterr().err
    rows = _rows(out / "per_slice.csv")
    frame = load_image_folder(pngs / "images", pngs / "labels").frame
    # An image folder's slice has an instance number only where its name has one: its file says which slice.
    assert [r["image_path"] for r in rows] == [str(p) for p in frame.image_path]
    assert sorted(Path(r["image_path"]).name for r in rows) == sorted(PNG_NAMES)
    assert all(Path(r["image_path"]).samefile(pngs / "images" / Path(r["image_path"]).name) for r in rows)
    assert all(r["dicom_path"] == "" for r in rows)
    # No pixel spacing: no area, so never an implausible one.
    assert {r["implausible_area"] for r in rows} == {"0"}


def test_the_warning_counts_only_the_slices_of_training_files(tmp_path, capsys):
    pngs = write_image_folder(tmp_path / "png", PNG_NAMES)
    out = tmp_path / "out"
    argv = ["evaluate", str(get_sample_path()), str(pngs), "--method", "unet", "--pretrained", "--out", str(out)]
    assert main([*argv, *FAST]) == 0
    assert f"warning: 15 of 18 {IN_SAMPLE}\n" in capsys.readouterr().err
    rows = _rows(out / "per_slice.csv")
    assert sum(bool(r["dicom_path"]) for r in rows) == 15 and sum(bool(r["image_path"]) for r in rows) == 3
    assert all(bool(r["dicom_path"]) != bool(r["image_path"]) for r in rows)


def test_a_model_file_with_the_provenance_of_its_training_warns_too(tmp_path, capsys, caplog):
    from skcardio.segment._unet_file import PRETRAINED

    shutil.copyfile(PRETRAINED, tmp_path / "copy.pt")
    shutil.copyfile(PRETRAINED.with_suffix(".json"), tmp_path / "copy.json")
    shutil.copyfile(PRETRAINED, tmp_path / "alone.pt")  # no record beside it: skcardio train writes none
    shutil.copyfile(PRETRAINED, tmp_path / "other.pt")
    record = json.loads(PRETRAINED.with_suffix(".json").read_text(encoding="utf-8"))
    record["weights_sha256"] = "0" * 64  # another model's record
    (tmp_path / "other.json").write_text(json.dumps(record), encoding="utf-8")
    for name, warned in (("copy.pt", True), ("alone.pt", False), ("other.pt", False)):
        model = tmp_path / name
        argv = ["evaluate", "--method", "unet", "--model", str(model), "--out", str(tmp_path / name[:-3]), *FAST]
        assert main(argv) == 0
        err = capsys.readouterr().err
        expected = (f"warning: 15 of 15 slices were in model {model}'s training data: the scores are in-sample, "
                    "not an estimate on unseen patients\n")
        assert (expected in err) is warned, name
        assert err.count("training data") == warned
    # A stale record (another model's) is said: it silently dropped the in-sample warning.
    stale = [r for r in caplog.records if "not the provenance of" in r.getMessage()]
    assert [(r.levelname, str(tmp_path / "other.pt") in r.getMessage()) for r in stale] == [("WARNING", True)]


def test_a_provenance_record_nested_too_deeply_is_said_and_ignored(tmp_path, capsys, caplog):
    """json.loads raised RecursionError on it, which evaluate did not catch: a traceback instead of the scores."""
    from skcardio.segment._unet_file import PRETRAINED

    shutil.copyfile(PRETRAINED, tmp_path / "m.pt")
    (tmp_path / "m.json").write_text("[" * 100_000 + "]" * 100_000)
    argv = ["evaluate", "--method", "unet", "--model", str(tmp_path / "m.pt"), "--out", str(tmp_path / "out"), *FAST]
    assert main(argv) == 0
    assert "training data:" not in capsys.readouterr().err and (tmp_path / "out" / "per_slice.csv").is_file()
    said = [r for r in caplog.records if "provenance record" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in said] == [(
        "WARNING", f"{tmp_path / 'm.json'}: not read as the provenance record of {tmp_path / 'm.pt'} (not JSON: "
        "Nested too deeply: character 0): its training data are unknown, so no slice is counted as in-sample")]


@pytest.mark.parametrize("data, reason", [
    (b"{not json", "not JSON: Expecting property name enclosed in double quotes: character 1"),
    (b'{"weights_sha256": "0"}', "no 'data' entry"),
    (b'{"data": [1]}', "list indices must be integers or slices, not str"),
    (b'\xff{"data": {}}', "not UTF-8 text: invalid start byte, expected JSON"),
    (b'{"data": "' + b"x" * 200 + b'"}', "a JSON file of 212 bytes exceeds the limit max_text_bytes=100"),
])
def test_a_provenance_record_that_cannot_be_read_is_said_and_ignored(tmp_path, caplog, data, reason):
    from skcardio.cli._evaluate_unet import _training_hashes
    from skcardio.io import limits_context

    (tmp_path / "m.pt").write_bytes(b"weights")
    (tmp_path / "m.json").write_bytes(data)
    with limits_context(max_text_bytes=100):
        assert _training_hashes(tmp_path / "m.pt") == frozenset()
    [record] = [r for r in caplog.records if "provenance record" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert f"{tmp_path / 'm.json'}: not read as the provenance record of {tmp_path / 'm.pt'} ({reason}" in (
        record.getMessage())


def test_unet_cv_writes_confidence_and_flags_from_one_pass(tmp_path, capsys, monkeypatch):
    """Grouped CV with a classical method beside the U-Net: the U-Net's rows have the confidence and flags, the
    others blank cells; the masks and the flags come from one pass of the network per fold."""
    from skcardio.segment import UNetSegmenter

    calls = []
    real = UNetSegmenter.predict_with_proba

    def once(self, X):
        calls.append(len(X))
        return real(self, X)

    def twice(self, X):
        raise AssertionError("the network was run a second time, by predict")

    monkeypatch.setattr(UNetSegmenter, "predict_with_proba", once)
    monkeypatch.setattr(UNetSegmenter, "predict", twice)
    out = tmp_path / "out"
    argv = ["evaluate", "--method", "otsu", "--method", "unet", *TINY_UNET, "--cv", "2", "--out", str(out),
            "--no-plots", "--no-progress"]
    assert main(argv) == 0
    assert sum(calls) == 12 and len(calls) == 2  # the 12 slices with both contours, two folds
    rows = _rows(out / "per_slice.csv")
    otsu = [r for r in rows if r["method"] == "otsu"]
    unet = [r for r in rows if r["method"] == "unet"]
    assert len(otsu) == len(unet) == 12
    assert all(r[name] == "" for r in otsu for name in QUALITY)
    for row in unet:
        assert 0 <= float(row["confidence"]) <= 1 and re.fullmatch(r"\d\.\d{3}", row["confidence"])
        flags = [row[name] for name in QUALITY[1:-1]]
        assert set(flags) <= {"0", "1"}
        assert row["flagged"] == str(int("1" in flags))
        if row["empty"] == "1":  # nothing predicted: Dice 0 (the expert's pool is never empty here)
            assert float(row["dice"]) == 0 and float(row["confidence"]) == 0
    assert [r["dicom_path"] for r in otsu] == [r["dicom_path"] for r in unet]
    assert all(r["dicom_path"].endswith(".dcm") and r["image_path"] == "" for r in rows)


def test_every_method_names_the_file_of_each_slice(tmp_path):
    """Classical methods too: per_slice.csv traces each row to its DICOM file (their rows have no confidence)."""
    out = tmp_path / "out"
    assert main(["evaluate", "--method", "otsu", "--cv", "3", "--out", str(out), "--no-plots", "--no-progress"]) == 0
    rows = _rows(out / "per_slice.csv")
    data = load_sample(require="o-contour")
    assert [(r["patient_id"], int(r["instance"])) for r in rows] == list(zip(data.frame.patient_id, data.frame.instance))
    assert [r["dicom_path"] for r in rows] == [str(p) for p in data.frame.dicom_path]
    assert all(r["image_path"] == "" and all(r[name] == "" for name in QUALITY) for r in rows)
