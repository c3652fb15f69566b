import csv

import numpy as np
import pytest

from _contour_shapes import SQUARE_I, SQUARE_O

from skcardio.qc import check_dataset, check_records


def _flags(report):
    return {(s.patient_id, s.instance): [f.split(":")[0] for f in s.flags] for s in report.slices}


def test_clean_and_faulty_slices(make_layout, make_dicom):
    bowtie = [(10, 10), (20, 20), (20, 10), (10, 20)]
    shifted = [(x + 9, y) for x, y in SQUARE_I]  # half outside the o-contour
    root = make_layout(
        {
            "P1": (
                "O1",
                {
                    1: {"i": SQUARE_I, "o": SQUARE_O},
                    2: {"i": SQUARE_I},
                    3: {"i": shifted, "o": SQUARE_O},
                    4: {"i": bowtie, "o": SQUARE_O},
                    5: {"i": [(8, 8), (10, 10), (15, 15)], "o": SQUARE_O},
                    6: {"i": [(-3, 10), (20, 10), (20, 20)], "o": SQUARE_O},
                    7: {"i": [(1, 1), (2, 2)], "o": SQUARE_O},
                    8: {"i": SQUARE_I, "o": SQUARE_O},
                },
            )
        }
    )
    make_dicom(root / "dicoms" / "P1" / "8.dcm", np.zeros((40, 40), np.int16), instance=8)
    report = check_dataset(root)
    flags = _flags(report)
    assert flags[("P1", 1)] == []
    assert flags[("P1", 2)] == ["missing_ocontour"]
    assert flags[("P1", 3)] == ["i_outside_o"]
    assert "self_crossing" in flags[("P1", 4)]
    assert flags[("P1", 5)] == ["zero_area"]
    assert "points_outside_image" in flags[("P1", 6)]
    assert flags[("P1", 7)] == ["unreadable_icontour"]
    assert flags[("P1", 8)] == ["size_mismatch"]
    shifted_slice = next(s for s in report.slices if s.instance == 3)
    # i square: 11x11 pixel centres, columns 19..29; o covers columns 6..24, so
    # columns 19..24 (6) are inside and 25..29 (5 of 11) outside.
    assert shifted_slice.i_outside_o_fraction == 5 / 11
    np.testing.assert_array_equal(report.flagged, [False] + [True] * 7)
    assert "8 contoured slice(s) checked, 7 flagged" in report.summary()


def test_a_tangle_is_flagged_without_counting_its_crossings(make_layout, monkeypatch):
    """Counting the crossings of a contour of thousands of long edges would take minutes: flagged uncounted."""
    from skcardio.qc import _checks

    tangle = np.random.default_rng(0).uniform(2, 30, (200, 2))
    root = make_layout({"P1": ("O1", {1: {"i": tangle, "o": SQUARE_O}, 2: {"i": SQUARE_I, "o": SQUARE_O}})})
    assert _checks._MAX_CROSSING_PAIRS == 10**7  # as docs/data.md and check_records say
    monkeypatch.setattr(_checks, "_MAX_CROSSING_PAIRS", 1000)  # a tangle of 200 points has more pairs
    first, second = check_dataset(root).slices
    crossing = [f for f in first.flags if f.startswith("self_crossing")]
    assert len(crossing) == 1 and crossing[0].startswith("self_crossing: i-contour, not counted (")
    assert crossing[0].endswith("pairs of overlapping edges to test among 200 points, more than max_pairs=1000)")
    assert second.flags == []  # a square pairs few edges: counted (none)


def test_tolerance(make_layout):
    root = make_layout({"P1": ("O1", {1: {"i": [(10, 10), (24, 10), (24, 20), (10, 20)], "o": SQUARE_O}})})
    # The i-contour's right edge at x=24 lies on the o-contour: touching is inside.
    assert check_dataset(root, max_outside_fraction=0.0).slices[0].flags == []
    root2 = make_layout({"P2": ("O2", {1: {"i": [(10, 10), (25, 10), (25, 20), (10, 20)], "o": SQUARE_O}})})
    assert _flags(check_dataset(root2, max_outside_fraction=0.0))[("P2", 1)] == ["i_outside_o"]
    assert _flags(check_dataset(root2, max_outside_fraction=0.2))[("P2", 1)] == []


def test_table_and_csv(make_layout, tmp_path):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}, 2: {"i": SQUARE_I}})})
    report = check_dataset(root)
    table = report.format_table()
    assert "missing_ocontour" in table and table.count("\n") == 3
    assert "missing_ocontour" in report.format_table(only_flagged=True)
    assert report.format_table(only_flagged=True).count("\n") == 2
    out = tmp_path / "qc.csv"
    report.to_csv(out)
    rows = list(csv.DictReader(out.open()))
    assert [r["flags"] for r in rows] == ["", "missing_ocontour"]
    assert rows[0]["i_outside_o_fraction"] == "0.0"


def test_shared_data(shared_data_root):
    report = check_dataset(shared_data_root)
    counts = report.flag_counts()
    assert len(report.slices) == 96
    assert counts["missing_ocontour"] == 50
    # The o-contours of SC-HF-I-6 (SCD0000501) do not line up with its i-contours.
    misaligned = {s.patient_id for s in report.slices if any(f.startswith("i_outside_o") for f in s.flags)}
    assert misaligned == {"SCD0000501"}
    assert counts["i_outside_o"] == 9
    assert "self_crossing" not in counts and "points_outside_image" not in counts
    # Only the DICOMs without any contour (one entry per patient) are left out.
    assert [item.reason.endswith("DICOM(s) without any contour") for item in report.skipped] == [True] * 5
    assert report.summary().splitlines()[0] == (
        "96 contoured slice(s) checked, 59 flagged; 5 dataset item(s) skipped, not checked"
    )


@pytest.mark.parametrize("cut", [154, 400, -1])
def test_truncated_dicom_flagged_rest_checked(make_layout, cut):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}, 2: {"i": SQUARE_I, "o": SQUARE_O}})})
    path = root / "dicoms" / "P1" / "2.dcm"
    path.write_bytes(path.read_bytes()[:cut])
    report = check_dataset(root)
    flags = _flags(report)
    assert flags[("P1", 1)] == []
    assert flags[("P1", 2)] == ["unreadable_dicom"]
    assert f"unreadable_dicom: {path}: " in report.slices[1].flags[0]


def _faulty_sample(tmp_path):
    """The embedded sample with layout faults that load_dataset reports as skipped."""
    import shutil

    from skcardio.datasets import get_sample_path

    root = tmp_path / "sample"
    shutil.copytree(get_sample_path(), root)
    with (root / "link.csv").open("a") as handle:
        handle.write("only-one-column\nSCD9,SC-MISSING\n")  # malformed row; linked folders absent
    (root / "dicoms" / "STRAY").mkdir()  # folder not in link.csv
    icontours = root / "contourfiles" / "SC-HF-I-1" / "i-contours"
    orphan = icontours / "IM-0001-0555-icontour-manual.txt"  # contour without a DICOM
    shutil.copy(next(icontours.iterdir()), orphan)
    return root, orphan


def test_layout_problems_reported(tmp_path):
    from skcardio.datasets import load_dataset

    root, orphan = _faulty_sample(tmp_path)
    report = check_dataset(root)
    assert len(report.slices) == 15  # the orphan contour is not a slice
    assert report.skipped == load_dataset(root).skipped  # the same items as load_dataset
    assert {(item.path, item.reason.split(" (")[0].split(" [")[0]) for item in report.skipped} == {
        (f"{root}/link.csv:5", "malformed link row"),
        (str(root / "dicoms" / "SCD9"), "linked folder does not exist"),
        (str(root / "contourfiles" / "SC-MISSING"), "linked folder does not exist"),
        (str(root / "dicoms" / "STRAY"), "not listed in link.csv"),
        (str(orphan), "contour without a DICOM"),
    }
    summary = report.summary()
    assert summary.splitlines()[0] == "15 contoured slice(s) checked, 3 flagged; 5 dataset item(s) skipped, not checked"
    table = report.format_skipped()
    assert f"{orphan}: contour without a DICOM" in table and "link.csv:5: malformed link row" in table
    out = tmp_path / "qc.csv"
    report.to_csv(out)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 15 and all(r["dicom_path"] for r in rows)  # the CSV holds the slices


def test_clean_sample_has_nothing_skipped():
    from skcardio.datasets import get_sample_path

    report = check_dataset(get_sample_path())
    assert report.skipped == [] and report.format_skipped() == ""
    assert "; 0 dataset item(s) skipped" in report.summary()


@pytest.mark.parametrize("bad", [-1, -0.01, 1.5, 2, float("nan"), float("inf"), "0.1", None, True])
def test_max_outside_fraction_validated(make_layout, bad):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}})})
    with pytest.raises(ValueError, match=r"max_outside_fraction must be a number between 0 and 1.*got"):
        check_dataset(root, max_outside_fraction=bad)
    with pytest.raises(ValueError, match="max_outside_fraction"):
        check_records([], max_outside_fraction=bad)


def test_max_outside_fraction_bounds_accepted(make_layout):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}})})
    for value in (0, 0.0, 1, np.float64(0.5)):
        assert check_dataset(root, max_outside_fraction=value).slices[0].flags == []


def test_to_csv_failure_leaves_no_partial_file(make_layout, tmp_path, monkeypatch):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}, 2: {"i": SQUARE_I}})})
    report = check_dataset(root)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "qc.csv"
    out.write_text("old\n")
    calls = []

    def failing_writerow(self, row):
        calls.append(row)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return original(self, row)

    original = csv.DictWriter.writerow
    monkeypatch.setattr(csv.DictWriter, "writerow", failing_writerow)
    with pytest.raises(OSError, match="No space left"):
        report.to_csv(out)
    assert out.read_text() == "old\n"
    assert [p.name for p in out_dir.iterdir()] == ["qc.csv"]  # no temporary file left


# i_outside_o_fraction: measured from the contours alone; NaN only when there is nothing to measure

SHIFTED_I = [(x + 9, y) for x, y in SQUARE_I]  # 5 of its 11 pixel columns lie outside SQUARE_O


def _slice(report, instance):
    return next(s for s in report.slices if s.instance == instance)


def test_outside_fraction_measured_without_a_readable_dicom(make_layout):
    root = make_layout({"P1": ("O1", {1: {"i": SQUARE_I, "o": SQUARE_O}, 2: {"i": SHIFTED_I, "o": SQUARE_O}})})
    for instance in (1, 2):
        (root / "dicoms" / "P1" / f"{instance}.dcm").write_text("garbage")
    report = check_dataset(root)
    # Was NaN for both, so a misaligned pair went unflagged whenever its DICOM was unreadable.
    assert _slice(report, 1).i_outside_o_fraction == 0.0
    assert _slice(report, 2).i_outside_o_fraction == 5 / 11
    assert _flags(report) == {("P1", 1): ["unreadable_dicom"], ("P1", 2): ["unreadable_dicom", "i_outside_o"]}


def test_i_contour_beyond_the_image_is_measured(make_layout):
    far = [(40, 40), (50, 40), (50, 50), (40, 50)]  # the image is 32 x 32
    around = [(35, 35), (55, 35), (55, 55), (35, 55)]
    root = make_layout({"P1": ("O1", {1: {"i": far, "o": SQUARE_O}, 2: {"i": far, "o": around}})})
    report = check_dataset(root)
    # Was 0.0 ("0 % outside") for both: the i-contour had no pixel on the image.
    assert _slice(report, 1).i_outside_o_fraction == 1.0
    assert _slice(report, 2).i_outside_o_fraction == 0.0
    assert _flags(report) == {
        ("P1", 1): ["points_outside_image", "i_outside_o"],
        ("P1", 2): ["points_outside_image", "points_outside_image"],  # i-contour and o-contour
    }


@pytest.mark.parametrize(
    "inner",
    [
        [(10.2, 10.2), (10.8, 10.2), (10.8, 10.8)],  # between pixel centres: no pixel
        [(0, 0), (1e6, 0), (1e6, 1e6), (0, 1e6)],  # a bounding box too large to rasterise
    ],
    ids=["no-pixel", "absurd"],
)
def test_outside_fraction_nan_when_nothing_to_measure(make_layout, inner):
    root = make_layout({"P1": ("O1", {1: {"i": inner, "o": SQUARE_O}})})
    [s] = check_dataset(root, max_outside_fraction=0.0).slices
    assert np.isnan(s.i_outside_o_fraction)  # was 0.0 for the first: "0 % outside"
    assert not any(f.startswith("i_outside_o") for f in s.flags)
