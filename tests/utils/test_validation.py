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
    check_cine_images_and_masks,
    check_cine_masks,
    check_finite_images,
    check_groups,
    check_holdout,
    check_image_region_pairs,
    check_image_stack,
    check_images_like_masks,
    check_mask,
    check_mask_pair,
    check_masks,
    check_masks_and_proba,
    check_network_images,
    check_network_labels,
    check_network_masks,
    check_records,
    check_slice_image,
    check_slice_mask,
    check_slice_masks,
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
    for path in ("a.dcm", np.str_("a.dcm")):  # a numpy.str_ was shown as np.str_('a.dcm')
        with pytest.raises(ValueError, match="a single path 'a.dcm'"):
            check_records(path)
    with pytest.raises(ValueError, match="lack the column 'ocontour_path'"):
        record_column({"dicom_path": ["a.dcm"]}, "ocontour_path")


def test_network_images_get_a_channel_axis_and_keep_nan():
    X = np.array([[[np.nan, 1], [2, 3]]], dtype=np.float64)
    out = check_network_images(X)
    assert out.dtype == np.float32 and out.shape == (1, 1, 2, 2)
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 1, 1] == 3
    assert check_network_images(np.zeros((2, 3, 4, 4)), channels=3).shape == (2, 3, 4, 4)


@pytest.mark.parametrize(
    "X, channels, error, match",
    [
        (sparse.csr_matrix(np.eye(3)), None, TypeError, "sparse input is not supported"),
        (np.zeros((1, 4, 4), complex), None, ValueError, "Complex data not supported"),
        (np.zeros((4, 4)), None, ValueError, r"got shape \(4, 4\)"),
        (np.zeros((0, 4, 4)), None, ValueError, r"non-empty images .* got shape \(0, 4, 4\)"),
        (np.zeros((1, 2, 4, 4)), 1, ValueError, "X has 2 channel\\(s\\), the model was fitted with 1"),
        (np.full((1, 4, 4), np.inf), None, ValueError, "infinite values; use NaN"),
    ],
)
def test_network_images_reject_bad_input(X, channels, error, match):
    with pytest.raises(error, match=match):
        check_network_images(X, channels)


def test_network_masks_match_the_images():
    X = np.zeros((2, 1, 3, 3), np.float32)
    assert check_network_masks(np.ones((2, 3, 3), np.uint8), X).dtype == bool
    with pytest.raises(ValueError, match=r"shape \(2, 3, 3\) matching X, got shape \(2, 3, 4\)"):
        check_network_masks(np.zeros((2, 3, 4)), X)
    y = np.arange(18).reshape(2, 3, 3)  # 16 values other than 0/1: five shown
    with pytest.raises(ValueError, match=r"16 other value\(s\): 2, 3, 4, 5, 6 \(and 11 more\)"):
        check_network_masks(y, X)
    objects = np.array([[[0, "a", None]]] * 3, dtype=object).reshape(1, 3, 3)  # unorderable
    with pytest.raises(ValueError, match="2 other value"):
        check_network_masks(objects, X[:1])


def test_network_labels_mark_unknown_channels():
    X = np.zeros((2, 1, 2, 2), np.float32)
    y = np.zeros((2, 2, 2, 2))
    y[0, 0] = 1
    y[1, 1] = np.nan  # slice 1 has no epicardium label
    labels = check_network_labels(y, X)
    assert labels.dtype == np.int8
    assert labels[0, 0].tolist() == [[1, 1], [1, 1]] and (labels[1, 1] == -1).all()
    assert check_network_labels(np.ones((2, 2, 2, 2), bool), X).dtype == np.int8


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros((2, 2, 2)), r"for target='both' .* got shape \(2, 2, 2\)"),
        (np.full((2, 2, 2, 2), "a"), "boolean, integer or float masks"),
        (np.full((2, 2, 2, 2), 3), r"got 16 other value\(s\), e.g. 3 at index \(0, 0, 0, 0\)"),
        (np.where(np.arange(4).reshape(2, 2) == 0, -1, 0) * np.ones((2, 2, 1, 1), int), r"y\[0, 0\] is partly unknown"),
        (np.full((2, 2, 2, 2), -1), "slice 0 of y has no known label"),
    ],
)
def test_network_labels_reject_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        check_network_labels(y, np.zeros((2, 1, 2, 2), np.float32))


def test_finite_images():
    assert check_finite_images([[[1, 2]]], "Owner", "why").dtype == np.float32
    with pytest.raises(ValueError, match=r"\(n, H, W\), got shape \(2, 2\)"):
        check_finite_images(np.zeros((2, 2)), "Owner", "why")
    with pytest.raises(ValueError, match="images must be finite"):
        check_finite_images(np.full((1, 2, 2), np.nan), "Owner", "why")
    with pytest.raises(TypeError, match="sparse input is not supported"):
        check_finite_images(sparse.csr_matrix(np.eye(3)), "Owner", "why")


def test_finite_images_name_who_needs_them_and_why():
    # BoundaryTrimmer's NaN images were refused with PredictedRegion's reason.
    images = np.zeros((3, 2, 2))
    images[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^BoundaryTrimmer: images must be finite, got NaN or infinite "
                                         r"values in 1 of 3 slice\(s\) \(first: slice 1\); the wall$"):
        check_finite_images(images, "BoundaryTrimmer", "the wall")


def test_finite_images_take_channel_zero_of_channels_when_asked():
    pairs = np.stack([np.full((2, 3, 3), 5.0), np.full((2, 3, 3), np.nan)], axis=1)  # region channel not checked
    np.testing.assert_array_equal(check_finite_images(pairs, "Owner", "why", channels=True), np.full((2, 3, 3), 5.0))
    with pytest.raises(ValueError, match=r"\(n, H, W\), got shape \(2, 2, 3, 3\)"):
        check_finite_images(pairs, "Owner", "why")
    with pytest.raises(ValueError, match=r"\(n, H, W\) or \(n, C, H, W\), got shape \(2, 0, 3, 3\)"):
        check_finite_images(np.zeros((2, 0, 3, 3)), "Owner", "why", channels=True)


def _records_and_paths():
    """Slice records and DICOM paths in the forms a user might pass where images are expected."""
    frame = load_sample().frame
    paths = list(frame.dicom_path)
    from pathlib import Path

    return {
        "records": frame,
        "one record": frame[0],
        "mapping": {"dicom_path": paths},
        "paths": paths,
        "path objects": [Path(path) for path in paths],
        "path array": np.array(paths),
        "one path": paths[0],
        "one numpy.str_ path": np.str_(paths[0]),
        "one Path": Path(paths[0]),
    }


_IMAGE_CHECKS = {
    "check_image_stack": check_image_stack,
    "check_image_region_pairs": check_image_region_pairs,
    "check_network_images": check_network_images,
    "check_finite_images": lambda X: check_finite_images(X, "Owner", "why"),
}


@pytest.mark.parametrize("kind", list(_records_and_paths()))
@pytest.mark.parametrize("check", list(_IMAGE_CHECKS))
def test_image_checks_refuse_records_and_paths_pointing_at_dicomloader(check, kind):
    # Records gave "Cannot cast array data from dtype((numpy.record, ..." in the U-Net, or a
    # shape (15,) error without a hint; paths "could not convert string to float".
    X = _records_and_paths()[kind]
    expected = "slice records" if "record" in kind or kind == "mapping" else "path"
    with pytest.raises(ValueError, match=r"^expected .*images|^expected \[image, region\]") as error:
        _IMAGE_CHECKS[check](X)
    assert expected in str(error.value) and "DicomLoader(" in str(error.value)
    if isinstance(X, str):  # named as text: a numpy.str_ was shown as np.str_('...')
        assert f"got a single path or text {repr(str(X))[:120]}; " in str(error.value)


def test_a_table_of_records_is_refused_as_records():
    pd = pytest.importorskip("pandas")
    frame = load_sample(as_frame=True).frame
    assert isinstance(frame, pd.DataFrame)
    with pytest.raises(ValueError, match=r"got slice records \(DataFrame with fields 'patient_id'.*DicomLoader"):
        check_network_images(frame)


def test_text_of_an_images_shape_gets_the_dtype_message():
    with pytest.raises(ValueError, match=r"real-valued images \(int or float\), got dtype <U3"):
        check_network_images(np.full((1, 2, 2), "1.5"))  # NumPy would convert it


@pytest.mark.parametrize("spacing", ["1", b"1", ["1", "1"], np.array(["1.0", "1.0"]), True, [True, 1.0], None,
                                     [1.0, None], {"row": 1.0}])
def test_spacing_must_be_numbers_not_text_or_bools(spacing):
    # NumPy converts "1" to 1.0: spacing="1" was taken as 1 mm.
    with pytest.raises(ValueError, match="spacing must be numbers"):
        check_spacing(spacing, 1)


def test_spacing_takes_numbers_of_any_kind():
    from decimal import Decimal
    from fractions import Fraction

    from pydicom.multival import MultiValue
    from pydicom.valuerep import DSdecimal

    assert check_spacing(np.float32(0.5), 1).tolist() == [[0.5, 0.5]]
    assert check_spacing([Fraction(1, 2), 2], 1).tolist() == [[0.5, 2.0]]
    assert check_spacing(np.array([1, 2], dtype=object), 1).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="finite and positive"):
        check_spacing(10**400, 1)  # beyond float64: infinite
    # Decimals: PixelSpacing read with pydicom.config.DS_decimal(True) is a MultiValue of DSdecimal, refused
    # ("spacing must be numbers ...; got [1.5, 1.25]") though taken before; a non-finite one as any number.
    assert check_spacing(Decimal("0.5"), 1).tolist() == [[0.5, 0.5]]
    assert check_spacing(MultiValue(DSdecimal, ["1.5", "1.25"]), 2).tolist() == [[1.5, 1.25], [1.5, 1.25]]
    for value in (Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")):
        with pytest.raises(ValueError, match="finite and positive"):
            check_spacing(value, 1)


def test_slice_masks_one_per_source():
    assert check_slice_masks(np.ones((2, 3, 3), np.int16), 2).dtype == bool
    with pytest.raises(ValueError, match=r"masks must be boolean .* values such as \[0, 7\]"):
        check_slice_masks(np.array([[[0, 7]]]), 1)
    with pytest.raises(ValueError, match=r"one mask per source slice: 3 slice\(s\), got masks of shape \(2, 3, 3\)"):
        check_slice_masks(np.ones((2, 3, 3), bool), 3)
    with pytest.raises(ValueError, match="0 slice"):
        check_slice_masks(np.ones((0, 3, 3), bool), 0)


def test_cine_masks():
    masks = np.zeros((3, 2, 4, 4), bool)
    assert check_cine_masks(masks, 2) is masks
    assert check_cine_masks(masks.astype(np.uint8), 2).dtype == bool  # 0/1 numbers are masks
    with pytest.raises(ValueError, match=r"masks must be boolean .*got dtype float64 with values such as \[0.0, 0.5\]"):
        check_cine_masks(masks + 0.5 * np.eye(4), 2)
    with pytest.raises(ValueError, match=r"must have shape \(n_phases, n_slices, H, W\), got bool of shape \(2, 4, 4\)"):
        check_cine_masks(masks[0], 2)
    with pytest.raises(ValueError, match=r"masks have 2 slice\(s\), the geometry 5"):
        check_cine_masks(masks, 5)


def test_groups_one_per_slice():
    assert check_groups(None, 3) is None
    assert check_groups(["a", "a", "b"], 3).tolist() == ["a", "a", "b"]
    with pytest.raises(ValueError, match=r"groups must have shape \(3,\), one patient id per slice"):
        check_groups(["a", "b"], 3)


def test_holdout_leaves_patients_to_train_on():
    check_holdout(None, 1, None)
    check_holdout(0.5, 4, ["a", "a", "b", "c"])  # ceil(1.5) = 2 of 3 patients held out
    check_holdout(0.9, 1, None)  # a single slice: nothing is held out (the estimator warns)
    with pytest.raises(ValueError, match=r"ceil\(0.7 x 3\) = 3 of the 3 patients \(groups\) .* at most 2/3"):
        check_holdout(0.7, 6, ["a", "a", "b", "b", "c", "c"])
    with pytest.raises(ValueError, match=r"ceil\(0.6 x 2\) = 2 of the 2 slices for validation, leaving none"):
        check_holdout(0.6, 2, None)


def test_cine_images_and_masks_share_their_shape():
    images, masks = check_cine_images_and_masks(np.zeros((2, 3, 4, 4), np.int16), np.ones((2, 3, 4, 4), np.uint8))
    assert images.dtype == np.float64 and masks.dtype == bool
    with pytest.raises(ValueError, match=r"one shape \(n_phases, n_slices, H, W\), got \(2, 3, 4\) and \(2, 3, 4\)"):
        check_cine_images_and_masks(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))


def test_mask_pair():
    pool, epi = check_mask_pair([[0, 1]], np.ones((1, 2), bool), ("blood_pool", "epicardium"))
    assert pool.shape == epi.shape == (1, 1, 2) and pool.dtype == bool
    with pytest.raises(ValueError, match=r"^blood_pool and epicardium must have the same shape; got \(1, 1, 2\) and \(1, 1, 3\)$"):
        check_mask_pair([[0, 1]], [[0, 1, 1]], ("blood_pool", "epicardium"))
    with pytest.raises(ValueError, match="epicardium must be a boolean mask"):
        check_mask_pair([[0, 1]], [[0, 2]], ("blood_pool", "epicardium"))


def test_masks_and_proba():
    masks, proba = check_masks_and_proba(np.ones((1, 2, 2)), np.full((1, 2, 2), 0.5, np.float32))
    assert masks.dtype == bool and proba.dtype == np.float64
    with pytest.raises(ValueError, match=r"same shape \(n, H, W\), got \(1, 2, 2\) and \(1, 2, 3\)"):
        check_masks_and_proba(np.ones((1, 2, 2)), np.ones((1, 2, 3)))


def test_one_slice_and_its_masks():
    image = check_slice_image([[1, 2], [3, 4]])
    assert image.dtype == np.float64
    assert check_slice_mask(None, (2, 2), "region") is None
    assert check_slice_mask([[0, 1], [1, 0]], (2, 2), "region").tolist() == [[False, True], [True, False]]
    with pytest.raises(ValueError, match=r"image must be one \(H, W\) slice; got shape \(1, 2, 2\)"):
        check_slice_image(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"region must have the image's shape \(2, 2\); got \(3, 3\)"):
        check_slice_mask(np.zeros((3, 3)), (2, 2), "region")


def test_io_does_not_import_scipy_sparse_or_sklearn():
    # skcardio.io checks its masks here; the check must not pull in SciPy's
    # sparse module or scikit-learn (seconds of import for writing a file).
    import subprocess
    import sys

    # SciPy 1.10 (the lowest supported) imports scipy.sparse with scipy.ndimage itself (through
    # scipy.special); what is checked is that skcardio.io adds it, not what SciPy does.
    code = (
        "import sys, scipy.ndimage; by_scipy = 'scipy.sparse' in sys.modules; import skcardio.io; "
        "print('sklearn' in sys.modules, 'scipy.sparse' in sys.modules and not by_scipy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_spacing_from_a_table_column_of_pairs():
    # load_dataset(..., as_frame=True).frame.pixel_spacing holds one array per row; the metrics,
    # lv_mass and assess_predictions refused it ("spacing must be numbers", "setting an array element").
    pd = pytest.importorskip("pandas")
    from skcardio.utils._validation import check_spacing

    column = pd.Series([np.array([1.25, 1.25]), np.array([1.5, 1.4])], index=[7, 3])
    np.testing.assert_array_equal(check_spacing(column, 2), [[1.25, 1.25], [1.5, 1.4]])
    with pytest.raises(ValueError, match="spacing must be numbers .*got 0 +abc"):
        check_spacing(pd.Series(["abc", "de"]), 2)


RGB_HINT = (r"X of shape \(2, 8, 6, {0}\) looks like RGB\(A\) pictures \(last axis {0}\); expected \(n, H, W\) "
            r"grayscale images: convert them, e.g. X\[\.\.\., 0\] when the channels are equal, or "
            r"skimage\.color\.rgb2gray$")


@pytest.mark.parametrize("last", [3, 4])
def test_rgb_picture_stacks_are_named_as_such(last):
    # imageio reads a grayscale PNG saved as RGB (the Sunnybrook export) as (H, W, 3): stacked, its rows
    # were taken for 8 channels ("X has 8 channel(s), the model was fitted with 1").
    pictures = np.zeros((2, 8, 6, last), np.uint8)
    with pytest.raises(ValueError, match=RGB_HINT.format(last)):
        check_network_images(pictures, channels=1)
    with pytest.raises(ValueError, match=RGB_HINT.format(last)):  # the classical segmenters' check
        check_image_stack(pictures)
    with pytest.raises(ValueError, match=RGB_HINT.format(last)):  # fitting: the masks show the image size
        check_network_masks(np.zeros((2, 8, 6), bool), check_network_images(pictures))
    # Not pictures: a channel count that differs, images of 5 columns, keep the other messages.
    with pytest.raises(ValueError, match=r"^X has 8 channel\(s\), the model was fitted with 1$"):
        check_network_images(np.zeros((2, 8, 6, 5)), channels=1)
    with pytest.raises(ValueError, match=r"^expected images of shape \(n, H, W\), got shape \(2, 8, 6, 5\)$"):
        check_image_stack(np.zeros((2, 8, 6, 5)))


def test_one_rgb_picture_is_not_taken_for_a_stack_of_narrow_images():
    """imageio's (H, W, 3) of one picture passed as H images 3 pixels wide: masks (H, W, 3) without a word."""
    from skcardio.utils._validation import check_image_stack, check_network_images

    picture = np.zeros((32, 40, 3), dtype=np.uint8)
    for check in (check_image_stack, check_network_images):
        with pytest.raises(ValueError, match=r"shape \(32, 40, 3\) looks like one RGB\(A\) picture .*"
                                             r"X\[np.newaxis, \.\.\., 0\]"):
            check(picture)
    assert check_image_stack(np.zeros((3, 8, 3))).shape == (3, 8, 3)  # a small stack of tiny images still passes
