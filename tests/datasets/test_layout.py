"""scan_layout on faulty folders: every problem is a DatasetError or a Skipped item with its reason."""

import logging
import os

import pytest

from _contour_shapes import SQUARE_I, SQUARE_O

from skcardio.datasets import load_dataset, scan_layout
from skcardio.exceptions import DatasetError


def _reasons(layout, root):
    """{path relative to root: reason} of the skipped items."""
    return {os.path.relpath(item.path, root): item.reason for item in layout.skipped}


def _one_patient(make_layout):
    return make_layout({"P1": ("O1", {5: {"i": SQUARE_I, "o": SQUARE_O}, 6: {"i": SQUARE_I, "o": SQUARE_O}})})


# link.csv: encoding and CSV errors (were UnicodeDecodeError and csv.Error)


@pytest.mark.parametrize(
    "data, byte, position, line",
    [
        ("patient_id,original_id\nP1,O1\n# caf\xe9\n".encode("latin-1"), 0xE9, 34, 3),
        ("patient_id,original_id\nP1,O1\n".encode("utf-16"), 0xFF, 0, 1),
        (b"\xef\xbb\xbfpatient_id,original_id\nP1,O1\xff\n", 0xFF, 31, 2),  # a position in the file, BOM included
    ],
)
def test_link_csv_not_utf8_is_a_dataset_error(make_layout, data, byte, position, line):
    root = _one_patient(make_layout)
    (root / "link.csv").write_bytes(data)
    with pytest.raises(DatasetError) as info:
        scan_layout(root)
    assert str(info.value) == (
        f"{root / 'link.csv'}: is not UTF-8 text: byte 0x{byte:02x} at position {position} (line {line}); "
        "expected a UTF-8 CSV file 'patient_id,original_id'"
    )


def test_link_csv_field_over_csv_limit_is_a_dataset_error(make_layout):
    root = _one_patient(make_layout)
    (root / "link.csv").write_text('patient_id,original_id\nP1,O1\n"' + "x" * 200_000 + '",y\n')
    with pytest.raises(DatasetError, match=r"link\.csv, line 3: not valid CSV \(field larger than field limit"):
        scan_layout(root)


# link.csv line numbers (a quoted cell over two lines shifted every later number)


def test_link_line_numbers_count_physical_lines(make_layout):
    root = _one_patient(make_layout)
    (root / "link.csv").write_text(
        'patient_id,original_id\n"P1",O1\n"note: see\nticket 12",\nP2;O2\n'  # the last row is on line 5
    )
    reasons = _reasons(scan_layout(root), root)
    assert reasons["link.csv:3"].startswith("malformed link row ['note: see\\nticket 12', '']")
    assert reasons["link.csv:5"].startswith("malformed link row ['P2;O2']")
    assert "link.csv:4" not in reasons


# Duplicate link rows: the second row's folder is listed, not "not listed"


def test_folder_of_a_duplicate_row_says_so(make_layout):
    root = make_layout(
        {"P1": ("O1", {5: {"i": SQUARE_I}}), "P2": ("O2", {5: {"i": SQUARE_I}})},
        link_rows=["P1,O1", "P1,O2"],
    )
    reasons = _reasons(scan_layout(root), root)
    assert reasons["link.csv:3"] == "duplicate link row ['P1', 'O2']: patient_id 'P1' already linked on line 2"
    assert reasons["contourfiles/O2"] == "listed in link.csv only on a rejected duplicate link row: line 3"
    assert reasons["dicoms/P2"] == "not listed in link.csv"  # truly absent from link.csv


def test_duplicate_of_both_ids_names_both(make_layout):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}})}, link_rows=["P1,O1", "P1,O1"])
    reasons = _reasons(scan_layout(root), root)
    assert reasons["link.csv:3"] == (
        "duplicate link row ['P1', 'O1']: patient_id 'P1' already linked on line 2 "
        "and original_id 'O1' already linked on line 2"
    )
    assert len(reasons) == 1  # both folders are used by line 2


# Entries of contourfiles/<original_id>/ other than i-contours/ and o-contours/


@pytest.mark.parametrize(
    "make",
    [
        lambda d: (d / "o-contours").rename(d / "o-contour"),
        lambda d: (d / "o-contours").rename(d / "O-contours"),
        lambda d: (d / "o-contours" / "IM-0001-0005-ocontour-manual.txt").rename(d / "IM-0001-0005-ocontour-manual.txt"),
        lambda d: (d / "notes.txt").write_text("x"),
        lambda d: (d / ".DS_Store").write_bytes(b"x"),  # hidden files are reported like any other
    ],
    ids=["o-contour", "O-contours", "contour-file-at-top", "notes", "DS_Store"],
)
def test_stray_entries_beside_contour_folders_reported(make_layout, make, caplog):
    root = _one_patient(make_layout)
    folder = root / "contourfiles" / "O1"
    make(folder)
    [stray] = sorted(set(os.listdir(folder)) - {"i-contours", "o-contours"})
    reasons = _reasons(scan_layout(root), root)
    assert reasons[f"contourfiles/O1/{stray}"] == "not an i-contours or o-contours folder, the only entries read here"
    with caplog.at_level(logging.INFO, logger="skcardio.datasets"):
        load_dataset(root)
    [record] = [r for r in caplog.records if r.getMessage().startswith(f"skipped {folder / stray}:")]
    assert record.levelno == logging.WARNING  # a fault in the data, not an expected skip


def test_contour_folder_that_is_a_file_reported(make_layout):
    root = _one_patient(make_layout)
    folder = root / "contourfiles" / "O1" / "o-contours"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_text("oops")
    reasons = _reasons(scan_layout(root), root)
    assert reasons["contourfiles/O1/o-contours"] == "not a folder, expected the folder of o-contour files"


def test_clean_contour_folder_reports_nothing(make_layout):
    root = _one_patient(make_layout)
    assert scan_layout(root).skipped == []


# File names: ASCII digits only, nothing after the extension


@pytest.mark.parametrize(
    "folder, good, bad",
    [
        ("dicoms/P1", "5.dcm", "\u0665.dcm"),  # Arabic-Indic 5
        ("dicoms/P1", "5.dcm", "5.dcm\n"),
        ("contourfiles/O1/i-contours", "IM-0001-0005-icontour-manual.txt", "IM-0001-\uff10\uff10\uff10\uff15-icontour-manual.txt"),
        ("contourfiles/O1/i-contours", "IM-0001-0005-icontour-manual.txt", "IM-0001-0005-icontour-manual.txt\n"),
    ],
)
def test_names_need_ascii_digits_and_nothing_after(make_layout, folder, good, bad):
    root = _one_patient(make_layout)
    os.rename(root / folder / good, root / folder / bad)
    layout = scan_layout(root)
    assert _reasons(layout, root)[f"{folder}/{bad}"] in {
        r"name does not match the DICOM pattern ([0-9]+)\.dcm",
        r"name does not match the contour pattern IM-0001-([0-9]{4})-icontour-manual\.txt",
    }
    assert all(not s.dicom_path.endswith(bad) and not s.icontour_path.endswith(bad) for s in layout.slices)


# Why an entry with a valid name is not used


def test_broken_link_reason(make_layout):
    root = _one_patient(make_layout)
    dicom = root / "dicoms" / "P1" / "5.dcm"
    dicom.unlink()
    dicom.symlink_to(root / "gone.dcm")
    reasons = _reasons(scan_layout(root), root)
    assert reasons["dicoms/P1/5.dcm"] == f"not a readable file: broken link to {root / 'gone.dcm'}"


@pytest.mark.parametrize("name", ["7.dcm", "sub"])
def test_folder_where_a_file_is_expected(make_layout, name):
    root = _one_patient(make_layout)
    (root / "dicoms" / "P1" / name).mkdir()
    (root / "contourfiles" / "O1" / "i-contours" / f"IM-0001-0007-icontour-{name}").mkdir()
    reasons = _reasons(scan_layout(root), root)
    assert reasons[f"dicoms/P1/{name}"] == "is a folder, expected DICOM files only"
    assert reasons[f"contourfiles/O1/i-contours/IM-0001-0007-icontour-{name}"] == "is a folder, expected contour files only"
