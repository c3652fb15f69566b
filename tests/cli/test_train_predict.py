"""``skcardio train`` and ``skcardio predict`` end to end on the embedded sample."""

from __future__ import annotations

import csv
import os
import re
import stat

import numpy as np
import pytest
from PIL import Image

from skcardio.cli import main
from skcardio.cli._predict import _write_outputs, collect_dicoms
from skcardio.datasets import get_sample_path, load_sample
from skcardio.io import contour_to_mask, read_contour, read_dicom
from skcardio.qc import PREDICTION_FLAGS, assess_predictions
from skcardio.segment import UNetSegmenter

#: A small network and few epochs: seconds on a 2-core CPU.
TINY_FLAGS = ["--epochs", "6", "--depth", "3", "--base-channels", "8", "--crop-size", "96", "--quiet"]


# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "unet.pt"
    assert main(["train", "--out", str(path), *TINY_FLAGS]) == 0
    return path


def test_train_writes_a_loadable_model(model_path, capsys):
    model = UNetSegmenter.load(model_path)
    assert (model.max_epochs, model.depth, model.base_channels, model.crop_size) == (6, 3, 8, 96)
    assert len(model.net_.history) == 6


def test_train_prints_epochs_unless_quiet(tmp_path, capsys):
    path = tmp_path / "m.pt"
    flags = [f for f in TINY_FLAGS if f != "--quiet"]
    flags[1] = "1"  # one epoch
    assert main(["train", "--out", str(path), *flags]) == 0
    printed = capsys.readouterr().out
    assert "train_loss" in printed and "trained 1 epoch(s) on 15 slices of 3 patient(s)" in printed


def test_predict_folder_and_file(model_path, tmp_path):
    import shutil

    patient = get_sample_path() / "dicoms" / "SCD0000101"
    # A copy: the file itself beside its folder is refused (one image segmented twice).
    single = tmp_path / "one" / sorted(patient.glob("*.dcm"))[0].name
    single.parent.mkdir()
    shutil.copyfile(sorted(patient.glob("*.dcm"))[0], single)
    out = tmp_path / "out"
    assert main(["predict", str(model_path), str(patient), str(single), "--out", str(out), "--no-progress"]) == 0

    files = sorted(patient.glob("*.dcm"))
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == len(files) + 1
    model = UNetSegmenter.load(model_path)
    for dicom_file in files:
        stem = out / "SCD0000101" / dicom_file.stem
        mask = np.load(f"{stem}_mask.npy")
        image = read_dicom(dicom_file).image
        # The CLI gives exactly what the estimator gives.
        np.testing.assert_array_equal(mask, model.predict(image[None])[0])
        png = np.asarray(Image.open(f"{stem}_mask.png"))
        np.testing.assert_array_equal(png > 0, mask)
        assert set(np.unique(png)) <= {0, 255}
        overlay = np.asarray(Image.open(f"{stem}_overlay.png"))
        assert overlay.shape == (*image.shape, 3)
        contour = stem.parent / f"{stem.name}_contour.txt"
        assert contour.exists() == bool(mask.any())
    assert (out / f"{single.stem}_mask.npy").exists()


def test_written_contour_matches_mask_and_input_format(tmp_path):
    mask = np.zeros((64, 64), bool)
    mask[20:40, 15:35] = True
    dicom = read_dicom(sorted((get_sample_path() / "dicoms" / "SCD0000101").glob("*.dcm"))[0])
    row = _write_outputs(tmp_path, tmp_path.joinpath("a").relative_to(tmp_path), dicom, mask, overlay=False)
    assert row["area_px"] == 400 and not (tmp_path / "a_overlay.png").exists()
    text = (tmp_path / "a_contour.txt").read_text().splitlines()
    x, y = text[0].split()
    assert len(x.split(".")[1]) == 2 and len(y.split(".")[1]) == 2  # "120.50 137.50"
    points = read_contour(tmp_path / "a_contour.txt")
    np.testing.assert_array_equal(contour_to_mask(points, mask.shape), mask)
    # The expert files of the sample read the same way: x = column, y = row.
    sample = load_sample()
    expert = read_contour(sample.frame.icontour_path[0])
    assert contour_to_mask(expert, (256, 256)).sum() == sample.y[0].sum()


def test_outputs_of_a_name_shortened_to_fit_are_all_written(tmp_path):
    """The longest suffix and the contour's temporary file fit beside a stem that unique_names shortened."""
    from skcardio.cli._output_names import unique_names

    mask = np.zeros((256, 256), bool)
    mask[120:140, 115:135] = True
    dicom = read_dicom(sorted((get_sample_path() / "dicoms" / "SCD0000101").glob("*.dcm"))[0])
    ((stem, _),) = unique_names([tmp_path.joinpath("L" * 245).relative_to(tmp_path)], room=len("_overlay.png"))
    _write_outputs(tmp_path, stem, dicom, mask, overlay=True)
    assert sorted(p.name[len(stem.name):] for p in tmp_path.iterdir()) == [
        "_contour.txt", "_mask.npy", "_mask.png", "_overlay.png"
    ]


def test_predict_reports_unreadable_files(model_path, tmp_path, capsys):
    bad = tmp_path / "in" / "broken.dcm"
    bad.parent.mkdir()
    bad.write_text("not a dicom")
    good = sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))[0]
    assert main(["predict", str(model_path), str(bad), str(good), "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert "1 skipped" in capsys.readouterr().out
    assert (tmp_path / "o" / f"{good.stem}_mask.npy").exists()


def test_predict_missing_input_and_bad_model(model_path, tmp_path, capsys):
    assert main(["predict", str(model_path), str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    fake = tmp_path / "fake.pt"
    fake.write_text("x")
    good = sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))[0]
    assert main(["predict", str(fake), str(good), "--out", str(tmp_path)]) == 2
    assert "skcardio predict: error:" in capsys.readouterr().err


def test_collect_dicoms_keeps_patients_apart(tmp_path):
    for patient in ("p1", "p2"):
        (tmp_path / patient).mkdir()
        for n in (2, 10):
            (tmp_path / patient / f"{n}.dcm").write_bytes(b"")
    pairs = collect_dicoms([str(tmp_path)])
    stems = [str(stem) for _, stem in pairs]
    name = tmp_path.name
    assert stems == [f"{name}/p1/2", f"{name}/p1/10", f"{name}/p2/2", f"{name}/p2/10"]
    # Two files of the same name given directly: each keeps its folder's name (it got 2_2, said in a note).
    notes = []
    pairs = collect_dicoms([str(tmp_path / "p1" / "2.dcm"), str(tmp_path / "p2" / "2.dcm")], notes)
    assert [str(stem) for _, stem in pairs] == ["p1/2", "p2/2"]
    assert notes == []
    # A name still taken (compared ignoring case: one file on macOS and Windows): the first free suffix, a note.
    (tmp_path / "p1" / "2.DCM").write_bytes(b"")
    pairs = collect_dicoms([str(tmp_path / "p1" / "2.dcm"), str(tmp_path / "p1" / "2.DCM")], notes)
    assert [str(stem) for _, stem in pairs] == ["2", "2_2"]
    assert notes == [(str(tmp_path / "p1" / "2.DCM"),
                      f"outputs named 2_2: 2 is already the name of another output ({tmp_path / 'p1' / '2.dcm'})")]


def test_collect_dicoms_sorts_any_mix_of_names(tmp_path):
    # Digit-only names beside others (and beside folders) raised TypeError: int < str.
    for name in ("10.dcm", "a.dcm", "2.dcm", "IM-0001-0048.dcm", "IM-0001-0007.dcm", "A/1.dcm"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    stems = [str(stem.relative_to(tmp_path.name)) for _, stem in collect_dicoms([str(tmp_path)])]
    assert stems == ["2", "10", "A/1", "IM-0001-0007", "IM-0001-0048", "a"]


def test_collect_dicoms_folder_without_dcm_says_how_to_name_the_files(tmp_path):
    """Scanner exports often have no .dcm: the folder is refused with the way to pass them (named directly)."""
    (tmp_path / "IM0002").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"folder has no \*\.dcm file; name DICOM files without that "
                                                 r"extension one by one"):
        collect_dicoms([str(tmp_path)])
    assert [file.name for file, _ in collect_dicoms([str(tmp_path / "IM0002")])] == ["IM0002"]


@pytest.mark.parametrize(
    "inputs, expected",
    [
        (["d", "d"], r"^d: given twice \(also as d\); expected each DICOM file or folder once: an image given twice "
                     r"would be segmented twice, and its series files .* would count it as another cardiac phase$"),
        (["d", "./d/"], r"^\./d/: given twice \(also as d\)"),
        (["d/2.dcm", "d/2.dcm"], r"^d/2\.dcm: given twice \(also as d/2\.dcm\)"),
        (["d", "d/2.dcm"], r"^d/2\.dcm: the same file as d/2\.dcm \(from the inputs d and d/2\.dcm\); expected each "
                           r"DICOM file once: .*; leave one of the inputs out$"),
        (["e", "d"], r"^d/1\.dcm: the same file as e/hard\.dcm \(from the inputs e and d\)"),
        (["l"], r"^l/b\.dcm: the same file as l/a\.dcm \(both in l\); .*; name the files of the folder one by one"),
    ],
)
def test_collect_dicoms_refuses_a_file_read_twice(tmp_path, monkeypatch, inputs, expected):
    """predict DIR DIR segmented every image twice, and series.csv listed each one's copy as another phase."""
    monkeypatch.chdir(tmp_path)
    for name in ("d/1.dcm", "d/2.dcm"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "e").mkdir()
    os.link(tmp_path / "d" / "1.dcm", tmp_path / "e" / "hard.dcm")  # another name of one file
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "a.dcm").write_bytes(b"")
    (tmp_path / "l" / "b.dcm").symlink_to("a.dcm")
    with pytest.raises(ValueError, match=expected):
        collect_dicoms(inputs)
    assert len(collect_dicoms(["d", "l/a.dcm"])) == 3  # distinct files: taken


def test_predict_refuses_a_folder_and_its_file_before_reading_any(tmp_path, capsys):
    folder = get_sample_path() / "dicoms" / "SCD0000101"
    first = sorted(folder.glob("*.dcm"))[0]
    out = tmp_path / "out"
    argv = ["predict", str(folder), str(first), "--out", str(out), "--dicom-seg", "--nifti", "--no-progress"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"skcardio predict: error: {first}: the same file as {first} (from the inputs {folder} and {first}); "
        "expected each DICOM file once: an image given twice would be segmented twice, and its series files "
        "(--dicom-seg, --nifti) would count it as another cardiac phase; leave one of the inputs out\n"
    )
    assert main(["predict", str(folder), str(folder), "--out", str(out), "--no-progress"]) == 2
    assert f"error: {folder}: given twice (also as {folder})" in capsys.readouterr().err
    assert not out.exists()


def _picture(path, kind):
    """A small grey picture file at ``path``, written by Pillow as ``kind`` (PNG, JPEG, TIFF) whatever its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(path, format=kind)
    return path


_NOT_DICOM = ("not a DICOM file: predict reads DICOM files only. Segment pictures in Python with "
              "UNetSegmenter.pretrained().predict(images), the images read with skcardio.datasets.load_image_folder")


@pytest.mark.parametrize("name, kind", [("a.dcm.png", "PNG"), ("scan.dcm", "JPEG"), ("x", "TIFF"), ("y.jpg", "JPEG")])
def test_predict_names_a_picture_and_where_pictures_go(tmp_path, capsys, name, kind):
    """A PNG was 'not a DICOM file ... must be re-saved as a Part 10 file': wrong advice for a picture."""
    path = _picture(tmp_path / "in" / name, kind)
    assert main(["predict", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio predict: error: {path}: a {kind} image, {_NOT_DICOM}") and "Part 10" not in err
    assert not (tmp_path / "out").exists()


def test_predict_names_a_folder_of_pictures(tmp_path, capsys):
    """The Sunnybrook PNG export's images/: 'folder has no *.dcm file', though every name holds .dcm."""
    for n in (28, 40):
        _picture(tmp_path / "images" / f"SC-HF-I-40-IM-0001-{n:04d}.dcm.png", "PNG")
    (tmp_path / "images" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=re.escape(
            f"{tmp_path / 'images'}: folder has no *.dcm file but 2 picture(s) (PNG/JPEG/TIFF, e.g. "
            f"SC-HF-I-40-IM-0001-0028.dcm.png): {_NOT_DICOM.removeprefix('not a DICOM file: ')}")):
        collect_dicoms([str(tmp_path / "images")])
    assert main(["predict", str(tmp_path / "images"), "--out", str(tmp_path / "out")]) == 2
    assert "skcardio.datasets.load_image_folder" in capsys.readouterr().err


@pytest.mark.shared_data
def test_predict_names_the_shared_png_export(shared_png_root, tmp_path, capsys):
    image = sorted((shared_png_root / "images").glob("*.dcm.png"))[0]
    for given in (image, shared_png_root / "images"):
        assert main(["predict", str(given), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert "predict reads DICOM files only" in err and "load_image_folder" in err and "Part 10" not in err


def test_collect_dicoms_reports_unreadable_folders(tmp_path, monkeypatch):
    """A folder that cannot be listed is returned with the reason, not passed over (Path.rglob's way)."""
    from _hostile import deny_folders

    for name in ("p/1.dcm", "p/extra/2.dcm", "q/3.dcm"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    deny_folders(monkeypatch, tmp_path / "p" / "extra", tmp_path / "q")
    unreadable = []
    pairs = collect_dicoms([str(tmp_path / "p"), str(tmp_path / "q")], unreadable=unreadable)
    assert [file.name for file, _ in pairs] == ["1.dcm"]  # q: no *.dcm seen, but no "folder has no *.dcm" error
    denied = "cannot read folder: permission denied"
    assert unreadable == [(str(tmp_path / "p" / "extra"), denied), (str(tmp_path / "q"), denied)]
    with pytest.raises(OSError, match=re.escape(f"{tmp_path / 'p' / 'extra'}: {denied}")):
        collect_dicoms([str(tmp_path / "p")])


def test_collect_dicoms_reports_folders_nested_too_deeply(tmp_path):
    """1100 nested folders raised RecursionError through predict (os.walk recurses before Python 3.12)."""
    from _hostile import nested_folders

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "1.dcm").write_bytes(b"")
    with nested_folders(tmp_path / "in") as deepest:
        (deepest / "2.dcm").write_bytes(b"")
        unreadable = []
        pairs = collect_dicoms([str(tmp_path / "in")], unreadable=unreadable)
        assert [file for file, _ in pairs] == [tmp_path / "in" / "1.dcm"]
        assert unreadable == [(str(tmp_path.joinpath("in", *["d"] * 101)), "folder nested more than 100 levels deep: not read")]


def test_collect_dicoms_keeps_uid_names_apart(tmp_path):
    """Only a .dcm is taken off a name: UID-named files (1.2.840...1 and ...10) keep distinct outputs."""
    for name in ("1.2.840.10008.1", "1.2.840.10008.10", "1.2.840.10008.2", "X.DCM"):
        (tmp_path / name).write_bytes(b"")
    stems = [str(stem) for _, stem in collect_dicoms([str(path) for path in sorted(tmp_path.iterdir())])]
    assert stems == ["1.2.840.10008.1", "1.2.840.10008.10", "1.2.840.10008.2", "X"]


def test_predict_reads_dicoms_without_extension(model_path, tmp_path):
    """The sample's DICOMs copied without their .dcm and named directly are predicted like the originals."""
    import shutil

    folder = tmp_path / "export"
    folder.mkdir()
    for dicom in sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))[:2]:
        shutil.copyfile(dicom, folder / dicom.stem)
    files = [str(file) for file in sorted(folder.iterdir())]
    assert main(["predict", str(model_path), *files, "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "predictions.csv").open()))
    assert len(rows) == 2 and all((tmp_path / "out" / f"{row['output_stem']}_mask.npy").exists() for row in rows)


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    printed = capsys.readouterr().out
    assert "train" in printed and "predict" in printed


def test_predict_rerun_replaces_the_earlier_outputs(model_path, tmp_path, capsys):
    patient = get_sample_path() / "dicoms" / "SCD0000101"
    single = sorted(patient.glob("*.dcm"))[0]
    out = tmp_path / "out"
    assert main(["predict", str(model_path), str(patient), "--out", str(out), "--no-progress"]) == 0
    (out / "notes.txt").write_text("mine")
    # A file given alone gets a new stem: the folder's slice files are now stale.
    assert main(["predict", str(model_path), str(single), "--out", str(out), "--no-progress", "--no-overlay"]) == 0
    left = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"predictions.csv", "notes.txt", f"{single.stem}_mask.npy", f"{single.stem}_mask.png"} <= left
    assert not any(name.startswith("SCD0000101") for name in left)
    assert [r["output_stem"] for r in csv.DictReader((out / "predictions.csv").open())] == [single.stem]
    assert not list(tmp_path.rglob(".skcardio-*"))  # no staging folder, beside out or in it


def test_predict_out_is_a_file(model_path, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    good = sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))[0]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(model_path), str(good), "--out", str(tmp_path / "afile")])
    assert exit_info.value.code == 2
    assert "skcardio predict: error: argument --out:" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_predict_batch_size_must_be_a_positive_integer(value, model_path, tmp_path, capsys):
    good = sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))[0]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(model_path), str(good), "--out", str(tmp_path / "out"),
              "--batch-size", value])
    assert exit_info.value.code == 2
    assert "argument --batch-size" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flag, value, expected",
    [
        ("--validation-fraction", "1.5", "between 0 and 1"),
        ("--validation-fraction", "nan", "between 0 and 1"),
        ("--validation-fraction", "0", "between 0 and 1"),
        ("--validation-fraction", "half", "expected a number, got half"),
        ("--learning-rate", "-1", "expected a positive number, got -1"),
        ("--learning-rate", "inf", "expected a positive number, got inf"),
        ("--seed", "-1", "0 <= seed < 2\\*\\*32, got -1"),
        ("--seed", str(2**32), "0 <= seed < 2\\*\\*32"),
        ("--seed", "1.5", "expected an integer seed, got 1.5"),
    ],
)
def test_train_rejects_bad_options_as_usage_errors(flag, value, expected, tmp_path, capsys):
    out = tmp_path / "m.pt"
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(out), *TINY_FLAGS, flag, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(f"skcardio train: error: argument {flag}: .*{expected}", err), err
    assert not out.exists()


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--crop-size", "50"], "crop_size must be a multiple of 2 \\*\\* \\(depth - 1\\) = 4 \\(depth=3\\), got 50"),
        # A 1 x 1 bottleneck failed in batch norm for a batch of one crop.
        (["--crop-size", "4"], ("crop_size must be at least 2 \\*\\* depth = 8 \\(depth=3\\) so that the "
                                "bottleneck of a crop is at least 2 x 2 pixels, got 4")),
        (["--device", "cuda"], "argument --device: device='cuda' was requested but CUDA is not available"),
    ],
)
def test_train_reports_invalid_combinations_in_one_line(flags, expected, tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "m.pt"
    assert main(["train", "--out", str(out), *TINY_FLAGS, *flags]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(f"skcardio train: error: {expected}\n", err), err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_train_reports_a_validation_fraction_holding_out_every_patient(tmp_path, capsys, monkeypatch):
    # sklearn's "With n_samples=3, test_size=0.9 ..." came as a traceback (exit 1).
    def no_fit(*args, **kwargs):  # pragma: no cover - reached only if the check misses
        raise AssertionError("fit called although no patient is left for training")

    monkeypatch.setattr(UNetSegmenter, "fit", no_fit)
    out = tmp_path / "m.pt"
    assert main(["train", "--out", str(out), *TINY_FLAGS, "--validation-fraction", "0.9"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "skcardio train: error: validation_fraction=0.9 would hold out ceil(0.9 x 3) = 3 of the 3 "
        "patients (groups) for validation, leaving none for training; with 3 patients (groups) it "
        "must be at most 2/3 (or give more patients)\n"
    )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("flags, expected", [
    (["--validation-fraction", "0.4"], "the validation loss was never finite"),
    ([], "epoch 2, whose weights would be kept, ended with non-finite weights"),
], ids=["validation", "no-validation"])
def test_diverged_train_reports_it_and_writes_nothing(flags, expected, tmp_path, capsys):
    # With validation, skorch failed with a FileNotFoundError about its
    # temporary checkpoint; without, a model predicting every pixel was saved.
    out = tmp_path / "m.pt"
    diverging = ["--learning-rate", "1e6", "--epochs", "2"]
    assert main(["train", "--out", str(out), *TINY_FLAGS, *diverging, *flags]) == 2
    captured = capsys.readouterr()
    assert re.fullmatch(f"skcardio train: error: training diverged: {expected}.*; try a lower "
                        "learning_rate \\(got 1000000.0\\)\n", captured.err), captured.err
    assert "trained" not in captured.out
    assert not list(tmp_path.iterdir())


def test_interrupted_train_writes_nothing(tmp_path, capsys, monkeypatch):
    from skcardio.segment._unet_data import AugmentedSlices

    def interrupt(self, index):
        raise KeyboardInterrupt

    monkeypatch.setattr(AugmentedSlices, "__getitem__", interrupt)
    out = tmp_path / "m.pt"
    out.write_text("earlier model")
    assert main(["train", "--out", str(out), *TINY_FLAGS]) == 130
    captured = capsys.readouterr()
    assert "trained" not in captured.out
    assert captured.err == (
        f"skcardio train: interrupted (SIGINT); {out} left unchanged (nothing of this run was written there)\n"
    )
    assert out.read_text() == "earlier model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_predict_threads_must_be_a_positive_integer(value, model_path, tmp_path, capsys):
    good = sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))[0]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(model_path), str(good), "--out", str(tmp_path / "out"), "--threads", value])
    assert exit_info.value.code == 2
    assert "argument --threads" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_train_patience_needs_validation_fraction(tmp_path, capsys, monkeypatch):
    """Early stopping watches held-out patients: --patience alone would be silently ignored."""

    def no_fit(*args, **kwargs):  # pragma: no cover - reached only if the check misses
        raise AssertionError("trained although --patience cannot apply")

    monkeypatch.setattr(UNetSegmenter, "fit", no_fit)
    out = tmp_path / "m.pt"
    assert main(["train", "--out", str(out), *TINY_FLAGS, "--patience", "3"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "skcardio train: error: argument --patience: needs --validation-fraction (early stopping "
        "watches the held-out patients), got --patience 3 without it\n"
    )
    assert not list(tmp_path.iterdir())


class _Fitted(Exception):
    pass


@pytest.mark.parametrize("flags, expected", [
    (["--validation-fraction", "0.3", "--patience", "3"], (0.3, 3)),
    (["--validation-fraction", "0.3"], (0.3, 30)),  # the estimator's default patience
    ([], (None, 30)),
])
def test_train_passes_patience_with_validation(tmp_path, monkeypatch, flags, expected):
    def record(self, *args, **kwargs):
        raise _Fitted((self.validation_fraction, self.patience))

    monkeypatch.setattr(UNetSegmenter, "fit", record)
    with pytest.raises(_Fitted) as fitted:
        main(["train", "--out", str(tmp_path / "m.pt"), *TINY_FLAGS, *flags])
    assert fitted.value.args[0] == expected
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_model_file_follows_the_umask(model_path, tmp_path):
    """The model file was 0600 (tempfile.mkstemp) where every other output follows the umask."""
    mask = os.umask(0)
    os.umask(mask)
    (tmp_path / "plain").write_text("x")
    assert stat.S_IMODE(model_path.stat().st_mode) == 0o666 & ~mask
    assert model_path.stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_predict_writes_confidence_and_flags(model_path, tmp_path):
    patient = get_sample_path() / "dicoms" / "SCD0000201"
    out = tmp_path / "out"
    assert main(["predict", "--model", str(model_path), str(patient), "--out", str(out), "--no-progress"]) == 0
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    files = sorted(patient.glob("*.dcm"))
    images = np.stack([read_dicom(f).image for f in files])
    masks, proba = UNetSegmenter.load(model_path).predict_with_proba(images)
    expected = assess_predictions(masks, proba, pixel_spacing=[read_dicom(f).pixel_spacing for f in files])
    assert [r["output_stem"] for r in rows] == [f"SCD0000201/{f.stem}" for f in files]
    for index, row in enumerate(rows):
        assert float(row["confidence"]) == pytest.approx(expected["confidence"][index], abs=5e-4)
        for flag in (*PREDICTION_FLAGS, "flagged"):
            assert row[flag] == str(int(expected[flag][index]))


def test_predict_without_a_model_uses_the_pretrained_one(tmp_path):
    single = sorted((get_sample_path() / "dicoms" / "SCD0000101").glob("*.dcm"))[0]
    out = tmp_path / "out"
    assert main(["predict", str(single), "--out", str(out), "--no-progress", "--no-overlay"]) == 0
    mask = np.load(out / f"{single.stem}_mask.npy")
    np.testing.assert_array_equal(mask, UNetSegmenter.pretrained().predict(read_dicom(single).image[None])[0])


def test_predict_with_only_a_model_file_is_refused(model_path, tmp_path, capsys):
    assert main(["predict", str(model_path), "--out", str(tmp_path / "o")]) == 2
    assert "no DICOM file or folder given after the model" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, given",
    [(["--model", "a.pt", "b.pt", "x.dcm"], "--model"), (["a.pt", "x.dcm", "b.pt"], "the first argument"),
     (["a.pt", "b.pt"], "the first argument")],
    ids=["--model", "first", "only-models"],
)
def test_predict_refuses_a_second_model_file(args, given, tmp_path, capsys, monkeypatch):
    # b.pt was read as a DICOM and skipped as "not a DICOM file" (exit 1).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(UNetSegmenter, "load", lambda *a, **k: pytest.fail("a model was loaded"))
    assert main(["predict", *args, "--out", "out"]) == 2
    assert capsys.readouterr().err == (
        f"skcardio predict: error: b.pt: a second model file; the model is a.pt ({given}), and predict "
        "takes one model file, then DICOM files or folders\n"
    )
    assert not (tmp_path / "out").exists()


def test_train_on_dicoms_and_image_folders_of_other_sizes(tmp_path, capsys):
    from _image_folders import write_image_folder

    first = write_image_folder(tmp_path / "a", ["SC-N-2-IM-0001-0001.png", "SC-N-2-IM-0001-0021.png"], shape=(64, 48))
    second = write_image_folder(tmp_path / "b", ["SC-HYP-3-IM-0001-0005.png"], shape=(300, 280))
    out = tmp_path / "m.pt"
    flags = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--quiet"]
    assert main(["train", str(get_sample_path()), str(first), str(second), "--out", str(out), *flags]) == 0
    assert "trained 1 epoch(s) on 18 slices of 5 patient(s)" in capsys.readouterr().out
    # padded to 300 x 280: the model segments images of any size
    assert UNetSegmenter.load(out).predict(load_sample().images[:1]).shape == (1, 256, 256)


def test_train_skips_bad_files_of_an_image_folder_and_exits_1(tmp_path, capsys):
    import tifffile

    from _image_folders import write_image_folder

    names = ["SC-N-2-IM-0001-0001.png", "SC-N-2-IM-0001-0002.png", "SC-N-3-IM-0001-0001.png"]
    root = write_image_folder(tmp_path / "png", names, shape=(32, 32))
    image = np.full((32, 32), 50, np.float32)
    image[0, 0] = np.inf  # was "ValueError: X contains infinite values", no file named
    tifffile.imwrite(root / "images" / "SC-N-3-IM-0001-0002.tif", image)
    (root / "labels" / "SC-N-3-IM-0001-0002.png").write_bytes((root / "labels" / names[0]).read_bytes())
    Image.fromarray(np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)).save(root / "labels" / names[1])  # not binary
    out = tmp_path / "m.pt"
    flags = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--quiet"]
    assert main(["train", str(root), "--out", str(out), *flags]) == 1  # was 2: the whole folder refused
    captured = capsys.readouterr()
    assert "trained 1 epoch(s) on 2 slices of 2 patient(s)" in captured.out and out.is_file()
    assert "2 file(s) skipped:" in captured.err
    assert f"  {root / 'images' / 'SC-N-3-IM-0001-0002.tif'}: 1 infinite pixel value(s)" in captured.err
    assert f"  {root / 'labels' / names[1]}: label is not binary" in captured.err


def test_train_correct_offset_saves_the_measured_offset(tmp_path, capsys, monkeypatch):
    from skcardio.segment import _unet_offset

    seen = []

    def measured(masks, labels):  # a 1-epoch model finds no pool: stand in for the measurement
        seen.append(len(labels))
        return np.array([[0.25, -0.5]])

    monkeypatch.setattr(_unet_offset, "estimate_label_offset", measured)
    out = tmp_path / "m.pt"
    flags = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--quiet"]
    assert main(["train", "--out", str(out), *flags]) == 0
    assert not UNetSegmenter.load(out).correct_offset and not UNetSegmenter.load(out).label_offset_.any()
    assert seen == []
    assert main(["train", "--out", str(out), "--correct-offset", *flags]) == 0
    model = UNetSegmenter.load(out)
    assert model.correct_offset and seen == [len(load_sample().y)]  # measured on its training slices
    np.testing.assert_array_equal(model.label_offset_, [[0.25, -0.5]])


def test_train_refuses_a_folder_given_twice(tmp_path, capsys):
    sample = str(get_sample_path())
    assert main(["train", sample, sample + "/", "--out", str(tmp_path / "m.pt"), *TINY_FLAGS]) == 2
    assert f"{sample}/: given twice (also as {sample}); expected each dataset folder once" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("target, flags, expected", [
    ("both", [], "a model of target 'both' gives two masks per image"),
    ("epicardium", ["--dicom-seg"], "a model of target 'epicardium': --dicom-seg writes the segment as the LV blood pool"),
    ("epicardium", ["--trim-boundary"], "a model of target 'epicardium': --trim-boundary trims a blood pool's dark rim"),
])
def test_predict_refuses_a_model_whose_masks_it_cannot_write(target, flags, expected, tmp_path, capsys, monkeypatch):
    # 'both' ended in a traceback from assess_predictions ((n, 2, H, W) masks); an epicardium
    # model's masks were written as a SEG segment coded as the LV blood pool.
    class Stand:
        target_ = target

        def predict_with_proba(self, images):  # pragma: no cover - reached only if not refused
            raise AssertionError("segmented")

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: Stand()))
    single = sorted((get_sample_path() / "dicoms" / "SCD0000101").glob("*.dcm"))[0]
    out = tmp_path / "out"
    assert main(["predict", str(single), "--model", "m.pt", "--out", str(out), "--no-progress", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio predict: error: m.pt: {expected}") and err.count("\n") == 1, err
    assert not out.exists()


class _Wide:
    """A stand-in model whose masks reach one pixel into the dark wall around the bright pool."""

    target_ = "endocardium"

    def predict_with_proba(self, images):
        from scipy import ndimage as ndi

        pools = images > 300
        masks = np.array([ndi.binary_dilation(pool) for pool in pools])
        return masks, np.where(pools, 0.99, np.where(masks, 0.55, 0.0))  # less sure on the rim


def _pool_dicoms(make_dicom, folder, n=3, centre=(20, 20)):
    folder.mkdir(parents=True, exist_ok=True)
    rows, cols = np.mgrid[:40, :40]
    paths = []
    for k in range(n):
        inside = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= (6 + k) ** 2
        image = np.where(inside, 500, 100).astype(np.int16)
        paths.append(make_dicom(folder / f"{k + 1}.dcm", image, instance=k + 1))
    return paths


def test_predict_trim_boundary_trims_the_dark_rim_and_records_the_level(tmp_path, make_dicom, monkeypatch):
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Wide()))
    paths = _pool_dicoms(make_dicom, tmp_path / "in")
    rows = {}
    for flags in ((), ("--trim-boundary",), ("--trim-boundary=0",)):
        out = tmp_path / f"out{len(rows)}"
        argv = ["predict", str(tmp_path / "in"), "--model", "m.pt", "--out", str(out), "--no-progress", *flags]
        assert main(argv) == 0
        rows[flags] = list(csv.DictReader((out / "predictions.csv").open(encoding="utf-8")))
        if flags == ("--trim-boundary",):
            masks = [np.load(out / f"{row['output_stem']}_mask.npy") for row in rows[flags]]
    bright = [read_dicom(p).image > 300 for p in paths]
    for mask, pool in zip(masks, bright):
        np.testing.assert_array_equal(mask, pool)  # trimmed back to the bright pool
    untrimmed, trimmed, zero = rows[()], rows[("--trim-boundary",)], rows[("--trim-boundary=0",)]
    assert [int(r["area_px"]) for r in trimmed] == [int(p.sum()) for p in bright]
    assert all(int(u["area_px"]) > int(t["area_px"]) for u, t in zip(untrimmed, trimmed))
    assert [r["area_px"] for r in zero] == [r["area_px"] for r in untrimmed]  # level 0: the wall is at 0
    assert {r["boundary_level"] for r in untrimmed} == {""}
    assert {r["boundary_level"] for r in trimmed} == {"0.145"} and {r["boundary_level"] for r in zero} == {"0"}
    # The confidence is the untrimmed mask's: the trim drops the rim's 0.55 and would raise it.
    assert [r["confidence"] for r in trimmed] == [r["confidence"] for r in untrimmed]
    assert all(0.8 < float(r["confidence"]) < 0.95 for r in trimmed)


def test_predict_trim_flags_follow_the_trimmed_mask(tmp_path, make_dicom, monkeypatch):
    # A pool one pixel from the left edge: only the untrimmed mask, one pixel wider, reaches it.
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Wide()))
    _pool_dicoms(make_dicom, tmp_path / "in", n=1, centre=(20, 7))
    border = {}
    for flags in ((), ("--trim-boundary",)):
        out = tmp_path / f"out{len(flags)}"
        assert main(["predict", str(tmp_path / "in"), "--model", "m.pt", "--out", str(out), "--no-progress", *flags]) == 0
        (row,) = csv.DictReader((out / "predictions.csv").open(encoding="utf-8"))
        border[flags] = (row["touches_border"], row["flagged"])
    assert border == {(): ("1", "1"), ("--trim-boundary",): ("0", "0")}


def test_predict_skips_a_slice_that_cannot_be_trimmed_and_writes_the_others(tmp_path, make_dicom, monkeypatch, capsys):
    import skcardio.segment

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Wide()))
    real = skcardio.segment.trim_dark_boundary

    def fails_on_the_largest(images, masks, **kwargs):
        if masks.sum() > 200:  # the third, widest disc
            raise ValueError("images must be finite, got NaN")
        return real(images, masks, **kwargs)

    monkeypatch.setattr(skcardio.segment, "trim_dark_boundary", fails_on_the_largest)
    paths = _pool_dicoms(make_dicom, tmp_path / "in")
    out = tmp_path / "out"
    argv = ["predict", *map(str, paths), "--model", "m.pt", "--out", str(out), "--no-progress", "--trim-boundary"]
    assert main(argv) == 1
    written = list(csv.DictReader((out / "predictions.csv").open(encoding="utf-8")))
    assert [r["output_stem"] for r in written] == ["1", "2"]
    assert f"{paths[2]}: cannot be trimmed (images must be finite, got NaN)" in capsys.readouterr().err


def test_predict_trim_level_outside_zero_to_one_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path), "--out", str(tmp_path / "out"), "--trim-boundary=-0.1"])
    assert exit_info.value.code == 2
    assert "--trim-boundary: expected a number between 0 and 1 (inclusive), got -0.1" in capsys.readouterr().err


def test_train_precision_reaches_the_saved_model(tmp_path, capsys):
    flags = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--quiet"]
    out = tmp_path / "m.pt"
    assert main(["train", "--out", str(out), *flags]) == 0
    assert UNetSegmenter.load(out).precision == "float32"
    assert main(["train", "--out", str(out), "--precision", "bfloat16", *flags]) == 0
    assert UNetSegmenter.load(out).precision == "bfloat16"
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(out), "--precision", "float16", *flags])
    assert exit_info.value.code == 2
    assert "argument --precision: invalid choice: 'float16'" in capsys.readouterr().err
