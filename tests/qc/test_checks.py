import csv

import numpy as np
import pytest
from _contour_shapes import SQUARE_I, SQUARE_O

from skcardio.qc import check_dataset


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
