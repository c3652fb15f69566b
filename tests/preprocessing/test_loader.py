import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import TABLE_CHECKS, TRANSFORMER_TABLE_CHECKS, claiming_2d

from skcardio.datasets import load_sample
from skcardio.exceptions import DicomReadError
from skcardio.preprocessing import DicomLoader, RegionSelector

_TABULAR = "DicomLoader takes slice records or DICOM paths; the check feeds a numeric 2-D array"
EXPECTED_FAILURES = {
    name: _TABULAR
    for name in [
        *TABLE_CHECKS, *TRANSFORMER_TABLE_CHECKS, "check_positive_only_tag_during_fit",
        "check_transformers_unfitted_stateless",  # transforms an unfitted loader: works on records
    ]
}
EXPECTED_FAILURES.update(
    {
        "check_complex_data": "a complex array is refused as 'not records or paths', not with sklearn's wording",
        "check_estimators_empty_data_messages": "empty records get 'found 0 sample(s)', not the 2-D feature wording",
        "check_estimators_nan_inf": "records hold file paths, where NaN/inf cannot occur; numbers are refused",
        "check_fit2d_1sample": "a numeric 2-D array is refused before the sample count is looked at",
        "check_fit2d_1feature": "a numeric 2-D array is refused before the feature count is looked at",
    }
)


@parametrize_with_checks([claiming_2d(DicomLoader)()], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def test_images_from_records(sample):
    images = DicomLoader().fit_transform(sample.frame)
    assert images.dtype == np.float32
    np.testing.assert_array_equal(images, sample.images)


def test_images_from_paths(sample):
    paths = list(sample.frame.dicom_path[:3])
    np.testing.assert_array_equal(DicomLoader().fit_transform(paths), sample.images[:3])


def test_images_from_mapping(sample):
    table = {"dicom_path": list(sample.frame.dicom_path[:2])}
    np.testing.assert_array_equal(DicomLoader().fit_transform(table), sample.images[:2])


def test_region_channel(sample):
    both = load_sample(require="o-contour")
    X = DicomLoader(region="o-contour").fit_transform(both.frame)
    assert X.shape == (12, 2, 256, 256)
    np.testing.assert_array_equal(X[:, 0], both.images)
    np.testing.assert_array_equal(X[:, 1] > 0.5, both.regions)


def test_region_missing_contour_is_explained(sample):
    with pytest.raises(ValueError, match=r"108\.dcm: no o-contour for this slice.*require='o-contour'"):
        DicomLoader(region="o-contour").fit_transform(sample.frame)


def test_region_needs_records(sample):
    with pytest.raises(ValueError, match="needs slice records"):
        DicomLoader(region="o-contour").fit_transform(list(sample.frame.dicom_path[:2]))


def test_pipeline_with_region_selector(sample):
    both = load_sample(require="o-contour")
    pipe = make_pipeline(DicomLoader(region="o-contour"), RegionSelector())
    out = pipe.fit_transform(both.frame)
    assert out.shape == (12, 256, 256)
    np.testing.assert_array_equal(np.isnan(out), ~both.regions)


def test_clone_get_set_params_pickle(sample):
    loader = DicomLoader(region="o-contour", n_jobs=2)
    assert clone(loader).get_params() == loader.get_params()
    loader.set_params(region=None)
    assert loader.region is None
    fitted = pickle.loads(pickle.dumps(loader.fit(sample.frame)))
    np.testing.assert_array_equal(fitted.transform(sample.frame[:2]), sample.images[:2])


def test_cached_and_parallel(sample, tmp_path):
    loader = DicomLoader(n_jobs=2, memory=tmp_path)
    np.testing.assert_array_equal(loader.fit_transform(sample.frame), sample.images)
    assert any(tmp_path.rglob("*.pkl")), "joblib.Memory wrote no cache entry"
    np.testing.assert_array_equal(loader.transform(sample.frame), sample.images)


@pytest.mark.parametrize("X, match", [([], "0 sample"), (np.zeros((3, 2)), "DICOM paths"), ("a.dcm", "single path"),
                                      (np.str_("a.dcm"), "a single path 'a.dcm'$")])
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        DicomLoader().fit(X)


def test_bad_region_parameter(sample):
    with pytest.raises(ValueError, match="region must be one of"):
        DicomLoader(region="epicardium").fit(sample.frame)


def test_unreadable_file_named(tmp_path, sample):
    bad = tmp_path / "bad.dcm"
    bad.write_text("x")
    with pytest.raises(DicomReadError, match=r"bad\.dcm"):
        DicomLoader().fit_transform([sample.frame.dicom_path[0], str(bad)])


def test_mixed_sizes_refused(tmp_path, make_dicom, sample):
    small = make_dicom(tmp_path / "small.dcm", np.zeros((8, 8), np.int16))
    with pytest.raises(ValueError, match=r"small\.dcm: image shape \(8, 8\) differs"):
        DicomLoader().fit_transform([sample.frame.dicom_path[0], str(small)])


def test_transform_without_fit_is_stateless(sample):
    # Stateless, like FunctionTransformer: no fit needed, same arrays, same checks.
    loader = DicomLoader(region="i-contour")
    np.testing.assert_array_equal(loader.transform(sample.frame[:2]),
                                  clone(loader).fit(sample.frame[:2]).transform(sample.frame[:2]))
    with pytest.raises(ValueError, match=r"region must be one of"):
        DicomLoader(region="bogus").transform(sample.frame)


def test_region_with_plain_paths_refused_before_reading(tmp_path):
    missing = str(tmp_path / "not-there.dcm")  # reading it would raise DicomReadError
    with pytest.raises(ValueError, match=r"needs slice records with a contour column"):
        DicomLoader(region="o-contour").transform([missing])


class _Table:
    """Minimal DataFrame-like table: ``columns``, ``len`` and column access."""

    def __init__(self, data):
        self._data = data
        self.columns = list(data)

    def __len__(self):
        return len(next(iter(self._data.values())))

    def __getitem__(self, name):
        return np.asarray(self._data[name], dtype=object)


def test_nan_contour_in_table_is_missing(sample):
    # Tables read from CSV (e.g. pandas) hold NaN, not "", for a missing contour.
    frame = sample.frame[:3]
    ocontours = [p if p else float("nan") for p in frame.ocontour_path]
    assert any(p != p for p in ocontours)
    table = _Table({"dicom_path": list(frame.dicom_path), "ocontour_path": ocontours})
    with pytest.raises(ValueError, match=r"no o-contour for this slice"):
        DicomLoader(region="o-contour").fit_transform(table)
    both = [i for i, p in enumerate(ocontours) if p == p]
    X = DicomLoader(region="o-contour").fit_transform(
        _Table({"dicom_path": [frame.dicom_path[i] for i in both], "ocontour_path": [ocontours[i] for i in both]})
    )
    assert X.shape == (len(both), 2, 256, 256)


def test_pandas_na_contour_is_missing(sample):
    # A nullable string column (frame.convert_dtypes()) holds pandas.NA: it raised a bare TypeError.
    pd = pytest.importorskip("pandas")
    frame = sample.frame[:3]
    table = pd.DataFrame(
        {"dicom_path": list(frame.dicom_path), "ocontour_path": [p or None for p in frame.ocontour_path]}
    ).convert_dtypes()
    assert table["ocontour_path"].isna().any()
    with pytest.raises(ValueError, match=r"no o-contour for this slice"):
        DicomLoader(region="o-contour").fit_transform(table)


def test_mapping_columns_of_different_lengths_refused(sample):
    table = {"dicom_path": list(sample.frame.dicom_path[:3]), "icontour_path": list(sample.frame.icontour_path[:2])}
    with pytest.raises(ValueError, match=r"'icontour_path' has 2 .*'dicom_path' has 3"):
        DicomLoader(region="i-contour").fit(table)


def test_mapping_with_scalar_column(sample):
    table = {"instance": 5, "dicom_path": list(sample.frame.dicom_path[:2])}
    np.testing.assert_array_equal(DicomLoader().fit_transform(table), sample.images[:2])


def test_mapping_with_one_contour_path_shared_by_all(sample):
    # A string column is shared by every record (as fit allows): transform
    # failed with numpy's "all input arrays must have the same shape".
    both = load_sample(require="o-contour").frame
    table = {"dicom_path": list(both.dicom_path[:3]), "ocontour_path": both.ocontour_path[0]}
    pairs = DicomLoader(region="o-contour").fit_transform(table)
    first = DicomLoader(region="o-contour").fit_transform(both[:1])
    assert pairs.shape == (3, 2, 256, 256)
    for i in range(3):
        np.testing.assert_array_equal(pairs[i, 1], first[0, 1])


def test_empty_dicom_path_named(sample):
    table = {"dicom_path": [sample.frame.dicom_path[0], None]}
    with pytest.raises(ValueError, match=r"record 1 has no dicom_path"):
        DicomLoader().fit(table)


def test_single_record_explained(sample):
    with pytest.raises(ValueError, match=r"single record.*frame\[i:i \+ 1\]"):
        DicomLoader().fit(sample.frame[0])


def test_list_of_records_explained(sample):
    with pytest.raises(ValueError, match=r"holding record"):
        DicomLoader().fit(list(sample.frame[:2]))


def test_tags_describe_the_behaviour(sample):
    from sklearn.utils import get_tags

    tags = get_tags(DicomLoader())
    # Stateless: reported fitted, transforms without fit (it used to claim requires_fit).
    assert not tags.requires_fit
    assert not tags.input_tags.two_d_array and tags.input_tags.string
    assert tags.transformer_tags.preserves_dtype == []  # paths in, float32 out
    assert DicomLoader().transform(sample.frame).dtype == np.float32


@pytest.mark.parametrize("n_jobs", ["two", 0, 1.5, True])
def test_n_jobs_checked_in_fit_and_transform(sample, n_jobs):
    # n_jobs="two" passed fit; transform then failed with joblib's "n_jobs could not be converted to int".
    for call in (lambda loader: loader.fit(sample.frame), lambda loader: loader.transform(sample.frame)):
        with pytest.raises(ValueError, match=rf"^DicomLoader\(n_jobs={n_jobs!r}\): n_jobs must be None or a nonzero int"):
            call(DicomLoader(n_jobs=n_jobs))


@pytest.mark.parametrize("memory", [5, 2.0, ["cache"], object()])
def test_memory_checked_in_fit_and_transform(sample, memory):
    # memory=5 passed fit; transform then failed with a bare "expected str, bytes or os.PathLike object".
    for call in (lambda loader: loader.fit(sample.frame), lambda loader: loader.transform(sample.frame)):
        with pytest.raises(ValueError, match=r"^DicomLoader\(memory=.*\): memory must be None, a cache folder"):
            call(DicomLoader(memory=memory))


def test_valid_n_jobs_and_memory_are_taken_and_fit_creates_no_folder(sample, tmp_path):
    from joblib import Memory

    folder = tmp_path / "cache"
    for memory in (None, str(folder), folder, Memory(None, verbose=0)):
        DicomLoader(n_jobs=-1, memory=memory).fit(sample.frame)
    DicomLoader(n_jobs=np.int64(1)).fit(sample.frame)
    assert not folder.exists()  # checked, not created: transform creates it when it reads
