"""Hostile inputs and outputs end to end: confinement to --out, interruptions, one bad file among good ones."""

from __future__ import annotations

import csv
import errno
import logging
import os
import shutil
import signal
import warnings

import numpy as np
import pytest
from _hostile import deflate_bomb, deny_folders, garbled_vr, large_slice, planted_fifo, rle_bomb

from skcardio.cli import _interruptions, main
from skcardio.cli import _predict as predict_module
from skcardio.datasets import get_sample_path
from skcardio.io import limits_context

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs and POSIX signals"),
]

SAMPLE = sorted((get_sample_path() / "dicoms" / "SCD0000201").glob("*.dcm"))


def _everything(folder):
    """{relative path: bytes (or the link's target)} of every entry under ``folder``."""
    found = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[rel] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                found[rel] = open(path, "rb").read()
    return found


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny U-Net trained for one epoch: what it predicts does not matter here."""
    from skcardio.segment import UNetSegmenter

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 32, 32)).astype(np.float32)
    y = np.zeros((4, 32, 32), bool)
    y[:, 10:20, 10:20] = True
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: a degenerate model, as intended
        UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, batch_size=4, random_state=0).fit(X, y).save(path)
    return path


@pytest.fixture
def _predict(model):
    def run(*args):
        return main(["predict", "--model", str(model), *map(str, args), "--no-progress", "--no-overlay"])

    return run


def test_names_from_inputs_stay_inside_out(tmp_path, capsys, _predict):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("..dcm", ".dcm", "a\x01b.dcm", "ok.dcm", "UP.DCM"):
        shutil.copy(SAMPLE[0], inputs / name)
    out = tmp_path / "out"
    assert _predict(inputs, "--out", out) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # nothing beside out
    stems = [row["output_stem"] for row in csv.DictReader((out / "predictions.csv").open())]
    assert sorted(stems) == ["in/.dcm", "in/UP", "in/_", "in/a_b", "in/ok"]  # *.dcm in any case
    assert (out / "in" / "__mask.npy").is_file() and (out / "in" / "a_b_mask.png").is_file()
    shutil.copy(SAMPLE[0], tmp_path / "..dcm")
    assert _predict(tmp_path / "..dcm", "--out", out) == 0  # given directly
    assert (out / "__mask.npy").is_file() and not (tmp_path / "out_mask.npy").exists()


def test_links_inside_out_are_never_followed_for_deleting_or_writing(tmp_path, capsys, caplog, _predict):
    patient = tmp_path / "P"
    patient.mkdir()
    for file in SAMPLE[:2]:
        shutil.copy(file, patient / file.name)
    out = tmp_path / "out"
    assert _predict(patient, "--out", out) == 0
    # An attacker swaps out/P for a link to a folder holding files of the same names.
    victim = tmp_path / "victim"
    shutil.move(out / "P", victim)
    (out / "P").symlink_to(victim)
    before = _everything(victim)
    # A run that makes out/P's files stale must not delete them through the link...
    assert _predict(SAMPLE[2], "--out", out) == 0
    assert _everything(victim) == before
    assert "is a symbolic link, never followed or removed" in caplog.text
    # ... and a run writing into out/P must not write through it.
    assert _predict(patient, "--out", out) == 2
    err = capsys.readouterr().err
    assert f"{out / 'P'} is a symbolic link (to {victim}): outputs are never written through a link" in err
    assert _everything(victim) == before and (out / "P").is_symlink()
    # A link planted on an output's own name is replaced, its target untouched.
    (out / "P").unlink()
    target = tmp_path / "target.png"
    target.write_bytes(b"keep")
    (out / f"{SAMPLE[2].stem}_mask.png").unlink()
    (out / f"{SAMPLE[2].stem}_mask.png").symlink_to(target)
    assert _predict(SAMPLE[2], "--out", out) == 0
    assert target.read_bytes() == b"keep" and not (out / f"{SAMPLE[2].stem}_mask.png").is_symlink()


def test_a_folder_mixing_good_and_hostile_files(tmp_path, make_dicom, capsys, _predict):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = [shutil.copy(file, folder / f"good{i}.dcm") for i, file in enumerate(SAMPLE[:2])]
    rle_bomb(folder / "rle.dcm")
    deflate_bomb(folder / "deflate.dcm", 48 << 20)
    os.mkfifo(folder / "fifo.dcm")
    (folder / "loop.dcm").symlink_to(folder / "loop.dcm")
    image = np.full((16, 16), 100, np.int16)
    make_dicom(folder / "slope.dcm", image, slope=1e36)
    make_dicom(folder / "spacing.dcm", image, spacing=(0, 0))
    make_dicom(folder / "huge_spacing.dcm", image, spacing=(1e200, 1e200))  # was an area of inf: "no PixelSpacing"
    make_dicom(folder / "no_spacing.dcm", image, PixelSpacing=None)
    large_slice(folder / "large.dcm", 4096)
    (folder / "text.dcm").write_text("not a DICOM")
    out = tmp_path / "out"
    with limits_context(max_file_bytes=40 << 20):
        assert _predict(folder, "--out", out) == 1
    err = capsys.readouterr().err
    rows = {row["dicom_path"]: row for row in csv.DictReader((out / "predictions.csv").open())}
    assert set(rows) == {str(p) for p in good} | {str(folder / "no_spacing.dcm")}
    for path in good:
        assert (out / "mixed" / f"{os.path.basename(path)[:-4]}_mask.npy").is_file()
    assert rows[str(folder / "no_spacing.dcm")]["area_mm2"] == ""
    expected = {
        "rle.dcm": "claims an image of 65535 x 65535 pixels",
        "deflate.dcm": "decompression bomb",
        "fifo.dcm": "is a pipe (FIFO)",
        "loop.dcm": "symbolic link loop",
        "slope.dcm": "RescaleSlope (0028,1053) 1e+36",
        "spacing.dcm": "PixelSpacing (0028,0030) '0.0\\\\0.0' is not physical: expected pixel spacings within",
        "huge_spacing.dcm": "PixelSpacing (0028,0030) '1e+200\\\\1e+200' is not physical",
        "large.dcm": "an image of 4096 x 4096 = 16777216 pixels exceeds the limit max_predict_pixels",
        "text.dcm": "not a DICOM file",
    }
    assert "9 file(s) skipped:" in err and "1 warning(s):" in err
    for name, says in expected.items():
        assert f"  {folder / name}: " in err and says in err, name
    assert "no_spacing.dcm: no PixelSpacing (0028,0030): area_mm2 left blank" in err
    assert "Traceback" not in err


def test_a_file_with_a_garbled_header_is_skipped_the_others_predicted(tmp_path, capsys, _predict):
    """One corrupt byte in (0002,0002)'s VR: pydicom's NotImplementedError ended predict, every slice's outputs lost."""
    folder = tmp_path / "P"
    folder.mkdir()
    good = [shutil.copy(file, folder / file.name) for file in SAMPLE[:2]]
    bad = garbled_vr(shutil.copy(SAMPLE[2], folder / "bad_vr.dcm"))
    out = tmp_path / "out"
    assert _predict(folder, "--out", out) == 1
    err = capsys.readouterr().err
    assert (f"1 file(s) skipped:\n  {bad}: truncated or corrupt DICOM: cannot convert MediaStorageSOPClassUID "
            "(0002,0002) (NotImplementedError: Unknown Value Representation '0x55 0xf6' in tag (0002,0002))\n") in err
    assert "Traceback" not in err
    assert sorted(row["dicom_path"] for row in csv.DictReader((out / "predictions.csv").open())) == sorted(map(str, good))


@pytest.mark.parametrize("error, reason", [
    (TypeError("unsupported operand\nsecond line"),
     "unexpected TypeError: unsupported operand (a defect in skcardio; please report it with the traceback that "
     "skcardio -v logs)"),
    (MemoryError(), "cannot be read: out of memory (MemoryError)"),
])
def test_an_unexpected_error_reading_one_file_skips_that_file(tmp_path, capsys, caplog, monkeypatch, _predict,
                                                               error, reason):
    """Any exception but a SkcardioError met reading one file ended the run with a traceback, the others lost."""
    import skcardio.io

    read_dicom = skcardio.io.read_dicom

    def reading(path, *args, **kwargs):
        if os.fspath(path) == str(SAMPLE[1]):
            raise error
        return read_dicom(path, *args, **kwargs)

    monkeypatch.setattr(skcardio.io, "read_dicom", reading)
    caplog.set_level(logging.DEBUG, logger="skcardio.cli.predict")
    out = tmp_path / "out"
    assert _predict(*SAMPLE[:3], "--out", out) == 1
    err = capsys.readouterr().err
    assert f"1 file(s) skipped:\n  {SAMPLE[1]}: {reason}\n" in err and "Traceback" not in err
    rows = csv.DictReader((out / "predictions.csv").open())
    assert sorted(row["dicom_path"] for row in rows) == [str(SAMPLE[0]), str(SAMPLE[2])]
    # The traceback is logged at debug level (skcardio -v), on predict's logger.
    [logged] = [r for r in caplog.records if r.name == "skcardio.cli.predict" and r.exc_info]
    assert logged.getMessage() == f"{SAMPLE[1]}: traceback of the unexpected error" and logged.exc_info[1] is error


def test_an_unreadable_subfolder_is_reported_and_the_rest_predicted(tmp_path, capsys, monkeypatch, _predict):
    folder = tmp_path / "P1"
    (folder / "extra").mkdir(parents=True)
    shutil.copy(SAMPLE[0], folder / "1.dcm")
    shutil.copy(SAMPLE[1], folder / "extra" / "2.dcm")
    deny_folders(monkeypatch, folder / "extra")
    out = tmp_path / "out"
    assert _predict(folder, "--out", out) == 1  # was 0, extra/2.dcm left out without a word
    err = capsys.readouterr().err
    assert f"1 file(s) skipped:\n  {folder / 'extra'}: cannot read folder: permission denied" in err
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert [row["output_stem"] for row in rows] == ["P1/1"]


def test_folders_nested_too_deeply_are_reported_and_the_rest_predicted(tmp_path, capsys, _predict):
    """1100 nested folders raised RecursionError: listing them (os.walk), then making their outputs' folders."""
    from _hostile import nested_folders

    folder = tmp_path / "P1"
    folder.mkdir()
    shutil.copy(SAMPLE[0], folder / "1.dcm")
    with nested_folders(folder) as deepest:
        shutil.copy(SAMPLE[1], deepest / "2.dcm")
        shutil.copy(SAMPLE[2], folder.joinpath(*["d"] * 100, "3.dcm"))  # at the bound: read
        out = tmp_path / "out"
        assert _predict(folder, "--out", out) == 1
        err = capsys.readouterr().err
        assert f"1 file(s) skipped:\n  {folder.joinpath(*['d'] * 101)}: folder nested more than 100 levels deep" in err
        rows = list(csv.DictReader((out / "predictions.csv").open()))
        assert [row["output_stem"] for row in rows] == ["P1/1", "P1/" + "d/" * 100 + "3"]


def test_a_link_or_a_pipe_planted_as_series_csv_is_not_read(tmp_path, caplog, _predict):
    """series.csv was read through a link (deciding what was deleted) and a FIFO hung predict after all the work."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    planted = tmp_path / "planted.csv"
    planted.write_text("file\nmine.txt\n")
    (out / "series.csv").symlink_to(planted)
    assert _predict(SAMPLE[0], "--out", out) == 0
    assert (out / "mine.txt").read_text() == "mine" and planted.read_text() == "file\nmine.txt\n"
    assert f"{out / 'series.csv'}: not read as the record of an earlier run (a symbolic link" in caplog.text

    (out / "series.csv").unlink()
    with planted_fifo(out / "series.csv") as fifo:
        assert _predict(SAMPLE[0], "--out", out) == 0
    assert not fifo["released"], "predict waited on the FIFO"
    assert "is a pipe (FIFO), expected a regular CSV file" in caplog.text
    assert (out / "series.csv").is_fifo() and (out / "mine.txt").read_text() == "mine"  # not predict's: kept


@pytest.fixture
def _signals_not_ignored():
    """Default dispositions for the signals these tests send themselves.

    A test run started with ``nohup`` or ``&`` inherits SIGHUP / SIGINT ignored, and the CLI rightly
    keeps an ignored signal ignored, so the tests would see no interruption at all.
    """
    names = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {signum: signal.getsignal(signum) for signum in names}
    for signum, handler in previous.items():
        if handler is signal.SIG_IGN:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_while_working_leaves_out_unchanged_and_no_staging_folder(
    tmp_path, capsys, monkeypatch, signum, _predict, _signals_not_ignored
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.txt").write_text("mine")

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signum)
        raise AssertionError("the signal did not interrupt")  # pragma: no cover

    monkeypatch.setattr(predict_module, "_write_outputs", killed)
    assert _predict(SAMPLE[0], "--out", out) == 128 + signum
    name = signal.Signals(signum).name
    assert capsys.readouterr().err.endswith(
        f"skcardio predict: interrupted ({name}); {out} left unchanged (nothing of this run was written there)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["earlier.txt"]  # no hidden staging folder
    assert _everything(out) == {"earlier.txt": b"mine"}


def test_a_signal_while_publishing_waits_until_every_file_is_in_place(tmp_path, capsys, monkeypatch, _predict, _signals_not_ignored):
    out = tmp_path / "out"
    real_replace = os.replace
    sent = []

    def replace_then_signal(source, dest):
        real_replace(source, dest)
        if not sent:  # after the first file moved: the rest must follow
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace_then_signal)
    assert _predict(*SAMPLE[:2], "--out", out) == 130
    assert capsys.readouterr().err.endswith(
        f"skcardio predict: interrupted (SIGINT); {out} already holds this run's complete outputs "
        "(published before the interruption)\n"
    )
    monkeypatch.undo()
    names = set(_everything(out))
    assert {"predictions.csv"} | {f"{f.stem}_mask.npy" for f in SAMPLE[:2]} <= names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_deferred_signals_are_raised_after_the_block(_signals_not_ignored):
    with _interruptions.catching_signals():
        with pytest.raises(_interruptions.Interrupted) as info:
            with _interruptions.deferred_signals():
                os.kill(os.getpid(), signal.SIGTERM)
                done = True
        assert done and info.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_qc_and_evaluate_list_unreadable_files_and_exit_1(make_layout, capsys):
    from _contour_shapes import SQUARE_I, SQUARE_O

    slices = {n: {"i": SQUARE_I, "o": SQUARE_O} for n in (5, 6, 7)}
    root = make_layout({"P1": ("O1", dict(slices)), "P2": ("O2", dict(slices))})
    rle_bomb(root / "dicoms" / "P1" / "6.dcm")
    (root / "contourfiles" / "O2" / "i-contours" / "IM-0001-0007-icontour-manual.txt").write_text("1 1\n" + "9" * 10_000 + "\n")
    assert main(["qc", str(root)]) == 1
    err = capsys.readouterr().err
    assert "2 file(s) skipped:" in err and "65535 x 65535" in err and "max_line_chars" in err
    assert main(["evaluate", str(root), "--out", str(root.parent / "ev"), "--no-plots", "--cv", "0", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "2 file(s) skipped:" in err and "unreadable DICOM" in err and "unreadable contour" in err
    # The layout's pixels are 0.7 x 0.8 mm: the MICCAI rules need square pixels, so APD falls back
    # to the geometric definition for those slices, said once, instead of failing the run.
    assert "non-square pixels" in err and "geometric definition" in err
    assert (root.parent / "ev" / "per_slice.csv").is_file()


def test_qc_lists_a_dicom_with_a_garbled_header_and_checks_the_others(make_layout, capsys):
    """One corrupt byte in (0002,0002)'s VR: pydicom's NotImplementedError ended qc."""
    from _contour_shapes import SQUARE_I, SQUARE_O

    root = make_layout({"P1": ("O1", {n: {"i": SQUARE_I, "o": SQUARE_O} for n in (5, 6, 7)})})
    bad = garbled_vr(root / "dicoms" / "P1" / "6.dcm")
    assert main(["qc", str(root)]) == 1
    captured = capsys.readouterr()
    assert (f"1 file(s) skipped:\n  {bad}: unreadable_dicom: {bad}: truncated or corrupt DICOM: cannot convert "
            "MediaStorageSOPClassUID (0002,0002)") in captured.err
    assert "Traceback" not in captured.err
    rows = [line.split()[:2] for line in captured.out.splitlines() if line.startswith("P1 ")]
    assert rows == [["P1", "5"], ["P1", "6"], ["P1", "7"]], captured.out  # the others checked, the bad one flagged


def test_a_run_that_segments_nothing_leaves_out_as_it_was(tmp_path, capsys, _predict):
    """Every input failing is no reason to delete the earlier run's outputs (exit 1, nothing removed)."""
    out = tmp_path / "out"
    assert _predict(SAMPLE[0], "--out", out) == 0
    before = _everything(out)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "t.dcm").write_text("not a DICOM")
    assert _predict(tmp_path / "bad" / "t.dcm", "--out", out) == 1
    captured = capsys.readouterr()
    assert f"segmented no slice: {out} left unchanged; 1 skipped" in captured.out
    assert f"{tmp_path / 'bad' / 't.dcm'}: not a DICOM file" in captured.err and "removed" not in captured.err
    assert _everything(out) == before
    # Into a new folder: nothing created at all.
    assert _predict(tmp_path / "bad" / "t.dcm", "--out", tmp_path / "new") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "out"]


def test_a_name_too_long_for_the_file_system_is_shortened(tmp_path, capsys, _predict):
    """A valid 245-character name: its outputs get its start and a hash, the batch goes on (it aborted, exit 2)."""
    folder = tmp_path / "ln"
    folder.mkdir()
    long = "L" * 245
    shutil.copy(SAMPLE[0], folder / f"{long}.dcm")
    shutil.copy(SAMPLE[1], folder / "ok.dcm")
    out = tmp_path / "out"
    assert _predict(folder, "--out", out, "--no-overlay") == 0
    rows = {row["dicom_path"]: row["output_stem"] for row in csv.DictReader((out / "predictions.csv").open())}
    stem = rows[str(folder / f"{long}.dcm")]
    assert stem.startswith("ln/" + "L" * 200) and "~" in stem and len(stem) - 3 + len("_overlay.png") == 255
    assert (out / f"{stem}_mask.npy").is_file() and (out / f"{stem}_mask.png").is_file()
    assert rows[str(folder / "ok.dcm")] == "ln/ok"
    err = capsys.readouterr().err
    assert f"  {folder / long}.dcm: outputs named {stem}: the name is too long for a file system" in err
    # The same name on the next run: the earlier outputs are replaced, not doubled.
    written = sorted(p.name for p in (out / "ln").iterdir())
    assert _predict(folder, "--out", out, "--no-overlay") == 0
    assert sorted(p.name for p in (out / "ln").iterdir()) == written


def test_a_path_too_long_skips_that_slice_only(tmp_path, capsys, monkeypatch, _predict):
    real = predict_module._write_outputs

    def too_long(stage, stem, *args, **kwargs):
        if stem.name == SAMPLE[0].stem:
            (stage / f"{stem}_mask.npy").write_bytes(b"partial")
            raise OSError(errno.ENAMETOOLONG, "File name too long", str(stage / f"{stem}_overlay.png"))
        return real(stage, stem, *args, **kwargs)

    monkeypatch.setattr(predict_module, "_write_outputs", too_long)
    out = tmp_path / "out"
    assert _predict(*SAMPLE[:2], "--out", out) == 1
    err = capsys.readouterr().err
    assert f"  {SAMPLE[0]}: its output path {SAMPLE[0].stem}_... is too long for the file system" in err
    assert not (out / f"{SAMPLE[0].stem}_mask.npy").exists() and (out / f"{SAMPLE[1].stem}_mask.npy").is_file()


def test_inputs_with_the_same_output_name_are_all_predicted(tmp_path, capsys, _predict):
    """k/a/P1/1.dcm and k/b/P1/1.dcm: a/P1/1 and b/P1/1; X.dcm and X.DCM: the later one gets _2.

    The whole batch was refused; then k/b/P1/1.dcm got P1/1_2.
    """
    for folder, source in (("a", SAMPLE[0]), ("b", SAMPLE[1])):
        (tmp_path / "k" / folder / "P1").mkdir(parents=True)
        shutil.copy(source, tmp_path / "k" / folder / "P1" / "1.dcm")
    (tmp_path / "xx").mkdir()
    shutil.copy(SAMPLE[0], tmp_path / "xx" / "X.dcm")
    shutil.copy(SAMPLE[1], tmp_path / "xx" / "X.DCM")
    out = tmp_path / "out"
    first, second = tmp_path / "k" / "a" / "P1", tmp_path / "k" / "b" / "P1"
    assert _predict(first, second, tmp_path / "xx", "--out", out) == 0
    rows = {row["dicom_path"]: row["output_stem"] for row in csv.DictReader((out / "predictions.csv").open())}
    assert rows == {str(first / "1.dcm"): "a/P1/1", str(second / "1.dcm"): "b/P1/1",
                    str(tmp_path / "xx" / "X.DCM"): "xx/X", str(tmp_path / "xx" / "X.dcm"): "xx/X_2"}
    assert np.load(out / "b" / "P1" / "1_mask.npy").shape == (256, 256)
    err = capsys.readouterr().err
    xx = tmp_path / "xx"
    assert f"1 warning(s):\n  {xx / 'X.dcm'}: outputs named xx/X_2: xx/X is already the name of another output ({xx / 'X.DCM'})" in err


def test_out_inside_an_input_folder_is_refused(tmp_path, capsys, _predict):
    """predict io --out io/res read its own series SEG files back on the next run."""
    folder = tmp_path / "io"
    folder.mkdir()
    for file in SAMPLE[:2]:
        shutil.copy(file, folder / file.name)
    before = _everything(folder)
    assert _predict(folder, "--out", folder / "res") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skcardio predict: error: --out {folder / 'res'}: lies inside the input folder {folder}")
    # Outputs landing in the input folder from outside it: refused too.
    assert _predict(folder, "--out", tmp_path) == 2
    assert "would be written inside the input folder" in capsys.readouterr().err
    assert _everything(folder) == before and sorted(p.name for p in tmp_path.iterdir()) == ["io"]
    # An input file inside --out is fine while no output is an input.
    assert _predict(folder / SAMPLE[0].name, "--out", folder) == 0
    assert (folder / f"{SAMPLE[0].stem}_mask.npy").is_file()


def test_a_dicom_seg_is_not_an_image(tmp_path, make_dicom, capsys, _predict):
    seg = make_dicom(tmp_path / "series1_seg.dcm", np.zeros((16, 16), np.uint16),
                     SOPClassUID="1.2.840.10008.5.1.4.1.1.66.4", Modality="SEG")
    out = tmp_path / "out"
    assert _predict(seg, SAMPLE[0], "--out", out) == 1
    err = capsys.readouterr().err
    assert f"  {seg}: a DICOM SEG (Segmentation Storage), not an image: expected an MR image" in err
    assert [row["dicom_path"] for row in csv.DictReader((out / "predictions.csv").open())] == [str(SAMPLE[0])]
    # A SEG of several frames (what --dicom-seg writes for a series) is named as such too, not by its frames.
    frames = make_dicom(tmp_path / "series2_seg.dcm", np.zeros((16, 16), np.uint16),
                        SOPClassUID="1.2.840.10008.5.1.4.1.1.66.4", Modality="SEG", NumberOfFrames=3)
    assert _predict(frames, SAMPLE[0], "--out", out) == 1
    assert f"  {frames}: a DICOM SEG (Segmentation Storage), not an image" in capsys.readouterr().err
