"""The Sunnybrook Cardiac Data as downloaded (SCD_DeidentifiedImages + SCD_ManualContours)."""

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from _hostile import deny_folders
from conftest import write_contour_text, write_dicom

from _contour_shapes import SQUARE_I, SQUARE_O

from skcardio.datasets import load_dataset, scan_layout
from skcardio.exceptions import DatasetError
from skcardio.io import contour_to_mask, read_contour
from skcardio.qc import check_dataset


def _synthetic(root, *, decoy="CINE2CH_500", decoy_images=(1, 2, 3, 4)):
    """One patient: cine SAX series 300 (images 1-4), a decoy series, contours of images 2 and 3."""
    (root / "SCD_DeidentifiedImages" / "SCD0000101").mkdir(parents=True)
    (root / "SCD_DeidentifiedImages" / "SCD0009901").mkdir()  # not in the table
    (root / "scd_patientdata.csv").write_text(
        "PatientID,OriginalID,Gender,Age,Pathology\nSCD0000101,SC-HF-I-1,Male,53,Heart failure with infarct\n"
    )
    image = (np.arange(32 * 32).reshape(32, 32) % 50).astype(np.int16)
    for series, numbers in (("CINESAX_300", (1, 2, 3, 4)), (decoy, decoy_images)):
        if series is None:
            continue
        folder = root / "SCD_DeidentifiedImages" / "SCD0000101" / series
        folder.mkdir()
        for n in numbers:
            write_dicom(folder / f"IM-0003-{n:04d}.dcm", image + n, instance=n, patient_id="SCD0000101")
    expert = root / "SCD_ManualContours" / "SC-HF-I-01" / "contours-manual" / "IRCCI-expert"
    write_contour_text(expert / "IM-0001-0002-icontour-manual.txt", SQUARE_I)
    write_contour_text(expert / "IM-0001-0003-icontour-manual.txt", SQUARE_I)
    write_contour_text(expert / "IM-0001-0003-ocontour-manual.txt", SQUARE_O)
    write_contour_text(expert / "IM-0001-0003-p1contour-manual.txt", SQUARE_I)
    (expert / "notes.txt").write_text("not a contour\n")
    for top in ("SCD_DeidentifiedImages", "SCD_ManualContours"):  # as in the download
        (root / top / "README.txt").write_text("licence and citation\n")
    return root


def test_reads_the_download_layout(tmp_path):
    root = _synthetic(tmp_path / "scd")
    data = load_dataset(root)
    assert list(data.frame.instance) == [2, 3]
    assert set(data.frame.patient_id) == {"SCD0000101"} and set(data.frame.original_id) == {"SC-HF-I-1"}
    assert all("/CINESAX_300/IM-0003-000" in p for p in data.frame.dicom_path)
    # Image 2 of the SAX series is the DICOM IM-0003-0002 (pixels = base + 2), not the decoy's.
    base = (np.arange(32 * 32).reshape(32, 32) % 50).astype(np.float32)
    np.testing.assert_array_equal(data.images[0], base + 2)
    np.testing.assert_array_equal(data.y[1], contour_to_mask(read_contour(data.frame.icontour_path[1]), (32, 32)))
    assert list(data.has_region) == [False, True]
    reasons = {s.path.split("/")[-1]: s.reason for s in data.skipped}
    assert reasons["IRCCI-expert"] == "1 papillary-muscle contour file(s) (p1, p2) not read"
    assert reasons["CINE2CH_500"] == "series not contoured (contours refer to CINESAX_300)"
    assert reasons["SCD0009901"] == "not listed in scd_patientdata.csv"
    assert "does not match the contour pattern" in reasons["notes.txt"]
    assert reasons["CINESAX_300"] == "2 DICOM(s) without any contour"
    assert "README.txt" not in reasons and len(data.skipped) == 5


def test_contours_pick_the_series_holding_their_image_numbers(tmp_path):
    # The decoy alone holds image 2 and 3 if the SAX series lacks them: here the
    # decoy holds 2, 3 and the SAX series too, so 'SAX' in the name decides.
    root = _synthetic(tmp_path / "scd", decoy="CINE_600", decoy_images=(2, 3))
    assert all("CINESAX_300" in s.dicom_path for s in scan_layout(root).slices)


def test_two_fitting_cine_sax_series_are_ambiguous(tmp_path):
    root = _synthetic(tmp_path / "scd", decoy="CINESAX_301")
    layout = scan_layout(root)
    assert layout.slices == []
    assert any("cannot tell which series" in s.reason and "CINESAX_300, CINESAX_301" in s.reason for s in layout.skipped)
    with pytest.raises(DatasetError, match="no usable slice"):
        load_dataset(root)


def test_missing_patient_table_names_it(tmp_path):
    root = _synthetic(tmp_path / "scd")
    (root / "scd_patientdata.csv").unlink()
    with pytest.raises(DatasetError, match=r"no scd_patientdata\.csv found.*PatientID,OriginalID"):
        load_dataset(root)


def test_neither_layout_names_both(tmp_path):
    with pytest.raises(DatasetError, match="no link.csv found.*SCD_DeidentifiedImages.*folders\\)$"):
        load_dataset(tmp_path)
    # An image folder (sunnybrook_train_png's layout) given to load_dataset: say which loader reads it.
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    with pytest.raises(DatasetError, match="holds images/ and labels/: an image folder, read by load_image_folder$"):
        load_dataset(tmp_path)


@pytest.mark.parametrize(
    "denied",
    [
        "SCD_DeidentifiedImages/SCD0000101/CINESAX_300",
        "SCD_DeidentifiedImages/SCD0000101",
        "SCD_ManualContours/SC-HF-I-01/contours-manual/IRCCI-expert",
        "SCD_ManualContours",
        "SCD_DeidentifiedImages",
    ],
)
def test_unreadable_folders_are_error_items(tmp_path, monkeypatch, denied):
    # Were a PermissionError traceback (os.scandir) or, for a parent, "does not exist".
    root = _synthetic(tmp_path / "scd")
    deny_folders(monkeypatch, root / denied)
    layout = scan_layout(root)
    errors = {os.path.relpath(s.path, root): s.reason for s in layout.skipped if s.error}
    assert errors.pop(denied) == "cannot read folder: permission denied"
    if denied in ("SCD_ManualContours", "SCD_DeidentifiedImages"):  # and the patient's folder in it
        [(path, reason)] = errors.items()
        assert path.startswith(denied) and reason == "linked folder cannot be read (Permission denied)"
    else:
        assert errors == {}
    assert not any("CINESAX_300" in s.dicom_path for s in layout.slices)  # (the decoy holds the numbers too)


def test_a_row_whose_id_would_leave_the_root_is_an_error_item(tmp_path):
    root = _synthetic(tmp_path / "scd")
    with open(root / "scd_patientdata.csv", "a") as table:
        table.write("../etc,SC-N-9,Male,50,Normal\n")
    layout = scan_layout(root)
    assert [s.instance for s in layout.slices] == [2, 3]
    [item] = [s for s in layout.skipped if s.error]
    assert item.path == f"{root / 'scd_patientdata.csv'}:3"
    assert "id '../etc' would leave the dataset root; expected a plain folder name" in item.reason


@pytest.fixture
def sunnybrook_copy(shared_data_root, tmp_path):
    """The shared data rearranged into the layout of the public download.

    Contoured DICOMs and contour files are copied (links leading out of a
    dataset folder are not followed); the other frames are left out.
    """
    from skcardio.io import read_header

    root = tmp_path / "scd"
    with (shared_data_root / "link.csv").open(newline="") as handle:
        links = list(csv.DictReader(handle))
    rows = "".join(f"{r['patient_id']},{r['original_id']},Male,50,Heart failure with infarct\n" for r in links)
    root.mkdir()
    (root / "scd_patientdata.csv").write_text("PatientID,OriginalID,Gender,Age,Pathology\n" + rows)
    for link in links:
        patient, original = link["patient_id"], link["original_id"]
        dicoms = sorted((shared_data_root / "dicoms" / patient).glob("*.dcm"))
        series = root / "SCD_DeidentifiedImages" / patient / f"CINESAX_{read_header(dicoms[0]).SeriesNumber}"
        series.mkdir(parents=True)
        prefix, number = original.rsplit("-", 1)
        expert = root / "SCD_ManualContours" / f"{prefix}-{int(number):02d}" / "contours-manual" / "IRCCI-expert"
        expert.mkdir(parents=True)
        contoured = set()
        for kind in ("i", "o"):
            for c in (shared_data_root / "contourfiles" / original / f"{kind}-contours").glob("*.txt"):
                shutil.copyfile(c, expert / c.name)
                contoured.add(int(c.name.split("-")[2]))
        for f in dicoms:
            if int(f.stem) in contoured:
                shutil.copyfile(f, series / f"IM-0003-{int(f.stem):04d}.dcm")
    return root


@pytest.mark.shared_data
def test_download_layout_gives_the_same_96_slices(sunnybrook_copy, shared_data_root):
    ours, shared = load_dataset(sunnybrook_copy), load_dataset(shared_data_root)
    assert len(ours.frame) == len(shared.frame) == 96
    for name in ("patient_id", "original_id", "instance", "slice_location", "trigger_time", "rows", "columns"):
        np.testing.assert_array_equal(ours.frame[name], shared.frame[name])
    np.testing.assert_array_equal(ours.frame.pixel_spacing, shared.frame.pixel_spacing)
    for name in ("images", "y", "regions", "has_region", "groups"):
        np.testing.assert_array_equal(ours[name], shared[name])
    # The files behind each record are copies of the same files.
    for a, b, n in zip(ours.frame.dicom_path, shared.frame.dicom_path, shared.frame.instance):
        assert Path(a).name == f"IM-0003-{n:04d}.dcm" and Path(a).read_bytes() == Path(b).read_bytes()
    # skcardio qc reads it too, with the same findings.
    flags = [[s.flags for s in check_dataset(root).slices] for root in (sunnybrook_copy, shared_data_root)]
    assert flags[0] == flags[1] and sum(map(bool, flags[0])) == 59


@pytest.mark.parametrize("linked", ["patient", "series", "contours"])
def test_folders_linked_out_of_the_download_are_not_read(tmp_path, linked):
    """As in a link.csv dataset: a planted link must not make the tools read files elsewhere."""
    root = _synthetic(tmp_path / "scd")
    patient = root / "SCD_DeidentifiedImages" / "SCD0000101"
    folder = {
        "patient": patient,
        "series": patient / "CINESAX_300",
        "contours": root / "SCD_ManualContours" / "SC-HF-I-01" / "contours-manual" / "IRCCI-expert",
    }[linked]
    elsewhere = tmp_path / "elsewhere"
    shutil.move(folder, elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)
    layout = scan_layout(root)
    # Nothing read from there (with the SAX series refused, the decoy series is the contoured one).
    assert [s.dicom_path for s in layout.slices if "CINESAX_300" in s.dicom_path] == []
    assert len(layout.slices) == (2 if linked == "series" else 0)
    [item] = [s for s in layout.skipped if s.error]
    assert item.path == str(folder)
    assert item.reason.endswith(f"a link leading out of the dataset folder (to {elsewhere}); not followed")
    # The same link inside the download is followed.
    inside = root / "SCD_DeidentifiedImages" / "moved"
    shutil.move(elsewhere, inside)
    folder.unlink()
    folder.symlink_to(inside, target_is_directory=True)
    assert [s.instance for s in scan_layout(root).slices] == [2, 3]


@pytest.mark.parametrize("where", ["series", "patient", "unlisted"])
def test_a_link_loop_is_reported_not_a_traceback(tmp_path, where):
    root = _synthetic(tmp_path / "scd")
    images = root / "SCD_DeidentifiedImages"
    loop = {"series": images / "SCD0000101" / "LOOP", "patient": images / "SCD0000101",
            "unlisted": images / "SCD0009902"}[where]
    if where == "patient":
        shutil.rmtree(loop)
    loop.symlink_to(loop)
    layout = scan_layout(root)
    reasons = {s.path: s.reason for s in layout.skipped}
    if where == "unlisted":
        assert reasons[str(loop)] == "not listed in scd_patientdata.csv"
    else:
        what = "series folder" if where == "series" else "linked folder"
        assert reasons[str(loop)] == f"{what} is a symbolic link loop (a link that leads back to itself)"
    assert [s.instance for s in layout.slices] == ([] if where == "patient" else [2, 3])


def test_a_series_folder_linked_out_is_named_in_words(tmp_path):
    root = _synthetic(tmp_path / "scd")
    series = root / "SCD_DeidentifiedImages" / "SCD0000101" / "CINE2CH_500"
    shutil.move(series, tmp_path / "elsewhere")
    series.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    [item] = [s for s in scan_layout(root).skipped if s.error]
    assert item.reason == f"series folder is a link leading out of the dataset folder (to {tmp_path / 'elsewhere'}); not followed"
