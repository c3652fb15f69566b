"""Property-based fuzzing of every parser: DICOM, contour, link.csv, model file, image folders.

Each parser gets valid files and the hostile ones of ``_hostile.py`` as seeds,
mutated by hypothesis (bytes flipped, inserted or cut). The property: the
parser returns a well-formed result or raises the package's own error naming
the file; never another exception, a hang or a large allocation (limits are
lowered so that every example stays small).

Brief and deterministic in CI (``derandomize=True``, 25 examples per parser,
a few seconds each). A long run, for instance before a release::

    SKCARDIO_FUZZ_EXAMPLES=20000 SKCARDIO_FUZZ_RANDOM=1 pytest tests/test_fuzz.py -p no:cacheprovider

``SKCARDIO_FUZZ_EXAMPLES`` sets the examples per parser; ``SKCARDIO_FUZZ_RANDOM=1``
draws new random examples at each run instead of the fixed sequence.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skcardio.exceptions import SkcardioError
from skcardio.io import limits_context

EXAMPLES = int(os.environ.get("SKCARDIO_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("SKCARDIO_FUZZ_RANDOM") != "1",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Small limits: a mutated header may claim anything, and every example must stay cheap.
SMALL = dict(max_file_bytes=4 << 20, max_image_pixels=1 << 20, max_text_bytes=1 << 20, max_contour_points=5000,
             max_link_rows=2000, max_model_bytes=8 << 20, max_model_parameters=2_000_000)


@pytest.fixture(scope="module")
def workdir():
    folder = Path(tempfile.mkdtemp(prefix="skcardio-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with some bytes replaced, inserted or removed, or cut short."""

    @st.composite
    def build(draw):
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(0, 8))):
            if not data:
                break
            position = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["replace", "insert", "delete"]))
            value = draw(st.integers(0, 255))
            if action == "replace":
                data[position] = value
            elif action == "insert":
                data.insert(position, value)
            else:
                del data[position]
        if draw(st.booleans()) and data:
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)

    return build()


def _seed_files(folder: Path, writers) -> list[bytes]:
    seeds = []
    for i, write in enumerate(writers):
        path = folder / f"seed{i}"
        write(path)
        seeds.append(path.read_bytes())
    return seeds


@pytest.fixture(scope="module")
def dicom_seeds(workdir):
    from _hostile import deflate_bomb, deflated_slice, rle_bomb, write_dicom

    image = (np.arange(64).reshape(8, 8) % 13).astype(np.int16)
    return _seed_files(workdir, [
        lambda p: write_dicom(p, image),
        lambda p: write_dicom(p, image, slope=2.5, intercept=-10, PhotometricInterpretation="MONOCHROME1"),
        lambda p: deflated_slice(p, image),
        lambda p: rle_bomb(p, 1200, 1200),
        lambda p: deflate_bomb(p, 6 << 20),
        lambda p: write_dicom(p, image, slope=1e36),
    ])


@FUZZ
@given(data=st.data())
def test_dicom_reader(workdir, dicom_seeds, data):
    from skcardio.io import read_dicom

    path = workdir / "fuzz.dcm"
    path.write_bytes(data.draw(mutated(dicom_seeds)))
    with limits_context(**SMALL):
        for pixels in (True, False):
            try:
                dicom = read_dicom(path, pixels=pixels)
            except SkcardioError as exc:
                assert str(exc).startswith(str(path))
                continue
            if pixels:
                assert dicom.image.shape == dicom.shape and dicom.image.dtype == np.float32
                assert np.isfinite(dicom.image).all()
            assert all(not (v <= 0) for v in dicom.pixel_spacing)


@pytest.fixture(scope="module")
def small_dicoms(workdir):
    """Small valid slices of the layouts read_dicom meets: explicit and implicit VR, deflated, with a Modality LUT."""
    from _hostile import deflated_slice, write_dicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ImplicitVRLittleEndian

    image = (np.arange(64).reshape(8, 8) % 13).astype(np.int16)
    item = Dataset()
    item.LUTDescriptor = [16, 0, 16]
    item.ModalityLUTType = "US"
    item.add_new("LUTData", "US", list(range(16)))
    seeds = [
        lambda p: write_dicom(p, image),
        lambda p: write_dicom(p, image, syntax=ImplicitVRLittleEndian, slope=2.5, intercept=-10),
        lambda p: deflated_slice(p, image),
        lambda p: write_dicom(p, image.astype(np.uint16), BitsStored=4, HighBit=3, ModalityLUTSequence=Sequence([item])),
    ]
    (workdir / "small").mkdir()
    return _seed_files(workdir / "small", [lambda p, write=write: _same_uid(write(p)) for write in seeds])


def _same_uid(path):
    """The same bytes at every run: write_dicom draws a new SOPInstanceUID (of varying length), fixed here."""
    import pydicom

    ds = pydicom.dcmread(path)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.save_as(path)


def test_dicom_corruptions(workdir, small_dicoms):
    """A few bytes of a small DICOM changed, its end perhaps cut: a slice, or a DicomReadError naming the file.

    pydicom decodes an element at first use, wherever that is: a garbled VR of the file meta's
    MediaStorageSOPClassUID escaped read_dicom as NotImplementedError (14 of 3000 such corruptions of a real
    file), ending predict, qc, load_dataset and read_cine. read_header decodes every value before it returns,
    and the classification of the files read_cine sets aside (:mod:`skcardio.io._non_images`) never raises.
    Seeded (``SKCARDIO_FUZZ_RANDOM=1``: a new seed each run, printed on failure); ``SKCARDIO_FUZZ_CORRUPTIONS``
    sets how many (300, a few seconds).
    """
    import random
    import warnings

    import pydicom

    from skcardio.exceptions import DicomReadError
    from skcardio.io import read_dicom, read_header
    from skcardio.io._non_images import non_image_reason

    seed = random.randrange(1 << 32) if os.environ.get("SKCARDIO_FUZZ_RANDOM") == "1" else 0
    rng = random.Random(seed)
    path = workdir / "corrupt.dcm"
    refused = 0
    for number in range(int(os.environ.get("SKCARDIO_FUZZ_CORRUPTIONS", "300"))):
        data = bytearray(rng.choice(small_dicoms))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(128, len(data))] = rng.randrange(256)
        if rng.random() < 0.15:
            data = data[: rng.randrange(132, len(data))]
        path.write_bytes(bytes(data))
        case = f"seed {seed}, corruption {number}"
        with limits_context(**SMALL), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # what a damaged file is read with: beside the point
            for read in (lambda: read_dicom(path), lambda: read_dicom(path, pixels=False), lambda: read_header(path)):
                try:
                    result = read()
                    if isinstance(result, pydicom.Dataset):
                        [element.value for element in result.iterall()]  # every value decoded: none fails at first use
                except DicomReadError as exc:
                    assert str(exc).startswith(f"{path}: "), case
                    refused += 1
                    continue
                except Exception as exc:  # noqa: BLE001 - which corruption: to reproduce it
                    raise AssertionError(f"{case}: {type(exc).__name__} escaped: {exc}") from exc
                if not isinstance(result, pydicom.Dataset) and result.image is not None:
                    assert result.image.shape == result.shape and result.image.dtype == np.float32, case
            reason = non_image_reason(path)
            assert reason is None or isinstance(reason, str), case
    assert refused > 100  # the corruptions reach the checks, not only the end of the file


@pytest.fixture(scope="module")
def contour_seeds(workdir):
    from _hostile import long_line_contour, many_points_contour

    return _seed_files(workdir, [
        lambda p: p.write_text("120.50 130.25\n121.00 131.00\n119.75 132.50\n"),
        lambda p: p.write_bytes(b"\xef\xbb\xbf1 1\r\n2 2\r\n3 1\r\n\r\n"),
        lambda p: many_points_contour(p, 6000),
        lambda p: long_line_contour(p, 9000),
    ])


@FUZZ
@given(data=st.data())
def test_contour_reader(workdir, contour_seeds, data):
    from skcardio.io import read_contour

    path = workdir / "fuzz.txt"
    path.write_bytes(data.draw(st.one_of(mutated(contour_seeds), st.binary(max_size=200))))
    with limits_context(**SMALL):
        try:
            points = read_contour(path)
        except SkcardioError as exc:
            assert str(exc).startswith(str(path)) and len(str(exc)) < 2000
            return
    assert points.ndim == 2 and points.shape[1] == 2 and 3 <= len(points) <= SMALL["max_contour_points"]
    assert np.isfinite(points).all()


@pytest.fixture(scope="module")
def layout_root(workdir):
    from _hostile import write_dicom

    from _contour_shapes import SQUARE_I, SQUARE_O

    root = workdir / "data"
    for patient, original in (("P1", "O1"), ("P2", "O2")):
        (root / "dicoms" / patient).mkdir(parents=True)
        write_dicom(root / "dicoms" / patient / "5.dcm", np.zeros((32, 32), np.int16), instance=5)
        for kind, points in (("i", SQUARE_I), ("o", SQUARE_O)):
            folder = root / "contourfiles" / original / f"{kind}-contours"
            folder.mkdir(parents=True)
            (folder / f"IM-0001-0005-{kind}contour-manual.txt").write_text("".join(f"{x} {y}\n" for x, y in points))
    return root


@pytest.fixture(scope="module")
def link_seeds(workdir):
    from _hostile import many_rows_link

    return [
        b"patient_id,original_id\nP1,O1\nP2,O2\n",
        b'patient_id,original_id\n"P1",O1\n"a\nb",\nP1,O1\n../x,O2\n',
        many_rows_link(workdir / "many.csv", 2500).read_bytes(),
    ]


@FUZZ
@given(data=st.data())
def test_link_csv_reader(layout_root, link_seeds, data):
    from skcardio.datasets import scan_layout

    (layout_root / "link.csv").write_bytes(data.draw(mutated(link_seeds)))
    with limits_context(**SMALL):
        try:
            layout = scan_layout(layout_root)
        except SkcardioError as exc:
            assert "link.csv" in str(exc) and len(str(exc)) < 2000
            return
    assert len(layout.slices) <= 2
    assert all(len(item.reason) < 2000 for item in layout.skipped)


@pytest.fixture(scope="module")
def model_seed(workdir):
    import warnings

    from skcardio.segment import UNetSegmenter

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 16, 16)).astype(np.float32)
    y = np.zeros((4, 16, 16), bool)
    y[:, 4:10, 4:10] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: degenerate on purpose
        model = UNetSegmenter(depth=2, base_channels=2, crop_size=16, max_epochs=1, batch_size=4, random_state=0).fit(X, y)
    model.save(workdir / "seed.pt")
    return (workdir / "seed.pt").read_bytes()


@FUZZ
@given(data=st.data())
def test_model_file_reader(workdir, model_seed, data):
    from skcardio.segment import UNetSegmenter

    path = workdir / "fuzz.pt"
    path.write_bytes(data.draw(mutated([model_seed])))
    with limits_context(**SMALL):
        try:
            model = UNetSegmenter.load(path)
        except SkcardioError as exc:
            assert str(exc).startswith(str(path))
            return
    assert model.predict(np.zeros((1, 16, 16), np.float32)).shape == (1, 16, 16)


@pytest.fixture(scope="module")
def image_seeds(workdir):
    import imageio.v3 as iio

    image = (np.arange(64).reshape(8, 8) * 3).astype(np.uint8)
    seeds = []
    for suffix in (".png", ".tif"):
        path = workdir / f"seed{suffix}"
        iio.imwrite(path, image)
        seeds.append(path.read_bytes())
    return seeds


@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".png", ".tif"]))
def test_image_folder_reader(workdir, image_seeds, data, suffix):
    import imageio.v3 as iio

    from skcardio.datasets import load_image_folder

    images, labels = workdir / "images", workdir / "labels"
    shutil.rmtree(images, ignore_errors=True)
    for folder in (images, labels):
        folder.mkdir(exist_ok=True)
    label = np.zeros((8, 8), np.uint8)
    label[2:5, 2:5] = 255
    iio.imwrite(labels / "SC-N-2-IM-0001-0048.png", label)
    (images / f"SC-N-2-IM-0001-0048{suffix}").write_bytes(data.draw(mutated(image_seeds)))
    with limits_context(**SMALL):
        try:
            bunch = load_image_folder(images, labels)
        except SkcardioError as exc:
            assert "SC-N-2-IM-0001-0048" in str(exc) or str(images) in str(exc)
            return
    assert bunch.images.shape == (1, 8, 8) and bunch.y.shape == (1, 8, 8)
