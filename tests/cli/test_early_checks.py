"""Every command checks where its outputs go before the slow part, and names the first mistake first.

``--out`` that is an input is told before an output name squatted by a
folder (that folder is then an input's own); a squatted name is told before
any image is segmented.
"""

from __future__ import annotations

import argparse
import shutil

import numpy as np
import pytest

from _cine_studies import write_study

from skcardio.cli import main
from skcardio.datasets import get_sample_path
from skcardio.segment import UNetSegmenter


class _Never:
    """A stand-in U-Net that fails the test when asked to segment."""

    target_ = "endocardium"

    def predict_with_proba(self, images):
        pytest.fail("segmented before the destinations were checked")

    def predict(self, images):
        pytest.fail("segmented before the destinations were checked")


def _disc(make_dicom, path):
    rows, cols = np.mgrid[:40, :40]
    return make_dicom(path, np.where((rows - 20) ** 2 + (cols - 20) ** 2 <= 36, 500, 100).astype(np.int16))


@pytest.mark.parametrize("squatted", ["predictions.csv", "in/1_mask.png", "series.csv"])
def test_predict_checks_its_destinations_before_segmenting(squatted, tmp_path, make_dicom, monkeypatch, capsys):
    # It segmented every slice, then failed with "is a directory" and wrote nothing.
    pytest.importorskip("nibabel")
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Never()))
    (tmp_path / "in").mkdir()
    _disc(make_dicom, tmp_path / "in" / "1.dcm")
    out = tmp_path / "out"
    (out / squatted).mkdir(parents=True)
    argv = ["predict", str(tmp_path / "in"), "--model", "m.pt", "--out", str(out), "--no-progress", "--nifti"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f"skcardio predict: error: {out / squatted} is a directory, expected a file that can be "
                   f"replaced; {out} left unchanged\n")


def test_predict_checks_only_the_files_it_writes(tmp_path, make_dicom):
    from skcardio.cli._predict import _output_names, collect_dicoms

    (tmp_path / "in").mkdir()
    _disc(make_dicom, tmp_path / "in" / "1.dcm")
    pairs = collect_dicoms([str(tmp_path / "in")])
    args = argparse.Namespace(no_overlay=True, dicom_seg=False, nifti=False)  # a folder may be named 1_overlay.png
    assert list(_output_names(pairs, args)) == ["predictions.csv", "in/1_mask.npy", "in/1_mask.png", "in/1_contour.txt"]


def test_report_out_that_is_the_input_is_told_first(tmp_path, make_dicom, monkeypatch, capsys):
    # A patient folder named report.csv was told as "in5/report.csv is a directory".
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: _Never()))
    root = tmp_path / "in5"
    write_study(make_dicom, root / "report.csv", n_phases=2, n_slices=2)
    write_study(make_dicom, root / "A", n_phases=2, n_slices=2)
    assert main(["report", str(root), "--out", str(root), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio report: error: --out {root}: is the input {root}; "), err


def test_evaluate_out_that_is_the_input_is_told_first(tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(get_sample_path(), root)
    (root / "per_slice.csv").mkdir()
    assert main(["evaluate", str(root), "--out", str(root), "--no-progress", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio evaluate: error: --out {root}: is the input {root}; "), err


def test_predict_out_that_is_the_input_is_told_first(tmp_path, make_dicom, monkeypatch, capsys):
    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, **kw: _Never()))
    root = tmp_path / "in"
    (root / "predictions.csv").mkdir(parents=True)
    _disc(make_dicom, root / "1.dcm")
    assert main(["predict", str(root), "--model", "m.pt", "--out", str(root), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio predict: error: --out {root}: is the input {root}; "), err
