"""``skcardio predict`` on a cohort: memory flat in the number of slices.

Every mask of every series was held until the series files were written
(~68 KB a 256 x 256 slice), and every row of ``predictions.csv`` until the
end (~4.5 KB a slice): ~87 GB for a cohort of 1.2 M slices. Now the rows go
to the staged file batch by batch, and the series are read back from the
staged masks one at a time.
"""

from __future__ import annotations

import csv
import gc
import shutil
import warnings
import weakref

import numpy as np
import pytest
from pydicom.uid import generate_uid

from _cine_studies import BrightDisc, write_study

import skcardio.cli._series as series_module
from skcardio.cli import main
from skcardio.cli._output import STAGE_PREFIX
from skcardio.io import read_dicom, write_nifti
from skcardio.segment import UNetSegmenter

nib = pytest.importorskip("nibabel")


def _predict(*argv):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(["predict", *map(str, argv), "--no-progress"])


def _use(monkeypatch, model):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: model))


def _studies(make_dicom, folder, names=("a", "b", "c"), **kw):
    """A study (one series) per name under ``folder``; {name: {(phase, slice): path}}."""
    return {name: write_study(make_dicom, folder / name, n_phases=2, n_slices=3, StudyInstanceUID=generate_uid(),
                              FrameOfReferenceUID=generate_uid(), **kw) for name in names}


def test_one_series_masks_at_a_time(tmp_path, make_dicom, monkeypatch):
    """The masks of every series were stacked before the first series file was written."""
    _studies(make_dicom, tmp_path / "in")
    _use(monkeypatch, BrightDisc())
    real, held, alive = series_module._write_nifti, [], []

    def writing(stage, base, masks, *args, **kwargs):
        gc.collect()
        alive.append([ref() is not None for ref in held])
        held.append(weakref.ref(masks))
        return real(stage, base, masks, *args, **kwargs)

    monkeypatch.setattr(series_module, "_write_nifti", writing)
    out = tmp_path / "out"
    assert _predict(tmp_path / "in", "--out", out, "--nifti") == 0
    assert alive == [[], [False], [False, False]]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.nii.gz")) == [
        f"in/{name}/series5_mask.nii.gz" for name in "abc"
    ]


class _Watching(BrightDisc):
    """The bright disc, noting how many rows the staged ``predictions.csv`` holds as each batch is segmented."""

    def __init__(self, out):
        self.out, self.seen = out, []

    def predict_with_proba(self, images):
        stages = list(self.out.glob(f"{STAGE_PREFIX}predict-*"))
        assert len(stages) == 1
        staged = stages[0] / "predictions.csv"
        lines = len(staged.read_text(encoding="utf-8").splitlines()) if staged.exists() else None
        self.seen.append(lines if lines is None else max(lines - 1, 0))  # rows, less the header
        return super().predict_with_proba(images)


def test_predictions_csv_is_staged_batch_by_batch(tmp_path, make_dicom, monkeypatch):
    """Every row was kept in memory and the file written at the end (~4.5 KB a slice)."""
    _studies(make_dicom, tmp_path / "in", names=("a",))  # 6 slices
    out = tmp_path / "out"
    model = _Watching(out)
    _use(monkeypatch, model)
    assert _predict(tmp_path / "in", "--out", out, "--batch-size", "2") == 0
    assert model.seen == [0, 2, 4]  # each batch's rows are there before the next batch is segmented
    with (out / "predictions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["output_stem"] for row in rows] == [f"in/a/{n}" for n in range(1, 7)]
    assert not list(out.glob(f"{STAGE_PREFIX}*"))


def test_outputs_of_interleaved_series(tmp_path, make_dicom, monkeypatch):
    """Two series of one number in one folder, their files interleaved, across batches: grouped as before.

    A pin of the outputs (the code before streaming gives the same): series
    in order of appearance, the second ``series5-2``, slices in file order.
    """
    studies = _studies(make_dicom, tmp_path / "w", names=("x", "y"), series_number=5)
    folder = tmp_path / "in" / "p"
    folder.mkdir(parents=True)
    for name, files in studies.items():
        for path in files.values():
            shutil.copyfile(path, folder / f"{path.stem}{name}.dcm")  # 1x, 1y, 2x, 2y, ...
    _use(monkeypatch, BrightDisc())
    out = tmp_path / "out"
    assert _predict(tmp_path / "in", "--out", out, "--nifti", "--batch-size", "5") == 0
    with (out / "series.csv").open(encoding="utf-8", newline="") as handle:
        index = [(r["series_number"], r["format"], r["slices"], r["file"]) for r in csv.DictReader(handle)]
    assert index == [("5", "nifti", "6", "in/p/series5_mask.nii.gz"), ("5", "nifti", "6", "in/p/series5-2_mask.nii.gz")]
    with (out / "predictions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["output_stem"] for row in rows] == [f"in/p/{n}{s}" for n in range(1, 7) for s in "xy"]
    for file, s in (("series5", "x"), ("series5-2", "y")):
        stems = [f"{n}{s}" for n in range(1, 7)]
        expected = tmp_path / f"{s}.nii.gz"
        masks = np.stack([np.load(out / "in" / "p" / f"{stem}_mask.npy") for stem in stems])
        write_nifti(masks, [read_dicom(folder / f"{stem}.dcm", pixels=False) for stem in stems], expected,
                    description="skcardio UNetSegmenter")
        got, want = nib.load(out / "in" / "p" / f"{file}_mask.nii.gz"), nib.load(expected)
        np.testing.assert_array_equal(np.asarray(got.dataobj), np.asarray(want.dataobj))
        np.testing.assert_array_equal(got.affine, want.affine)
        assert np.asarray(got.dataobj).any()


def test_series_slices_read_back_any_name(tmp_path):
    """A name with a newline, a tab or a byte that is not UTF-8 comes back as it was, series by series."""
    from skcardio.cli._series import SeriesSlices

    class Header:
        def __init__(self, path, uid, number):
            self.path, self.series_uid, self.series_number = path, uid, number

    names = ["a\nb.dcm", "t\tab.dcm", "bad\udcff.dcm", "plain.dcm"]
    with SeriesSlices(tmp_path) as slices:
        for i, name in enumerate(names):
            slices.add(Header(str(tmp_path / name), "1.2" if i % 2 else "1.3", None if i % 2 else 7), f"p/{name}")
        assert len(slices) == 4
        assert list(slices.series()) == [
            ("1.3", "7", [(str(tmp_path / names[0]), f"p/{names[0]}"), (str(tmp_path / names[2]), f"p/{names[2]}")]),
            ("1.2", "", [(str(tmp_path / names[1]), f"p/{names[1]}"), (str(tmp_path / names[3]), f"p/{names[3]}")]),
        ]
    assert list(tmp_path.iterdir()) == []  # unnamed: nothing to publish, nothing left


def test_many_skipped_files_are_counted_all_and_fifty_listed(tmp_path, make_dicom, monkeypatch, capsys):
    """Only the first 50 skipped files are kept for the list at the end; the count is of all."""
    _studies(make_dicom, tmp_path / "in", names=("a",))
    for i in range(60):
        (tmp_path / "in" / "a" / f"junk{i}.dcm").write_bytes(b"not DICOM")
    _use(monkeypatch, BrightDisc())
    assert _predict(tmp_path / "in", "--out", tmp_path / "out") == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1].endswith("segmented 6 slice(s) into " + str(tmp_path / "out") + "; 60 skipped")
    err = captured.err.splitlines()
    assert "60 file(s) skipped:" in err
    assert sum(line.startswith(f"  {tmp_path / 'in' / 'a' / 'junk'}") for line in err) == 50
    assert "  ... and 10 more" in err


def test_a_batch_jobs_log_gets_progress_lines(tmp_path, make_dicom, monkeypatch, capsys):
    """stderr not a terminal: tqdm showed nothing for a whole cohort; now a line per interval (here each batch)."""
    from skcardio.cli import _progress

    _studies(make_dicom, tmp_path / "in", names=("a",))  # 6 slices
    _use(monkeypatch, BrightDisc())
    monkeypatch.setattr(_progress, "LOG_INTERVAL", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["predict", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--batch-size", "3"]) == 0
    lines = [line.split(" in ")[0] for line in capsys.readouterr().err.splitlines() if line.startswith("predict: ")]
    assert lines == ["predict: 3/6 slice(s) (50 %)", "predict: 6/6 slice(s) (100 %)"]
