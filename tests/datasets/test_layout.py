"""scan_layout on faulty folders: every problem is a DatasetError or a Skipped item with its reason."""

import logging
import os

import pytest
from _hostile import deny_folders

from _contour_shapes import SQUARE_I, SQUARE_O

from skcardio.datasets import load_dataset, scan_layout
from skcardio.exceptions import DatasetError
from skcardio.io import limits_context


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
    with limits_context(max_line_chars=10**6), pytest.raises(
        DatasetError, match=r"link\.csv, line 3: not valid CSV \(field larger than field limit"
    ):
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


# Hostile layouts: links leading out of the dataset, loops, pipes, huge link.csv files


posix_only = pytest.mark.skipif(os.name != "posix", reason="symbolic links and FIFOs")


@posix_only
def test_patient_folder_linked_outside_the_dataset_is_not_followed(make_layout, tmp_path):
    root = _one_patient(make_layout)
    outside = tmp_path / "elsewhere"
    (root / "dicoms" / "P1").rename(outside)
    (root / "dicoms" / "P1").symlink_to(outside)
    layout = scan_layout(root)
    [item] = [s for s in layout.skipped if s.path.endswith("P1")]
    assert item.error and item.reason == (
        f"linked folder is a link leading out of the dataset folder (to {outside}); not followed"
    )
    assert layout.slices == []
    # A link inside the dataset is fine.
    inside = root / "dicoms" / "real"
    (root / "dicoms" / "P1").unlink()
    outside.rename(inside)
    (root / "dicoms" / "P1").symlink_to(inside)
    assert len(scan_layout(root).slices) == 2


@posix_only
def test_link_loops_and_pipes_are_reported_as_such(make_layout, tmp_path):
    root = _one_patient(make_layout)
    folder = root / "dicoms" / "P1"
    (folder / "7.dcm").symlink_to(folder / "7.dcm")
    os.mkfifo(folder / "8.dcm")
    (folder / "9.dcm").symlink_to(tmp_path / "secret.dcm")
    (tmp_path / "secret.dcm").write_bytes(b"x")
    reasons = {os.path.basename(s.path): (s.reason, s.error) for s in scan_layout(root).skipped}
    assert reasons["7.dcm"] == ("not a readable file: symbolic link loop (a link that leads back to itself)", True)
    assert reasons["8.dcm"] == ("not a regular file (a pipe, socket or device)", True)
    assert reasons["9.dcm"] == (f"a link leading out of the dataset folder (to {tmp_path / 'secret.dcm'}); not followed", True)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(DatasetError, match=r"loop: symbolic link loop"):
        scan_layout(loop)
    (root / "contourfiles" / "O1").rename(tmp_path / "O1")
    (root / "contourfiles" / "O1").symlink_to(root / "contourfiles" / "O1")
    [item] = [s for s in scan_layout(root).skipped if s.path.endswith("O1")]
    assert item.reason == "linked folder is a symbolic link loop (a link that leads back to itself)" and item.error


@posix_only
def test_folder_refusal_codes_and_words(tmp_path):
    """The one rule set of scan_layout's linked folders and report's dicoms/ entries."""
    from skcardio.datasets._layout import folder_refusal

    tmp_path = tmp_path.resolve()  # the reasons name resolved targets
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "file").write_text("x")
    os.mkfifo(root / "pipe")
    links = {"inside": "real", "out": tmp_path / "elsewhere", "out_gone": tmp_path / "gone", "gone": "nowhere", "self": "self"}
    for name, target in links.items():
        (root / name).symlink_to(target)
    assert {name: folder_refusal(root, root / name) for name in [*links, "real", "file", "pipe", "missing"]} == {
        "inside": ("", ""),
        "real": ("", ""),
        "out": ("outside", f"a link leading out of the dataset folder (to {tmp_path / 'elsewhere'}); not followed"),
        # Out of the dataset is said first: nothing is said of what lies there.
        "out_gone": ("outside", f"a link leading out of the dataset folder (to {tmp_path / 'gone'}); not followed"),
        "gone": ("broken", "does not exist (a broken link)"),
        "self": ("loop", "symbolic link loop (a link that leads back to itself)"),
        "file": ("not a folder", "is a file, expected a folder"),
        "pipe": ("not a folder", "is a pipe (FIFO), expected a folder"),
        "missing": ("missing", "does not exist"),
    }


@posix_only
def test_folder_refusal_recursive_also_refuses_a_link_to_a_folder_holding_it(tmp_path):
    """skcardio report reads a study with its subfolders: dicoms/LOOP -> ../dicoms would read every patient again."""
    from skcardio.datasets._layout import folder_refusal

    root = tmp_path.resolve() / "root"
    (root / "dicoms" / "P1").mkdir(parents=True)
    (root / "dicoms" / "f.dcm").write_text("x")
    links = {"LOOP": "../dicoms", "ROOT": "..", "SAME": "P1", "FILE": "f.dcm", "OUT": "../.."}
    for name, target in links.items():
        (root / "dicoms" / name).symlink_to(target)
    refusals = {name: folder_refusal(root, root / "dicoms" / name, recursive=True) for name in links}
    assert refusals == {
        "LOOP": ("holder", f"a link to {root / 'dicoms'}, a folder that holds it (a loop); not followed"),
        "ROOT": ("holder", f"a link to {root}, a folder that holds it (a loop); not followed"),
        "SAME": ("", ""),
        "FILE": ("not a folder", "is a file, expected a folder"),
        "OUT": ("outside", f"a link leading out of the dataset folder (to {tmp_path.resolve()}); not followed"),
    }
    # scan_layout reads a patient folder's files only: the link is no loop for it.
    assert folder_refusal(root, root / "dicoms" / "LOOP") == ("", "")


def test_link_csv_row_and_line_limits(make_layout):
    from _hostile import many_rows_link

    root = _one_patient(make_layout)
    many_rows_link(root / "link.csv", 1000)
    with limits_context(max_link_rows=999):
        with pytest.raises(DatasetError, match=r"link\.csv, line 1001: more than 999 rows exceeds the limit max_link_rows=999"):
            scan_layout(root)
    skipped = scan_layout(root).skipped
    assert sum("malformed link row" in s.reason for s in skipped) == 1000
    (root / "link.csv").write_text("patient_id,original_id\nP1," + "O" * 5000 + "\n")
    with pytest.raises(DatasetError) as info:
        scan_layout(root)
    expected = "a line of 5003 characters exceeds the limit max_line_chars=4096"
    assert f"line 2: 'P1,{'O' * 77}'... (5003 characters): {expected}" in str(info.value)


def test_many_skipped_items_are_logged_bounded(make_layout, caplog):
    from _hostile import many_rows_link

    root = _one_patient(make_layout)
    many_rows_link(root / "link.csv", 500)
    with open(root / "link.csv", "a") as handle:
        handle.write("P1,O1\n")
    with caplog.at_level(logging.INFO, logger="skcardio.datasets"):
        data = load_dataset(root)
    assert len(data.skipped) == 500
    assert len(caplog.records) < 30
    assert "... and 480 more skipped: malformed link row" in caplog.text


# Folders that cannot be read (were a PermissionError traceback in qc, evaluate, train and report)

DENIED = "cannot read folder: permission denied"


def _two_patients(make_layout):
    both = {5: {"i": SQUARE_I, "o": SQUARE_O}, 6: {"i": SQUARE_I, "o": SQUARE_O}}
    return make_layout({"P1": ("O1", dict(both)), "P2": ("O2", dict(both))})


@pytest.mark.parametrize(
    "denied, p1_slices",
    [
        ("dicoms/P1", 0),  # no DICOM: its contours have none
        ("contourfiles/O1/i-contours", 2),  # the o-contours still make both slices
        ("contourfiles/O1", 0),  # neither contour folder seen: no slice
    ],
)
def test_unreadable_folder_is_an_error_item_and_the_rest_is_scanned(make_layout, monkeypatch, denied, p1_slices):
    root = _two_patients(make_layout)
    deny_folders(monkeypatch, root / denied)
    layout = scan_layout(root)
    [item] = [s for s in layout.skipped if s.error]
    assert (item.path, item.reason, item.patient_id) == (str(root / denied), DENIED, "P1")
    assert [s.instance for s in layout.slices if s.patient_id == "P2"] == [5, 6]
    assert sum(s.patient_id == "P1" for s in layout.slices) == p1_slices
    if denied.endswith("i-contours"):
        assert not any(s.icontour_path for s in layout.slices if s.patient_id == "P1")


def test_unreadable_dicoms_folder_names_it_and_each_patient(make_layout, monkeypatch):
    root = _two_patients(make_layout)
    deny_folders(monkeypatch, root / "dicoms")
    layout = scan_layout(root)
    assert layout.slices == []
    errors = {os.path.relpath(s.path, root): s.reason for s in layout.skipped if s.error}
    assert errors == {
        "dicoms": DENIED,
        "dicoms/P1": "linked folder cannot be read (Permission denied)",
        "dicoms/P2": "linked folder cannot be read (Permission denied)",
    }


def test_unreadable_dataset_folder_is_a_dataset_error(make_layout, monkeypatch):
    root = _two_patients(make_layout)
    deny_folders(monkeypatch, root)
    with pytest.raises(DatasetError, match=f"{root}: {DENIED}; expected the dataset folder that holds link.csv"):
        scan_layout(root)


@pytest.mark.parametrize("bad_id", ["..", "../etc", "/etc", "a/b", "C:evil", "a\\b"])
def test_a_row_whose_id_would_leave_the_root_is_an_error_item(make_layout, bad_id):
    # One such row aborted the whole dataset, while other malformed rows were skipped.
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}})}, link_rows=["P1,O1", f"{bad_id},O99", f"P3,{bad_id}"])
    layout = scan_layout(root)
    assert [s.patient_id for s in layout.slices] == ["P1"]
    rows = {s.path: s for s in layout.skipped if "link.csv" in s.path}
    assert set(rows) == {f"{root / 'link.csv'}:3", f"{root / 'link.csv'}:4"}
    assert all(item.error for item in rows.values())
    expected = f"id {bad_id!r} would leave the dataset root; expected a plain folder name"
    assert rows[f"{root / 'link.csv'}:3"].reason == f"link row {[bad_id, 'O99']!r}: {expected}"
    assert rows[f"{root / 'link.csv'}:4"].reason.endswith(expected)
