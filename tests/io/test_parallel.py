"""The warnings of reading DICOM files reach the caller whatever ``n_jobs``, and again from the cache.

read_dicom warns about a file it reads all the same (pixel data padded by less than a row, a position
read as absent, ...). With ``n_jobs > 1`` the files were read in loky's worker processes, whose
warnings never reached the caller: ``read_dicoms``, ``read_cine`` and ``load_dataset`` read such files
without a word. With ``memory=``, a cache hit gave the slice without the warning its first reading gave.
"""

import os
import re
import warnings

import numpy as np
import pydicom
import pytest
from joblib import Memory

from _cine_studies import write_study
from _contour_shapes import SQUARE_I

from skcardio.datasets import load_dataset
from skcardio.exceptions import DicomReadError, SkcardioWarning
from skcardio.io import _parallel, get_limits, limits_context, read_cine, read_dicoms

PADDED = r"pixel data longer than the header declares: .*; the 2 extra byte\(s\), less than a row, are taken for padding"


def _pad(path):
    """Append 2 bytes (less than a row) to the pixel data: read with a warning naming the file."""
    ds = pydicom.dcmread(path)
    ds.PixelData += b"\0\0"
    ds.save_as(path)
    return path


def _files(tmp_path, make_dicom):
    """Five slices, the second and the fourth padded."""
    paths = [make_dicom(tmp_path / f"{i}.dcm", np.full((4, 4), i, np.int16), instance=i) for i in range(5)]
    _pad(paths[1])
    _pad(paths[3])
    return paths


def _record(call):
    """``call()``'s result and the warnings it gave (each one), as (category, message) pairs and as recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [(w.category, str(w.message)) for w in caught], caught


def _check(said, paths, *padded):
    """One padding warning for each of ``paths[padded]``, in that order, and nothing else."""
    assert [(category, message.split(": ")[0]) for category, message in said] == [
        (SkcardioWarning, os.fspath(paths[i])) for i in padded
    ], said
    assert all(re.search(PADDED, message) for _, message in said), said


def test_warnings_of_worker_processes_reach_the_caller_in_the_order_of_the_paths(tmp_path, make_dicom):
    paths = _files(tmp_path, make_dicom)
    one, said_one, _ = _record(lambda: read_dicoms(paths))
    two, said_two, caught = _record(lambda: read_dicoms(paths, n_jobs=2))
    _check(said_one, paths, 1, 3)
    assert said_two == said_one  # none before
    assert {w.filename for w in caught} == {__file__}  # stacklevel: the call of read_dicoms
    assert [s.instance_number for s in two] == [s.instance_number for s in one] == [0, 1, 2, 3, 4]


def test_a_cache_hit_says_the_warnings_of_the_first_reading_again(tmp_path, make_dicom, monkeypatch):
    paths = _files(tmp_path, make_dicom)
    cache = tmp_path / "cache"
    _, first, _ = _record(lambda: read_dicoms(paths, n_jobs=2, memory=cache))  # read in worker processes
    _check(first, paths, 1, 3)

    def not_read(path, **kwargs):
        raise AssertionError(f"{path} read again: not a cache hit")

    monkeypatch.setattr(_parallel, "read_dicom", not_read)
    slices, again, caught = _record(lambda: read_dicoms(paths, memory=cache))
    assert again == first  # none before
    assert {w.filename for w in caught} == {__file__}
    assert [float(s.image[0, 0]) for s in slices] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_another_skcardio_or_pydicom_misses_the_cache(tmp_path, make_dicom, monkeypatch):
    # A slice cached by one version is not served to another, whose DicomSlice or reading may differ.
    paths = _files(tmp_path, make_dicom)
    cache = tmp_path / "cache"
    read_dicoms(paths, memory=cache)
    read = []
    real = _parallel.read_dicom

    def counted(path, **kwargs):
        read.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(_parallel, "read_dicom", counted)
    read_dicoms(paths, memory=cache)
    assert read == []  # the same versions: every slice from the cache
    monkeypatch.setattr(_parallel, "_VERSIONS", ("0.0.0-other", _parallel._VERSIONS[1]))
    _, said, _ = _record(lambda: read_dicoms(paths, memory=cache))
    assert read == list(map(os.fspath, paths))
    _check(said, paths, 1, 3)


@pytest.mark.parametrize(("n_jobs", "cached"), [(1, False), (1, True), (2, False), (2, True)],
                         ids=["one-process", "one-process-cached", "two-processes", "two-processes-cached"])
def test_each_warning_is_said_once(tmp_path, make_dicom, n_jobs, cached):
    # In the caller's own process without a cache, read_dicom's warnings come as they are said (none
    # recorded to be said again): not twice. A cache says its warnings again, on a miss and on a hit.
    paths = _files(tmp_path, make_dicom)
    memory = tmp_path / "cache" if cached else None
    for _ in range(2 if cached else 1):
        _, said, _ = _record(lambda: read_dicoms(paths, n_jobs=n_jobs, memory=memory))
        _check(said, paths, 1, 3)


def test_an_old_cache_entry_is_not_read_as_one_with_warnings(tmp_path, make_dicom):
    # The cached reader was _read, which kept the slice alone: its entries must not be served (without
    # their warnings), nor unpacked as a slice and its warnings.
    paths = _files(tmp_path, make_dicom)
    cache = Memory(tmp_path / "cache", verbose=0)
    old = cache.cache(_parallel._read)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in map(os.fspath, paths):
            old(path, *_parallel._signature(path), True, get_limits())
    slices, said, _ = _record(lambda: read_dicoms(paths, memory=cache))
    _check(said, paths, 1, 3)
    assert [s.instance_number for s in slices] == [0, 1, 2, 3, 4]


def test_the_callers_filters_apply_to_warnings_said_again(tmp_path, make_dicom):
    # An "error" filter raises the warning in the caller, as with n_jobs=1; an "ignore" filter keeps
    # the other files' warnings.
    paths = _files(tmp_path, make_dicom)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkcardioWarning)
        with pytest.raises(SkcardioWarning) as one:
            read_dicoms(paths)
        with pytest.raises(SkcardioWarning) as two:
            read_dicoms(paths, n_jobs=2)
    assert str(two.value) == str(one.value) and str(one.value).startswith(f"{paths[1]}: ")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=re.escape(f"{paths[1]}: "))
        read_dicoms(paths, n_jobs=2)
    _check([(w.category, str(w.message)) for w in caught], paths, 3)


def _study_with_padding(tmp_path, make_dicom):
    """A 3-phase, 2-slice study, one image padded; and a padded file that is then refused (an RGB one):
    its warning, then its setting aside."""
    folder = tmp_path / "study"
    files = write_study(make_dicom, folder, n_phases=3, n_slices=2)
    _pad(files[1, 1])
    junk = _pad(make_dicom(folder / "rgb.dcm", np.zeros((4, 4), np.int16), PhotometricInterpretation="RGB"))
    return folder, files[1, 1], junk


def test_read_cine_with_processes_warns_as_with_one(tmp_path, make_dicom):
    folder, padded, junk = _study_with_padding(tmp_path, make_dicom)
    study, said_one, _ = _record(lambda: read_cine(folder))
    _, said_two, caught = _record(lambda: read_cine(folder, n_jobs=2))
    assert said_two == said_one  # the padding warnings were missing
    assert [message.split(": ")[0] for _, message in said_one] == [str(padded), str(junk), str(folder)]
    assert "set aside: rgb.dcm (expected a grayscale image" in said_one[2][1]
    assert {w.filename for w in caught} == {__file__}  # stacklevel: the call of read_cine
    assert [item.path for item in study.set_aside] == [str(junk)]
    # A cache keeps the readable file's warning; the refused file is not cached, and is read (and warns) again.
    for _ in range(2):
        _, said, caught = _record(lambda: read_cine(folder, memory=tmp_path / "cache"))
        assert said == said_one and {w.filename for w in caught} == {__file__}
    # An "error" filter: the first padding warning is raised, as with one process (the file is not
    # taken for an unreadable one and set aside: the reading stops).
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkcardioWarning)
        for n_jobs in (1, 2):
            with pytest.raises(SkcardioWarning, match=re.escape(f"{padded}: ") + PADDED):
                read_cine(folder, n_jobs=n_jobs)


def test_load_dataset_with_processes_warns_as_with_one(tmp_path, make_layout):
    root = make_layout({"P1": ("O1", {5: {"i": SQUARE_I}, 6: {"i": SQUARE_I}, 7: {"i": SQUARE_I}})})
    padded = _pad(root / "dicoms" / "P1" / "6.dcm")
    data, said_one, _ = _record(lambda: load_dataset(root))
    _, said_two, caught = _record(lambda: load_dataset(root, n_jobs=2))
    assert said_two == said_one and len(said_one) == 1 and said_one[0][1].startswith(f"{padded}: ")
    assert re.search(PADDED, said_one[0][1])
    assert {w.filename for w in caught} == {__file__}  # stacklevel: the call of load_dataset
    assert len(data.images) == 3


def test_errors_and_the_study_size_limit_are_kept(tmp_path, make_dicom):
    # The first unreadable file is named, after the warnings of the files before it and its own; the
    # size limit stops the reading at the file that crosses it. Neither adds joblib's remark on the
    # files not read ("N tasks which were still being processed by the workers have been cancelled").
    paths = _files(tmp_path, make_dicom)
    rest = [make_dicom(tmp_path / f"rest{i}.dcm", np.zeros((4, 4), np.int16)) for i in range(40)]
    bad = tmp_path / "bad.dcm"
    bad.write_text("nope")
    padded_bad = _pad(make_dicom(tmp_path / "rgb.dcm", np.zeros((4, 4), np.int16), PhotometricInterpretation="RGB"))
    for n_jobs in (1, 2):
        for unreadable, said in ((bad, [paths[1]]), (padded_bad, [paths[1], padded_bad])):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with pytest.raises(DicomReadError, match=re.escape(f"{unreadable}: ")):
                    read_dicoms([*paths[:2], unreadable, *paths[2:], bad, *rest], n_jobs=n_jobs)
            _check([(w.category, str(w.message)) for w in caught], said, *range(len(said)))
    limits = get_limits()
    with limits_context(max_study_bytes=3 * 4 * 4 * 4), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DicomReadError, match=r"3\.dcm: with this image, the images read take 256 bytes"):
            read_dicoms([*paths, *rest], n_jobs=2)
    _check([(w.category, str(w.message)) for w in caught], paths, 1, 3)  # the file that crossed it warned
    assert get_limits() == limits
