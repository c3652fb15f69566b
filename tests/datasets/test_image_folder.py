import os
import re

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from sklearn.model_selection import GroupKFold

from skcardio.datasets import IMAGE_FRAME_DTYPE, load_dataset, load_image_folder, sunnybrook_pathology
from skcardio.exceptions import DatasetError

SHAPE = (12, 10)


def _image(seed=0, shape=SHAPE):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _label(shape=SHAPE, value=255):
    label = np.zeros(shape, np.uint8)
    label[3:7, 2:6] = value
    return label


@pytest.fixture
def folder(tmp_path):
    """``write(name, image=..., label=...)`` into tmp_path/images and tmp_path/labels."""
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()

    def write(name, image=None, label=None, label_name=None):
        if image is not None:
            iio.imwrite(tmp_path / "images" / name, image)
        if label is not None:
            iio.imwrite(tmp_path / "labels" / (label_name or name), label)
        return tmp_path

    return write


def _load(root, **kwargs):
    return load_image_folder(root / "images", root / "labels", **kwargs)


def test_sunnybrook_names(folder):
    folder("SC-HYP-3-IM-0001-0100.dcm.png", _image(1), _label())
    folder("SC-HF-NI-34-IM-0001-0008.dcm.png", _image(2), _label(value=1))
    root = folder("SC-HF-NI-34-IM-0001-0020.dcm.png", _image(3), _label())
    data = _load(root)
    assert data.frame.dtype == IMAGE_FRAME_DTYPE
    assert data.frame.patient_id.tolist() == ["SC-HF-NI-34", "SC-HF-NI-34", "SC-HYP-3"]
    assert data.frame.pathology.tolist() == ["HF-NI", "HF-NI", "HYP"]
    assert data.frame.instance.tolist() == [8, 20, 100]
    np.testing.assert_array_equal(data.groups, data.frame.patient_id)
    assert data.images.dtype == np.float32 and data.images.shape == (3, *SHAPE)
    np.testing.assert_array_equal(data.images[0], _image(2))  # 8-bit values kept as stored
    assert data.y.dtype == bool and data.y.sum(axis=(1, 2)).tolist() == [16, 16, 16]
    assert np.isnan(data.frame.pixel_spacing).all() and np.isnan(data.frame.trigger_time).all()
    assert data.frame.rows.tolist() == [12] * 3 and data.frame.columns.tolist() == [10] * 3
    assert not data.regions.any() and not data.has_region.any()
    assert data.frame.label_path[0].endswith("labels/SC-HF-NI-34-IM-0001-0008.dcm.png")
    assert "2 patient(s) (1 HF-NI, 1 HYP), 3 labelled image(s)" in data.summary
    assert "pixel spacing unknown (NaN)" in data.summary


def test_rgb_tiff_and_jpeg_images(folder):
    rgb = np.repeat(_image(4)[..., None], 3, axis=-1)
    folder("SC-N-2-IM-0001-0001.png", rgb, np.repeat(_label()[..., None], 3, axis=-1))
    root = folder("SC-N-2-IM-0001-0002.jpg", _image(5), _label(), label_name="SC-N-2-IM-0001-0002.png")
    tifffile.imwrite(root / "images" / "SC-N-2-IM-0001-0003.tif", _image(6).astype(np.uint16) * 100)
    tifffile.imwrite(root / "labels" / "SC-N-2-IM-0001-0003.tiff", _label(value=1))
    data = _load(root)
    np.testing.assert_array_equal(data.images[0], _image(4))
    assert data.images[2].max() > 255  # 16-bit TIFF read whole
    assert data.y.sum(axis=(1, 2)).tolist() == [16, 16, 16]


def test_groups_regex_and_callable(folder):
    folder("site1_p07_s3.png", _image(), _label())
    root = folder("site1_p09_s1.png", _image(), _label())
    by_regex = _load(root, groups=r"_(p[0-9]+)_")
    assert by_regex.groups.tolist() == ["p07", "p09"]
    assert by_regex.frame.pathology.tolist() == ["", ""] and by_regex.frame.instance.tolist() == [-1, -1]
    named = _load(root, groups=re.compile(r"(?P<patient>p[0-9]+)_s(?P<instance>[0-9])"))
    assert named.frame.instance.tolist() == [3, 1]
    by_callable = _load(root, groups=lambda name: name.split("_")[1].upper())
    assert by_callable.groups.tolist() == ["P07", "P09"]
    with pytest.raises(DatasetError, match=r"site1_p07_s3\.png: name does not match the groups pattern"):
        _load(root)  # not Sunnybrook names
    with pytest.raises(DatasetError, match=r"groups\('site1_p07_s3\.png'\) returned None"):
        _load(root, groups=lambda name: None)
    with pytest.raises(ValueError, match="invalid regular expression"):
        _load(root, groups="(")


def test_unpaired_files(folder):
    folder("SC-N-2-IM-0001-0001.png", _image(), _label())
    root = folder("SC-N-2-IM-0001-0002.png", _image())
    with pytest.raises(DatasetError, match=r"images/SC-N-2-IM-0001-0002\.png: no label with the same name in .*labels"):
        _load(root)
    (root / "images" / "SC-N-2-IM-0001-0002.png").unlink()
    folder("SC-N-2-IM-0001-0003.png", label=_label())
    with pytest.raises(DatasetError, match=r"labels/SC-N-2-IM-0001-0003\.png: no image with the same name"):
        _load(root)


def test_size_mismatch_and_non_binary(folder):
    root = folder("SC-N-2-IM-0001-0001.png", _image(), _label(shape=(12, 11)))
    with pytest.raises(DatasetError, match=r"SC-N-2-IM-0001-0001\.png: label of 12x11 pixels, its image .* has 12x10"):
        _load(root)
    label = _label()
    label[0, 0] = 128
    folder("SC-N-2-IM-0001-0001.png", label=label)
    with pytest.raises(DatasetError, match=r"labels/SC-N-2-IM-0001-0001\.png: label is not binary: 2 non-zero values \(128, 255\)"):
        _load(root)


def test_colour_and_transparency_refused(folder):
    rgb = np.repeat(_image()[..., None], 3, axis=-1)
    rgb[0, 0, 1] += 1
    root = folder("SC-N-2-IM-0001-0001.png", rgb, _label())
    with pytest.raises(DatasetError, match=r"0001\.png: colour image \(1 pixel\(s\) with unequal R, G, B\)"):
        _load(root)
    rgba = np.dstack([_image()] * 3 + [np.full(SHAPE, 200, np.uint8)])
    folder("SC-N-2-IM-0001-0001.png", rgba)
    with pytest.raises(DatasetError, match="transparent pixels"):
        _load(root)
    folder("SC-N-2-IM-0001-0001.png", np.dstack([_image()] * 3 + [np.full(SHAPE, 255, np.uint8)]))
    assert _load(root).images.shape == (1, *SHAPE)  # opaque alpha is dropped


def test_unreadable_and_multipage(folder):
    root = folder("SC-N-2-IM-0001-0001.png", label=_label())
    (root / "images" / "SC-N-2-IM-0001-0001.png").write_bytes(b"not a png")
    expected = (r"images/SC-N-2-IM-0001-0001\.png: not a PNG file: its first bytes b'not a png' are not the PNG "
                r"signature; expected a PNG file, as its extension \.png says \(only the PNG decoder reads it\)")
    with pytest.raises(DatasetError, match=expected):
        _load(root)
    iio.imwrite(root / "images" / "SC-N-2-IM-0001-0001.png", _image())
    whole = (root / "images" / "SC-N-2-IM-0001-0001.png").read_bytes()
    (root / "images" / "SC-N-2-IM-0001-0001.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetError, match=r"0001\.png: unreadable image \(pillow: "):
        _load(root)  # truncated
    (root / "images" / "SC-N-2-IM-0001-0001.png").unlink()
    tifffile.imwrite(root / "images" / "SC-N-2-IM-0001-0001.tif", np.zeros((5, *SHAPE), np.uint8))
    # A stack of pages is refused from the first page's link to the next, before tifffile walks them.
    with pytest.raises(DatasetError, match=r"0001\.tif: TIFF of more than one page \(its first page links to a next "
                       r"one at byte \d+\); expected a single-page TIFF"):
        _load(root)


def test_folders_missing_empty_and_strays(folder, tmp_path):
    with pytest.raises(DatasetError, match="nowhere: no such folder; expected the folder of images"):
        load_image_folder(tmp_path / "nowhere", tmp_path / "labels")
    root = folder("SC-N-2-IM-0001-0001.png")
    with pytest.raises(DatasetError, match=r"images: no images found; expected \.png/"):
        _load(root)
    folder("SC-N-2-IM-0001-0001.png", _image(), _label())
    (root / "images" / "README.txt").write_text("notes")
    (root / "labels" / ".DS_Store").write_bytes(b"\0")
    iio.imwrite(root / "images" / "SC-N-2-IM-0001-0001.jpg", _image())
    with pytest.raises(DatasetError, match=r"0001\.png: same name as .*0001\.jpg but for the extension"):
        _load(root)
    (root / "images" / "SC-N-2-IM-0001-0001.jpg").unlink()
    data = _load(root)
    assert sorted(s.path.rsplit("/", 1)[1] for s in data.skipped) == [".DS_Store", "README.txt"]
    assert "2 item(s) skipped" in data.summary


def test_odd_size_image_skipped(folder):
    folder("SC-N-2-IM-0001-0001.png", _image(), _label())
    folder("SC-N-2-IM-0001-0002.png", _image(), _label())
    root = folder("SC-N-3-IM-0001-0001.png", _image(shape=(8, 8)), _label(shape=(8, 8)))
    data = _load(root)
    assert data.groups.tolist() == ["SC-N-2", "SC-N-2"]
    assert [s.reason for s in data.skipped] == ["image shape (8, 8) differs from the dataset's (12, 10)"]


def test_sunnybrook_pathology():
    assert [sunnybrook_pathology(i) for i in ("SC-HF-I-1", "SC-HF-NI-03", "SC-HYP-40", "SC-N-2")] == [
        "HF-I", "HF-NI", "HYP", "N"
    ]
    assert sunnybrook_pathology("SC-X-1") == "" and sunnybrook_pathology("SCD0000101") == ""


@pytest.mark.shared_data
def test_shared_png_export(shared_png_root):
    data = load_image_folder(shared_png_root / "images", shared_png_root / "labels")
    assert data.images.shape == (204, 256, 256) and not data.skipped
    assert len(set(data.groups)) == 12
    per_group = {p: len(set(data.groups[data.frame.pathology == p])) for p in ("HF-I", "HF-NI", "HYP", "N")}
    assert per_group == {"HF-I": 1, "HF-NI": 4, "HYP": 4, "N": 3}
    assert data.y.any(axis=(1, 2)).all() and 0 <= data.images.min() and data.images.max() <= 255
    for train, test in GroupKFold(n_splits=4).split(data.images, groups=data.groups):
        assert not set(data.groups[train]) & set(data.groups[test])


@pytest.mark.shared_data
def test_shared_dicom_pathology(shared_data_root):
    data = load_dataset(shared_data_root)
    assert set(data.frame.pathology) == {"HF-I"}


def test_as_frame(folder):
    pd = pytest.importorskip("pandas")
    folder("SC-HYP-3-IM-0001-0100.dcm.png", _image(1), _label())
    root = folder("SC-N-2-IM-0001-0008.dcm.png", _image(2), _label())
    records, table = _load(root), _load(root, as_frame=True)
    assert isinstance(table.frame, pd.DataFrame) and list(table.frame.columns) == list(IMAGE_FRAME_DTYPE.names)
    for name in IMAGE_FRAME_DTYPE.names:
        np.testing.assert_array_equal(np.stack(table.frame[name].to_numpy()), records.frame[name])


def test_image_bombs_and_oversized_files_are_refused_before_decoding(folder):
    import time

    from _hostile import png_bomb

    from skcardio.io import limits_context

    root = folder("SC-N-2-IM-0001-0048.png", label=_label())
    png_bomb(root / "images" / "SC-N-2-IM-0001-0048.png", 8000)
    assert (root / "images" / "SC-N-2-IM-0001-0048.png").stat().st_size < 200_000
    start = time.perf_counter()
    with pytest.raises(DatasetError, match=r"SC-N-2-IM-0001-0048\.png: the header claims 8000 x 8000 x 1 band\(s\) x 1 "
                       r"frame\(s\): 64000000 values exceeds the limit max_image_pixels=33554432"):
        _load(root)
    assert time.perf_counter() - start < 5
    root = folder("SC-N-2-IM-0001-0048.png", image=_image(), label=_label())
    tifffile.imwrite(root / "images" / "SC-N-2-IM-0001-0049.tif", np.zeros((12, 10, 3), np.uint8))
    iio.imwrite(root / "labels" / "SC-N-2-IM-0001-0049.png", _label())
    with limits_context(max_image_pixels=200), pytest.raises(
        DatasetError, match=r"0049\.tif: the header claims a page of \(12, 10, 3\): 360 values exceeds the limit"
    ):
        _load(root)
    expected = r"an image file of \d+ bytes exceeds the limit max_file_bytes=100"
    with limits_context(max_file_bytes=100), pytest.raises(DatasetError, match=expected):
        _load(root)


def test_name_not_matching_the_groups_pattern_names_the_file_with_its_folder(folder):
    root = folder("whatever.png", _image(), _label())
    with pytest.raises(DatasetError, match=re.escape(f"{root / 'images' / 'whatever.png'}: name does not match")):
        _load(root)


def test_unreadable_folder_is_an_error_naming_it(folder, monkeypatch):
    from _hostile import deny_folders

    root = folder("SC-N-2-IM-0001-0001.png", _image(), _label())
    deny_folders(monkeypatch, root / "labels")
    for on_error in ("raise", "skip"):  # without its labels, no image can be used
        with pytest.raises(DatasetError, match=re.escape(
            f"{root / 'labels'}: cannot read folder: permission denied; expected the folder of labels"
        )):
            _load(root, on_error=on_error)


def test_infinite_pixels_are_refused_naming_the_file(folder):
    root = folder("SC-N-2-IM-0001-0001.png", _image(), _label())
    image = _image().astype(np.float32)
    image[0, 0], image[1, 1] = np.inf, np.nan
    tifffile.imwrite(root / "images" / "SC-N-2-IM-0001-0002.tif", image)
    iio.imwrite(root / "labels" / "SC-N-2-IM-0001-0002.png", _label())
    # Was "ValueError: X contains infinite values" from the estimator, without a file name.
    with pytest.raises(DatasetError, match=r"images/SC-N-2-IM-0001-0002\.tif: 1 infinite pixel value\(s\)"):
        _load(root)
    image[0, 0] = 7
    tifffile.imwrite(root / "images" / "SC-N-2-IM-0001-0002.tif", image)
    assert np.isnan(_load(root).images[1, 1, 1])  # NaN: a pixel without data, kept
    (root / "labels" / "SC-N-2-IM-0001-0002.png").unlink()
    label = _label().astype(np.float32)
    label[0, 0] = np.nan
    tifffile.imwrite(root / "labels" / "SC-N-2-IM-0001-0002.tif", label)
    with pytest.raises(DatasetError, match=r"labels/SC-N-2-IM-0001-0002\.tif: label holds 1 non-finite value\(s\)"):
        _load(root)


def test_on_error_skip_leaves_out_each_bad_file_and_loads_the_rest(folder):
    # Each of these aborted the whole dataset (on_error="raise", still the default, stops at the first).
    folder("SC-N-2-IM-0001-0001.png", _image(1), _label())
    folder("SC-N-2-IM-0001-0002.png", _image(2), _label())
    non_binary = _label()
    non_binary[0, 0] = 7
    folder("SC-N-3-IM-0001-0001.png", _image(3), non_binary)
    folder("SC-N-3-IM-0001-0002.png", _image(4), _label(shape=(12, 11)))
    root = folder("SC-N-3-IM-0001-0003.png", label=_label())
    (root / "images" / "SC-N-3-IM-0001-0003.png").write_bytes(b"not a png")
    folder("whatever.png", _image(5), _label())
    infinite = _image(6).astype(np.float32)
    infinite[0, 0] = -np.inf
    tifffile.imwrite(root / "images" / "SC-N-3-IM-0001-0004.tif", infinite)
    iio.imwrite(root / "labels" / "SC-N-3-IM-0001-0004.png", _label())
    folder("SC-N-3-IM-0001-0005.png", _image(7))  # no label
    folder("SC-N-3-IM-0001-0006.png", label=_label())  # no image
    folder("SC-N-3-IM-0001-0007.png", _image(8), _label())
    iio.imwrite(root / "labels" / "SC-N-3-IM-0001-0007.jpg", _label())  # two labels for one image
    folder("SC-N-4-IM-0001-0001.png", _image(shape=(8, 8)), _label(shape=(8, 8)))  # another size: not an error
    with pytest.raises(DatasetError):
        _load(root)
    data = _load(root, on_error="skip")
    assert data.frame.image_path.tolist() == [str(root / "images" / f"SC-N-2-IM-0001-000{n}.png") for n in (1, 2)]
    errors = {os.path.relpath(s.path, root): s.reason for s in data.skipped if s.error}
    assert errors == {
        "labels/SC-N-3-IM-0001-0001.png": "label is not binary: 2 non-zero values (7, 255); expected 0 and one "
        "other value (1 or 255); a JPEG label is rarely binary, save labels as PNG",
        "labels/SC-N-3-IM-0001-0002.png": f"label of 12x11 pixels, its image {root / 'images' / 'SC-N-3-IM-0001-0002.png'} "
        "has 12x10; expected the same size",
        "images/SC-N-3-IM-0001-0003.png": errors.get("images/SC-N-3-IM-0001-0003.png", "missing"),
        "images/SC-N-3-IM-0001-0004.tif": "1 infinite pixel value(s); expected finite intensities "
        "(NaN marks pixels without data)",
        "images/SC-N-3-IM-0001-0005.png": f"no label with the same name in {root / 'labels'}",
        "labels/SC-N-3-IM-0001-0006.png": f"no image with the same name in {root / 'images'}",
        "labels/SC-N-3-IM-0001-0007.jpg": f"same name as {root / 'labels' / 'SC-N-3-IM-0001-0007.png'} but for the "
        "extension; expected one file per label",
        "labels/SC-N-3-IM-0001-0007.png": f"same name as {root / 'labels' / 'SC-N-3-IM-0001-0007.jpg'} but for the "
        "extension; expected one file per label",
        "images/SC-N-3-IM-0001-0007.png": "not used: its label is ambiguous (several files named SC-N-3-IM-0001-0007 "
        f"but for the extension in {root / 'labels'})",
        "images/whatever.png": errors.get("images/whatever.png", "missing"),
    }
    assert errors["images/SC-N-3-IM-0001-0003.png"].startswith("not a PNG file: ")
    assert errors["images/whatever.png"].startswith("name does not match the groups pattern")
    [other_size] = [s for s in data.skipped if "SC-N-4" in s.path]
    assert not other_size.error and "differs from the dataset's (12, 10)" in other_size.reason


def test_on_error_skip_with_nothing_left_and_bad_values(folder):
    root = folder("whatever.png", _image(), _label())
    with pytest.raises(DatasetError, match=r"images: no usable image with its label; 1 item\(s\) skipped: 1 x name does"):
        _load(root, on_error="skip")
    with pytest.raises(ValueError, match=r"on_error must be one of \('raise', 'skip'\), got 'ignore'"):
        _load(root, on_error="ignore")


def test_one_root_holding_images_and_labels(tmp_path):
    from skcardio.exceptions import DatasetError

    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / "images"))):
        load_image_folder(tmp_path)  # no images/ under it: named


def test_summary_shows_control_characters_of_names_escaped(tmp_path):
    """The summary is text to print (the command line logs it, its lines kept): the folder's name and a
    pathology read from file names have their control characters escaped; the frame keeps the true values."""
    if os.name == "nt":
        pytest.skip("such names are refused by Windows")
    root = tmp_path / "im\x1b[2J\ng"
    for name in ("SC-HF\x1b[8m-2-IM-0001-0001.png", "SC-N-3-IM-0001-0001.png"):
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "labels").mkdir(exist_ok=True)
        iio.imwrite(root / "images" / name, _image())
        iio.imwrite(root / "labels" / name, _label())
    data = _load(root, groups=r"SC-(?P<patient>.+)-IM")
    first, second = data.summary.splitlines()
    assert first.startswith("2 patient(s) (")
    assert f"from {tmp_path}/im\\x1b[2J\\ng/images; " in first and "\x1b" not in data.summary
    assert "\x1b" in "".join(data.frame.patient_id)


def test_pixel_spacing_given_is_stored_where_dicoms_keep_theirs(folder):
    folder("SC-N-2-IM-0001-0001.png", _image(1), _label())
    root = folder("SC-N-2-IM-0001-0002.png", _image(2), _label())
    square = _load(root, pixel_spacing=1.3672)
    # frame.pixel_spacing, (row, column) mm per image, as load_dataset's frame holds each DICOM's
    np.testing.assert_array_equal(square.frame.pixel_spacing, [[1.3672, 1.3672]] * 2)
    first = square.summary.splitlines()[0]
    assert first.endswith("; pixel spacing given: 1.3672 mm") and "unknown" not in square.summary
    pair = _load(root, pixel_spacing=(1.5, 1.25), as_frame=True)
    np.testing.assert_array_equal(np.stack(pair.frame.pixel_spacing), [[1.5, 1.25]] * 2)
    assert "pixel spacing given: 1.5 x 1.25 mm (row x column)" in pair.summary
    # What a consumer measures with it: a mask one row lower is 1.5 mm off, not NaN.
    from skcardio.metrics import hausdorff_distance

    shifted = np.roll(square.y, 1, axis=1)
    np.testing.assert_allclose(hausdorff_distance(square.y, shifted, spacing=pair.frame.pixel_spacing,
                                                  per_slice=True), [1.5, 1.5])
    unknown = _load(root, pixel_spacing=None)
    assert np.isnan(unknown.frame.pixel_spacing).all() and "pixel spacing unknown (NaN)" in unknown.summary


@pytest.mark.parametrize("spacing, message", [
    (0, "pixel_spacing 0: not positive; expected pixel spacings within [0.001, 50] mm ("),
    (-1.3672, "pixel_spacing -1.3672: not positive; expected pixel spacings within [0.001, 50] mm"),
    (float("nan"), "pixel_spacing nan: not a finite number; expected pixel spacings within"),
    (float("inf"), "pixel_spacing inf: not a finite number; expected"),
    (100, "pixel_spacing 100: not physical; expected pixel spacings within [0.001, 50] mm"),
    (1e-5, "pixel_spacing 1e-05: not physical"),
    ((1.3672, 0), "pixel_spacing (1.3672, 0): 0 is not positive; expected"),
    ([1.0, 60.0], "pixel_spacing (1, 60): 60 is not physical; expected"),
    ("1.3672", "pixel_spacing: got '1.3672'; expected one number of mm (square pixels) or a (row, column) pair"),
    (True, "pixel_spacing: got True; expected one number"),
    ((1.0, 1.0, 1.0), "pixel_spacing: got (1.0, 1.0, 1.0) of shape (3,); expected one number"),
])
def test_bad_pixel_spacing_refused_before_reading(tmp_path, spacing, message):
    # The folders do not exist: the argument is checked first.
    with pytest.raises(ValueError, match=re.escape(message)):
        load_image_folder(tmp_path / "missing", tmp_path / "missing", pixel_spacing=spacing)
