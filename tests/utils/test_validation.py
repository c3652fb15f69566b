"""The one set of input checks: images, [image, region] pairs, masks, spacing, slice records.

Most checks are also exercised through the estimators and metrics that use
them (tests/segment, tests/preprocessing, tests/metrics); these pin the
checks themselves.
"""

import numpy as np
import pytest
from scipy import sparse

from skcardio.datasets import load_sample
from skcardio.utils._validation import (
    as_stack,
    check_image_region_pairs,
    check_image_stack,
    check_images_like_masks,
    check_mask,
    check_masks,
    check_records,
    check_spacing,
    is_records,
    record_column,
    record_names,
)


def test_check_image_stack_returns_floats_and_keeps_nan():
    X = np.array([[[1, 2], [3, 4]]], dtype=np.int16)
    out = check_image_stack(X)
    assert out.dtype == np.float64 and out.shape == (1, 2, 2)
    floats = np.array([[[np.nan, 1.0]]], dtype=np.float32)
    assert check_image_stack(floats) is floats  # no copy of a large stack


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((4, 4)), ValueError, r"X\[np.newaxis\]"),
        (np.zeros((2, 2, 4, 4)), ValueError, "RegionSelector"),
        (np.zeros((1, 4, 4), bool), ValueError, "dtype bool"),
        (np.zeros((1, 4, 4), complex), ValueError, "Complex data not supported"),
        (np.zeros((0, 4, 4)), ValueError, "at least one"),
        (sparse.csr_matrix(np.eye(3)), TypeError, "sparse"),
    ],
)
def test_check_image_stack_rejects_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        check_image_stack(X)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((1, 3, 4, 4)), ValueError, r"\(n, 2, H, W\), got shape \(1, 3, 4, 4\)"),
        (np.zeros((0, 2, 4, 4)), ValueError, "0 sample"),
        (np.zeros((1, 2, 4, 4), complex), ValueError, "Complex data not supported"),
        (np.full((1, 2, 4, 4), "a"), ValueError, "expected a numeric array"),
        (sparse.csr_matrix(np.eye(3)), TypeError, "sparse"),
    ],
)
def test_check_image_region_pairs_rejects_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        check_image_region_pairs(X)


def test_check_image_region_pairs_keeps_the_array():
    X = np.zeros((2, 2, 4, 4), dtype=np.float32)
    assert check_image_region_pairs(X) is X


def test_masks_as_bool_stacks():
    assert as_stack(np.zeros((3, 4)), "m").shape == (1, 3, 4)
    assert check_mask(np.array([[0, 1], [1, 0]]), "m").dtype == bool
    with pytest.raises(ValueError, match=r"m must be a boolean mask .* values such as \[0, 2\]"):
        check_mask(np.array([[0, 2]]), "m")
    with pytest.raises(ValueError, match="same shape"):
        check_masks(np.zeros((1, 2, 2), bool), np.zeros((1, 2, 3), bool))
    with pytest.raises(ValueError, match="at least one slice"):
        check_masks(np.zeros((0, 2, 2), bool), np.zeros((0, 2, 2), bool))


def test_images_like_masks_take_channel_zero():
    pairs = np.stack([np.full((1, 2, 2), 5.0), np.zeros((1, 2, 2))], axis=1)  # (1, 2, 2, 2)
    assert check_images_like_masks(pairs, (1, 2, 2)).tolist() == [[[5.0, 5.0], [5.0, 5.0]]]
    with pytest.raises(ValueError, match=r"matching the masks' shape \(1, 3, 3\)"):
        check_images_like_masks(np.zeros((1, 2, 2)), (1, 3, 3))


def test_spacing_broadcast_and_checked():
    assert check_spacing(0.5, 2).tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert check_spacing((1.0, 2.0), 1).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="finite and positive"):
        check_spacing((0.0, 1.0), 1)


def test_records_and_paths():
    frame = load_sample().frame
    assert is_records(frame) and not is_records(["a.dcm"])
    assert "dicom_path" in record_names(frame)
    assert check_records(frame) == list(frame.dicom_path)
    assert check_records(["a.dcm", "b.dcm"]) == ["a.dcm", "b.dcm"]
    assert record_column(["a.dcm"], "icontour_path", required=False) is None
    with pytest.raises(ValueError, match="a single path 'a.dcm'"):
        check_records("a.dcm")
    with pytest.raises(ValueError, match="lack the column 'ocontour_path'"):
        record_column({"dicom_path": ["a.dcm"]}, "ocontour_path")
