import numpy as np
import pytest

from _image_folders import write_image_folder

from skcardio.datasets import concat_datasets, load_image_folder, load_sample
from skcardio.exceptions import DatasetError, SkcardioWarning


def _png_dataset(root, names, shape=(40, 31), **kwargs):
    write_image_folder(root, names, shape)
    return load_image_folder(root / "images", root / "labels", **kwargs)


def test_dicoms_and_pngs_of_different_sizes(tmp_path):
    dicoms = load_sample()
    pngs = _png_dataset(tmp_path, ["SC-N-2-IM-0001-0001.png", "SC-HYP-3-IM-0001-0002.png"])
    both = concat_datasets({"sample": dicoms, "png": pngs})
    n = len(dicoms.frame)
    assert both.images.shape == (n + 2, 256, 256) and both.images.dtype == np.float32
    np.testing.assert_array_equal(both.images[:n], dicoms.images)
    np.testing.assert_array_equal(both.y[:n], dicoms.y)
    # 40x31 in 256x256: 108 rows above, 108 below; 112 columns left, 113 right
    png = both.images[n + 1]  # SC-N-2 sorts after SC-HYP-3
    assert np.isnan(png[:108]).all() and np.isnan(png[148:]).all() and np.isnan(png[:, :112]).all()
    np.testing.assert_array_equal(png[108:148, 112:143], pngs.images[1])
    np.testing.assert_array_equal(both.y[n, 108:148, 112:143], pngs.y[0])
    assert both.y[n].sum() == pngs.y[0].sum() > 0
    assert not both.regions[n:].any() and both.has_region.tolist() == [*dicoms.has_region, False, False]

    frame = both.frame
    assert frame.dtype.names[:4] == ("source", "patient_id", "original_id", "pathology")
    assert {"image_path", "label_path", "dicom_path"} <= set(frame.dtype.names)
    assert frame.source.tolist() == ["sample"] * n + ["png"] * 2
    assert frame.dicom_path[n] == "" and frame.image_path[0] == "" and frame.original_id[n] == ""
    assert frame.pathology.tolist() == ["HF-I"] * n + ["HYP", "N"]
    assert frame.rows.tolist()[n:] == [40, 40] and frame.columns.tolist()[n:] == [31, 31]
    assert np.isnan(frame.pixel_spacing[n:]).all() and np.isfinite(frame.pixel_spacing[:n]).all()
    np.testing.assert_array_equal(both.groups, frame.patient_id)
    assert len(set(both.groups)) == 5 and both.target == "i-contour"
    assert both.summary.splitlines()[-1] == "total: 5 patient(s), 17 slice(s) of 256x256 pixels; padded from 40x31, 256x256"
    assert both.summary.startswith("sample: 3 patient(s)") and "\npng: 2 patient(s)" in both.summary


def test_clashing_patient_ids_kept_apart(tmp_path):
    first = _png_dataset(tmp_path / "a", ["SC-N-2-IM-0001-0001.png", "SC-N-3-IM-0001-0001.png"])
    second = _png_dataset(tmp_path / "b", ["SC-N-2-IM-0001-0005.png"])
    with pytest.warns(SkcardioWarning, match=r"patient id\(s\) SC-N-2 found in several datasets: kept apart"):
        both = concat_datasets([first, second])
    assert both.groups.tolist() == ["0:SC-N-2", "SC-N-3", "1:SC-N-2"]
    assert both.frame.source.tolist() == ["0", "0", "1"]
    assert both.images.shape == (3, 40, 31) and not np.isnan(both.images).any()  # same size: no padding


def test_refused(tmp_path):
    with pytest.raises(DatasetError, match="no dataset to concatenate"):
        concat_datasets([])
    epi = _png_dataset(tmp_path, ["SC-N-2-IM-0001-0001.png"], target="o-contour")
    with pytest.raises(DatasetError, match=r"different targets cannot be mixed \('0': i-contour, '1': o-contour\)"):
        concat_datasets([load_sample(), epi])
