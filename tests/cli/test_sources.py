"""The ROOT arguments of ``train`` and ``evaluate``: DICOM layouts and image folders."""

import argparse
import re

import numpy as np
import pytest

from _image_folders import write_image_folder

from skcardio.cli._sources import add_source_arguments, is_image_folder, load_sources
from skcardio.datasets import get_sample_path
from skcardio.exceptions import DatasetError, SkcardioWarning


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    return parser.parse_args(argv)


def test_kinds_detected(tmp_path):
    pngs = write_image_folder(tmp_path / "png", ["p01_a.png", "p02_a.png"])
    assert is_image_folder(pngs) and not is_image_folder(get_sample_path())
    args = _parse([str(get_sample_path()), str(pngs), "--groups", r"^(p[0-9]+)_"])
    data, source = load_sources(args.roots, groups=args.groups)
    assert source == f"{get_sample_path()}, {pngs}"
    assert len(data.frame) == 17 and set(data.frame.source) == {str(get_sample_path()), str(pngs)}
    assert {"p01", "p02"} <= set(data.groups)


def test_no_root_is_the_sample():
    data, source = load_sources([], require="o-contour")
    assert source == "embedded sample" and len(data.frame) == 12


def test_single_root_not_concatenated(tmp_path):
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png"])
    data, source = load_sources([str(pngs)])
    assert source == str(pngs) and "source" not in data.frame.dtype.names


def test_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty: neither a DICOM dataset folder .* nor an image folder"):
        load_sources([str(tmp_path / "empty")])
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png"])
    with pytest.raises(DatasetError, match="an image folder has labels only, no o-contour"):
        load_sources([str(pngs)], require="o-contour")
    with pytest.raises(SystemExit) as info:
        _parse(["--groups", "("])
    assert info.value.code == 2  # argparse's usage error, not a crash
    assert "error: argument --groups: invalid regular expression '(': " in capsys.readouterr().err


def test_same_patient_ids_in_two_folders_kept_apart(tmp_path):
    first = write_image_folder(tmp_path / "a", ["SC-N-2-IM-0001-0001.png"])
    second = write_image_folder(tmp_path / "b", ["SC-N-2-IM-0001-0002.png"])
    with pytest.warns(SkcardioWarning, match="SC-N-2 found in several datasets"):
        data, _ = load_sources([str(first), str(second)])
    assert data.groups.tolist() == [f"{first}:SC-N-2", f"{second}:SC-N-2"]
    assert re.search(r"total: 2 patient\(s\), 2 slice\(s\)", data.summary)


@pytest.mark.shared_data
def test_all_shared_patients(shared_data_root, shared_png_root):
    data, _ = load_sources([str(shared_data_root), str(shared_png_root)])
    assert data.images.shape == (300, 256, 256) and len(set(data.groups)) == 17
    patients = {p: len(set(data.groups[data.frame.pathology == p])) for p in ("HF-I", "HF-NI", "HYP", "N")}
    assert patients == {"HF-I": 6, "HF-NI": 4, "HYP": 4, "N": 3}
    png = data.frame.source == str(shared_png_root)
    assert png.sum() == 204 and np.isnan(data.frame.pixel_spacing[png]).all()
    assert (data.frame.dicom_path[png] == "").all() and (data.frame.image_path[~png] == "").all()


def test_bad_files_of_an_image_folder_are_skipped_not_fatal(tmp_path):
    # One bad file aborted train and evaluate; now it is an error item (listed, exit 1), as a bad DICOM.
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png", "SC-N-2-IM-0001-0002.png"])
    (pngs / "images" / "SC-N-2-IM-0001-0002.png").write_bytes(b"broken")
    (pngs / "images" / "whatever.png").write_bytes((pngs / "labels" / "SC-N-2-IM-0001-0001.png").read_bytes())
    (pngs / "labels" / "whatever.png").write_bytes((pngs / "labels" / "SC-N-2-IM-0001-0001.png").read_bytes())
    data, _ = load_sources([str(pngs)])
    assert len(data.frame) == 1
    errors = {item.path: item.reason for item in data.skipped if item.error}
    assert sorted(errors) == [str(pngs / "images" / "SC-N-2-IM-0001-0002.png"), str(pngs / "images" / "whatever.png")]
    assert errors[str(pngs / "images" / "SC-N-2-IM-0001-0002.png")].startswith("not a PNG file: ")
    assert errors[str(pngs / "images" / "whatever.png")].startswith("name does not match the groups pattern")


def test_an_unreadable_root_is_named(tmp_path, monkeypatch):
    from _hostile import deny_folders

    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png"])
    deny_folders(monkeypatch, pngs)
    with pytest.raises(DatasetError, match=re.escape(f"{pngs}: cannot read folder: permission denied; expected a dataset folder")):
        load_sources([str(pngs)])


def test_every_root_is_checked_before_any_is_loaded(tmp_path, monkeypatch):
    """A refused later ROOT costs no loading of the earlier ones (a large first ROOT took minutes)."""
    import skcardio.datasets

    def no_loading(*args, **kwargs):
        raise AssertionError("a ROOT was loaded")

    monkeypatch.setattr(skcardio.datasets, "load_dataset", no_loading)
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png"])
    with pytest.raises(DatasetError, match="an image folder has labels only, no o-contour"):
        load_sources([str(get_sample_path()), str(pngs)], require="o-contour")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty: neither a DICOM dataset folder"):
        load_sources([str(get_sample_path()), str(tmp_path / "empty")])
    with pytest.raises(DatasetError, match="missing: no such folder"):
        load_sources([str(get_sample_path()), str(tmp_path / "missing")])
    (tmp_path / "file.dcm").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"file\.dcm: is a file"):
        load_sources([str(get_sample_path()), str(tmp_path / "file.dcm")])


def test_groups_without_an_image_folder_is_refused(tmp_path):
    """--groups only reads image-folder file names: with DICOM layouts alone it was silently ignored."""
    pattern = re.compile(r"SC-(\d+)")
    with pytest.raises(DatasetError, match=r"--groups 'SC-\(\\d\+\)': finds the patient in image-folder file names, "
                                           r"but no ROOT is an image folder \(.*sunnybrook_sample\)"):
        load_sources([str(get_sample_path())], groups=pattern)
    with pytest.raises(DatasetError, match=r"no ROOT is an image folder \(the embedded sample\)"):
        load_sources([], groups=pattern)
    # A ROOT that is not there is said to be missing, not to be no image folder.
    with pytest.raises(DatasetError, match="nosuch: no such folder"):
        load_sources([str(tmp_path / "nosuch")], groups=pattern)


def test_the_sunnybrook_download_layout_is_a_root(tmp_path):
    """Documented as a ROOT of train and evaluate; the kind check refused it for want of link.csv."""
    import shutil

    from skcardio.datasets import load_sample

    sample = load_sample()
    root = tmp_path / "scd"
    rows = ""
    for patient, original in sorted(set(zip(sample.frame.patient_id, sample.frame.original_id))):
        rows += f"{patient},{original}\n"
        for record in sample.frame[sample.frame.patient_id == patient]:
            series = root / "SCD_DeidentifiedImages" / patient / "CINESAX_300"
            series.mkdir(parents=True, exist_ok=True)
            shutil.copy(record["dicom_path"], series / f"IM-0003-{record['instance']:04d}.dcm")
            expert = root / "SCD_ManualContours" / original / "contours-manual" / "IRCCI-expert"
            expert.mkdir(parents=True, exist_ok=True)
            for kind in ("i", "o"):
                path = record[f"{kind}contour_path"]
                if path:
                    shutil.copy(path, expert / f"IM-0001-{record['instance']:04d}-{kind}contour-manual.txt")
    (root / "scd_patientdata.csv").write_text("PatientID,OriginalID\n" + rows)
    data, source = load_sources([str(root)], require="o-contour")
    assert source == str(root) and len(data.frame) == 12  # as the sample's link.csv layout


def test_pixel_spacing_reaches_the_image_folders_only(tmp_path):
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png", "SC-N-2-IM-0001-0002.png"])
    args = _parse([str(get_sample_path()), str(pngs), "--pixel-spacing", "1.3672"])
    assert args.pixel_spacing == (1.3672, 1.3672)
    data, _ = load_sources(args.roots, groups=args.groups, pixel_spacing=args.pixel_spacing)
    png = data.frame.source == str(pngs)
    np.testing.assert_array_equal(data.frame.pixel_spacing[png], [[1.3672, 1.3672]] * 2)
    sample = load_sources([str(get_sample_path())])[0].frame.pixel_spacing  # the DICOMs keep their own
    np.testing.assert_array_equal(data.frame.pixel_spacing[~png], sample)
    assert "pixel spacing given: 1.3672 mm" in data.summary
    assert _parse(["--pixel-spacing", "1.5,1.25"]).pixel_spacing == (1.5, 1.25)  # ROW,COL
    assert _parse([]).pixel_spacing is None


@pytest.mark.parametrize("value, message", [
    ("0", "argument --pixel-spacing: 0: not positive; expected pixel spacings within [0.001, 50] mm ("),
    ("-1", "argument --pixel-spacing: -1: not positive; expected"),
    ("nan", "argument --pixel-spacing: nan: not a finite number; expected"),
    ("51", "argument --pixel-spacing: 51: not physical; expected pixel spacings within [0.001, 50] mm"),
    ("1.4,0", "argument --pixel-spacing: (1.4, 0): 0 is not positive; expected"),
    ("1.4mm", "argument --pixel-spacing: got '1.4mm'; expected one number of mm (square pixels) or ROW,COL"),
    ("1,2,3", "argument --pixel-spacing: got '1,2,3'; expected one number"),
])
def test_bad_pixel_spacing_is_a_usage_error(value, message, capsys):
    with pytest.raises(SystemExit) as info:
        _parse([f"--pixel-spacing={value}"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_pixel_spacing_without_an_image_folder_is_refused():
    """DICOMs carry their own spacing: --pixel-spacing with DICOM layouts alone would be silently ignored."""
    with pytest.raises(DatasetError, match=r"^--pixel-spacing 1\.3672: gives the pixel size of image-folder "
                                           r"pictures, but no ROOT is an image folder \(.*sunnybrook_sample\); "
                                           r"DICOMs carry their own spacing \(PixelSpacing \(0028,0030\)\): "
                                           r"leave --pixel-spacing out$"):
        load_sources([str(get_sample_path())], pixel_spacing=(1.3672, 1.3672))
    with pytest.raises(DatasetError, match=r"^--pixel-spacing 1\.5,1\.25: .*\(the embedded sample\); DICOMs carry"):
        load_sources([], pixel_spacing=(1.5, 1.25))


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_pixel_spacing_with_dicoms_only_exits_2_before_anything_is_done(command, tmp_path, capsys):
    from skcardio.cli import main

    out = tmp_path / ("out" if command == "evaluate" else "m.pt")
    assert main([command, str(get_sample_path()), "--pixel-spacing", "1.3672", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio {command}: error: --pixel-spacing 1.3672: ") and err.count("\n") == 1
    assert "DICOMs carry their own spacing (PixelSpacing (0028,0030)): leave --pixel-spacing out" in err
    assert not out.exists()
