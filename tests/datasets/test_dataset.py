import logging

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from _contour_shapes import SQUARE_I, SQUARE_O

from skcardio.datasets import FRAME_DTYPE, load_dataset, scan_layout
from skcardio.exceptions import DatasetError


def test_shared_data_counts(shared_data_root):
    data = load_dataset(shared_data_root)
    assert len(set(data.groups)) == 5
    assert data.images.shape == (96, 256, 256) and data.images.dtype == np.float32
    assert data.y.shape == (96, 256, 256) and data.y.dtype == bool
    assert data.y.any(axis=(1, 2)).all()
    assert int(data.has_region.sum()) == 46
    both = load_dataset(shared_data_root, require="o-contour")
    assert len(both.frame) == 46 and both.has_region.all()
    assert both.regions.any(axis=(1, 2)).all()


def test_frame_records(shared_data_root):
    data = load_dataset(shared_data_root)
    frame = data.frame
    assert frame.dtype == FRAME_DTYPE
    first = frame[0]
    assert (first.patient_id, first.original_id, first.instance) == ("SCD0000101", "SC-HF-I-1", 48)
    assert first.dicom_path.endswith("dicoms/SCD0000101/48.dcm")
    assert first.icontour_path.endswith("IM-0001-0048-icontour-manual.txt")
    assert first.ocontour_path == ""
    np.testing.assert_allclose(first.pixel_spacing, [1.367188, 1.367188])
    np.testing.assert_array_equal(data.groups, frame.patient_id)


def test_groupkfold_on_records(shared_data_root):
    data = load_dataset(shared_data_root)
    for train, test in GroupKFold(n_splits=5).split(data.frame, data.y, data.groups):
        assert not set(data.groups[train]) & set(data.groups[test])
        assert data.frame[test].dicom_path.shape == (len(test),)


def test_o_contour_target(shared_data_root):
    data = load_dataset(shared_data_root, target="o-contour")
    assert len(data.frame) == 46
    np.testing.assert_array_equal(data.y, data.regions)


def test_synthetic_layout_masks(make_layout):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I, "o": SQUARE_O}, 6: {"i": SQUARE_I}})})
    data = load_dataset(root)
    assert list(data.frame.instance) == [5, 6]
    assert data.y[0].sum() == 11 * 11  # boundary centres included
    assert data.regions[0].sum() == 19 * 19
    assert not data.regions[1].any()
    np.testing.assert_array_equal(data.has_region, [True, False])
    assert load_dataset(root, require="o-contour").frame.instance.tolist() == [5]


def test_nothing_dropped_silently(make_layout, caplog):
    root = make_layout(
        {
            "P1": ("O1", {5: {"i": SQUARE_I}, 7: {"i": SQUARE_I, "dicom": False}, 8: {"dicom": True}}),
            "P2": ("O2", {1: {"i": [(1, 1), (2, 2)]}, 2: {"i": SQUARE_I}}),
        },
        link_rows=["P1,O1", "P2,O2", "P1,O1", "P3", "P4,O4"],
    )
    (root / "dicoms" / "P1" / "notes.txt").write_text("x")
    (root / "contourfiles" / "O1" / "i-contours" / "IM-0001-12-icontour-manual.txt").write_text("1 1\n")
    (root / "dicoms" / "P9").mkdir()
    with caplog.at_level(logging.INFO, logger="skcardio.datasets"):
        data = load_dataset(root)
    reasons = {(item.path.split("/")[-1], item.reason.split(" (")[0].split(":")[0]) for item in data.skipped}
    assert ("link.csv:4", "duplicate link row ['P1', 'O1']") in reasons
    assert ("link.csv:5", "malformed link row ['P3'], expected 'patient_id,original_id'") in reasons
    assert ("P4", "linked folder does not exist") in reasons
    assert ("IM-0001-0007-icontour-manual.txt", "contour without a DICOM") in reasons
    assert ("notes.txt", "name does not match the DICOM pattern") in reasons  # " ([0-9]+)\\.dcm" split off
    assert any(name == "IM-0001-12-icontour-manual.txt" for name, _ in reasons)
    assert ("IM-0001-0001-icontour-manual.txt", "unreadable contour") in reasons
    assert ("P1", "1 DICOM(s) without any contour") in reasons
    assert ("P9", "not listed in link.csv") in reasons
    assert data.frame.instance.tolist() == [5, 2]
    assert "item(s) skipped" in data.summary
    logged = caplog.text
    assert "duplicate link row" in logged and "contour without a DICOM" in logged


@pytest.mark.parametrize("bad_id", ["..", "../outside", "/etc", "a/b", "C:evil"])
def test_ids_leaving_root_refused(make_layout, bad_id):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}})}, link_rows=[f"P1,{bad_id}"])
    with pytest.raises(DatasetError, match=r"no usable slice .* 1 x link row"):  # the only row is skipped
        load_dataset(root)
    [item] = [s for s in scan_layout(root).skipped if s.error]
    assert item.error and "would leave the dataset root" in item.reason


def test_missing_link_csv(tmp_path):
    with pytest.raises(DatasetError, match="no link.csv"):
        load_dataset(tmp_path)


def test_bad_header(make_layout):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}})})
    (root / "link.csv").write_text("patient,contours\nP1,O1\n")
    with pytest.raises(DatasetError, match=r"link.csv, line 1: expected header"):
        load_dataset(root)


def test_no_usable_slice(make_layout):
    root = make_layout({"P1": ("O1", {5: {"o": SQUARE_O}})})
    with pytest.raises(DatasetError, match="no usable slice"):
        load_dataset(root)


def test_unreadable_dicom_skipped(make_layout):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}, 6: {"i": SQUARE_I}})})
    (root / "dicoms" / "P1" / "6.dcm").write_text("garbage")
    data = load_dataset(root)
    assert data.frame.instance.tolist() == [5]
    assert any("unreadable DICOM" in s.reason for s in data.skipped)


def test_study_byte_limit_with_an_unreadable_dicom(make_layout):
    """One pass reads the files, a bad one skipped: the images together still stay within max_study_bytes."""
    from skcardio.io import limits_context

    root = make_layout({"P1": ("O1", {n: {"i": SQUARE_I} for n in range(1, 5)})})
    (root / "dicoms" / "P1" / "1.dcm").write_text("garbage")
    one = 32 * 32 * 4
    with limits_context(max_study_bytes=2 * one):
        with pytest.raises(DatasetError, match=rf"4\.dcm: with this image, the images read take {3 * one} bytes: "
                                               rf"their size exceeds the limit max_study_bytes={2 * one}"):
            load_dataset(root)
    with limits_context(max_study_bytes=3 * one):
        data = load_dataset(root)
    assert data.frame.instance.tolist() == [2, 3, 4] and any("unreadable DICOM" in s.reason for s in data.skipped)


def test_size_mismatch_skipped(make_layout, make_dicom):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}, 6: {"i": SQUARE_I}, 7: {"i": SQUARE_I}})})
    make_dicom(root / "dicoms" / "P1" / "7.dcm", np.zeros((40, 40), np.int16), instance=7)
    data = load_dataset(root)
    assert data.frame.instance.tolist() == [5, 6]
    assert any("differs from the dataset's (32, 32)" in s.reason for s in data.skipped)


@pytest.mark.parametrize("kwargs", [{"target": "blood"}, {"require": "both"}])
def test_bad_parameters(make_layout, kwargs):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}})})
    with pytest.raises(ValueError, match="must be one of"):
        load_dataset(root, **kwargs)


def test_unreadable_required_contour_drops_the_slice(make_layout):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}, 2: {"i": SQUARE_I, "o": SQUARE_O}})})
    bad = root / "contourfiles" / "O1" / "o-contours" / "IM-0001-0001-ocontour-manual.txt"
    bad.write_text("1 1\n")  # too few points
    data = load_dataset(root, require="o-contour")
    assert data.frame.instance.tolist() == [2]
    assert data.has_region.tolist() == [True]
    [entry] = [s for s in data.skipped if s.path == str(bad)]
    assert entry.reason.startswith("unreadable contour (slice dropped): ")
    assert "1 point(s), a contour needs at least 3" in entry.reason
    # Not required: the slice stays, without a region, and the entry says so.
    kept = load_dataset(root)
    assert kept.frame.instance.tolist() == [1, 2] and kept.has_region.tolist() == [False, True]
    assert any(s.reason.startswith("unreadable contour (slice kept without it)") for s in kept.skipped)


def test_every_target_unreadable_is_a_dataset_error(make_layout):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I}, 2: {"i": SQUARE_I}})})
    for instance in (1, 2):
        (root / "contourfiles" / "O1" / "i-contours" / f"IM-0001-{instance:04d}-icontour-manual.txt").write_text("1 1\n")
    with pytest.raises(DatasetError, match=r"no usable slice with i-contour found; 2 item\(s\) skipped: "
                       r"2 x unreadable contour \(slice dropped\)"):
        load_dataset(root)


@pytest.mark.parametrize("cut", [154, 400, -1])
def test_truncated_dicom_skipped_rest_kept(make_layout, cut):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I}, 2: {"i": SQUARE_I}, 3: {"i": SQUARE_I}})})
    path = root / "dicoms" / "P1" / "2.dcm"
    path.write_bytes(path.read_bytes()[:cut])
    data = load_dataset(root)
    assert data.frame.instance.tolist() == [1, 3]
    [entry] = [s for s in data.skipped if s.path == str(path)]
    assert entry.reason.startswith(f"unreadable DICOM: {path}: ")


def test_a_dicom_with_a_garbled_header_is_skipped_rest_kept(make_layout):
    """One corrupt byte in (0002,0002)'s VR: pydicom's NotImplementedError ended load_dataset (train, evaluate)."""
    from _hostile import garbled_vr

    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I}, 2: {"i": SQUARE_I}, 3: {"i": SQUARE_I}})})
    path = garbled_vr(root / "dicoms" / "P1" / "2.dcm")
    data = load_dataset(root)
    assert data.frame.instance.tolist() == [1, 3]
    [entry] = [s for s in data.skipped if s.path == str(path)]
    assert entry.error and entry.reason.startswith(
        f"unreadable DICOM: {path}: truncated or corrupt DICOM: cannot convert MediaStorageSOPClassUID (0002,0002)")


def test_link_csv_itself_as_root_is_named(make_layout):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}})})
    with pytest.raises(DatasetError) as info:
        load_dataset(root / "link.csv")
    message = str(info.value)
    assert "is a file; expected the dataset folder that holds link.csv" in message
    assert f"(its folder is {root.resolve()})" in message
    assert "link.csv/link.csv" not in message


def test_missing_root_folder(tmp_path):
    with pytest.raises(DatasetError, match="missing: no such folder; expected the dataset folder that holds link.csv"):
        load_dataset(tmp_path / "missing")


def test_summary_counts_linked_rows_and_groups_reasons(make_layout):
    # P3's folders do not exist: link.csv still links 3 patients (it said "2 linked").
    root = make_layout(
        {"P1": ("O1", {5: {"i": SQUARE_I}, 7: {"i": SQUARE_I, "dicom": False}}),
         "P2": ("O2", {2: {"i": SQUARE_I}, 9: {"i": SQUARE_I, "dicom": False}})},
        link_rows=["P1,O1", "P2,O2", "P3,O3"],
    )
    summary = load_dataset(root).summary
    assert summary.startswith("2 patient(s) with slices (3 linked in link.csv)")
    # One line for both missing DICOMs, whatever their paths (was one line per path).
    assert "   2 x contour without a DICOM\n" in summary + "\n"


def test_expected_skips_are_one_summary_line_not_one_line_each(make_layout, caplog):
    # 30 uncontoured frames and a slice filtered out by require=: counted, not listed.
    slices = {n: {} for n in range(1, 31)}
    slices.update({40: {"i": SQUARE_I, "o": SQUARE_O}, 41: {"i": SQUARE_I}})
    root = make_layout({"P1": ("O1", slices)})
    with caplog.at_level(logging.INFO, logger="skcardio.datasets"):
        data = load_dataset(root, require="o-contour")
    assert len(data.skipped) == 2  # one entry for the 30 frames, one for slice 41
    assert [r.message.count("\n") for r in caplog.records] == [data.summary.count("\n")]
    assert "30 DICOM(s) without any contour" not in caplog.text  # grouped by wording in the summary
    assert "1 x DICOM(s) without any contour" in caplog.text and "1 x no o-contour for this slice" in caplog.text


def test_as_frame_gives_a_dataframe_that_estimators_take():
    pd = pytest.importorskip("pandas")
    from sklearn.model_selection import cross_val_score

    from skcardio.datasets import load_sample
    from skcardio.metrics import iou_scorer
    from skcardio.segment import make_classical_pipeline

    records = load_sample(require="o-contour")
    table = load_sample(require="o-contour", as_frame=True)
    assert isinstance(table.frame, pd.DataFrame) and list(table.frame.columns) == list(FRAME_DTYPE.names)
    for name in FRAME_DTYPE.names:
        np.testing.assert_array_equal(np.stack(table.frame[name].to_numpy()), records.frame[name])
    np.testing.assert_array_equal(table.images, records.images)
    from sklearn.pipeline import make_pipeline

    from skcardio.preprocessing import DicomLoader

    pipe = make_pipeline(DicomLoader(region="o-contour"), make_classical_pipeline())
    scores = [
        cross_val_score(pipe, data.frame, data.y, groups=data.groups, cv=GroupKFold(3), scoring=iou_scorer)
        for data in (records, table)
    ]
    np.testing.assert_array_equal(scores[0], scores[1])


def test_as_frame_without_pandas_says_which_extra(monkeypatch):
    import sys

    from skcardio.datasets import get_sample_path

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"as_frame=True requires pandas.*skcardio\[pandas\]"):
        load_dataset(get_sample_path(), as_frame=True)


def _both_contours(n):
    return {"P1": ("O1", {k: {"i": SQUARE_I, "o": SQUARE_O} for k in range(1, n + 1)})}


def test_arrays_are_the_slices_read_stacked(make_layout):
    """images, y and regions are each slice's image and masks, in order, as np.stack made them."""
    from skcardio.io import contour_to_mask, read_contour, read_dicom

    slices = {5: {"i": SQUARE_I, "o": SQUARE_O}, 6: {"i": SQUARE_I}, 7: {"i": SQUARE_O, "o": SQUARE_O}}
    root = make_layout({"P1": ("O1", slices)}, shape=(40, 36))
    data = load_dataset(root)
    expected = np.stack([read_dicom(path).image for path in data.frame.dicom_path])
    assert data.images.dtype == np.float32 and data.images.flags.c_contiguous
    np.testing.assert_array_equal(data.images, expected)
    for field, target in (("icontour_path", data.y), ("ocontour_path", data.regions)):
        masks = [contour_to_mask(read_contour(p), (40, 36)) if p else np.zeros((40, 36), bool) for p in data.frame[field]]
        np.testing.assert_array_equal(target, np.stack(masks))
    np.testing.assert_array_equal(data.has_region, [True, False, True])
    assert data.regions[1].sum() == 0 and data.regions[0].sum() == 19 * 19


def test_no_copy_of_the_images_beyond_the_result(make_layout):
    """Beyond the slices read (their images and masks), loading allocates about its result, no more.

    ``np.stack(...).astype(np.float32)`` made a second full copy of the float32
    images: 2.3 times the result at the peak on a cohort.
    """
    from _memory import traced_peak

    n, shape = 24, (256, 256)
    root = make_layout(_both_contours(n), shape=shape)
    data, peak = traced_peak(lambda: load_dataset(root))
    result = data.images.nbytes + data.y.nbytes + data.regions.nbytes
    read = n * np.prod(shape) * (4 + 1 + 1)  # each slice's float32 image and two bool masks
    assert peak - read < 1.1 * result, (peak - read) / result
