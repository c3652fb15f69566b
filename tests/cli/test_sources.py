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


def test_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty: neither a DICOM dataset folder .* nor an image folder"):
        load_sources([str(tmp_path / "empty")])
    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png"])
    with pytest.raises(DatasetError, match="an image folder has labels only, no o-contour"):
        load_sources([str(pngs)], require="o-contour")
    with pytest.raises(SystemExit):
        _parse(["--groups", "("])


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
    assert errors[str(pngs / "images" / "SC-N-2-IM-0001-0002.png")].startswith("unreadable image (pillow: ")
    assert errors[str(pngs / "images" / "whatever.png")].startswith("name does not match the groups pattern")


def test_an_unreadable_root_is_named(tmp_path, monkeypatch):
    from _hostile import deny_folders

    pngs = write_image_folder(tmp_path / "png", ["SC-N-2-IM-0001-0001.png"])
    deny_folders(monkeypatch, pngs)
    with pytest.raises(DatasetError, match=re.escape(f"{pngs}: cannot read folder: permission denied; expected a dataset folder")):
        load_sources([str(pngs)])
