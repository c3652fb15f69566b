"""``skcardio evaluate`` end to end, on the embedded sample and altered copies."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _hostile import planted_fifo
from _locks import locked_by_another, needs_flock
from scipy import ndimage

from _image_folders import write_image_folder

from skcardio.cli import main
from skcardio.cli._evaluate import CSV_FIELDS, METHODS
from skcardio.datasets import get_sample_path, load_sample


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _misaligned_sample(tmp_path: Path) -> Path:
    """Copy of the sample with one o-contour shifted 40 px (QC flags i_outside_o)."""
    root = tmp_path / "data"
    shutil.copytree(get_sample_path(), root)
    path = root / "contourfiles" / "SC-HF-I-2" / "o-contours" / "IM-0001-0120-ocontour-manual.txt"
    points = np.loadtxt(path)
    np.savetxt(path, points + [40.0, 0.0], fmt="%.2f")
    return root


def test_sample_two_methods(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on a terminal: the bar shows
    assert main(["evaluate", "--method", "otsu", "--method", "li", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    # header, a table row per method, the CV used
    assert "12 slice(s) with both contours from 3 patient(s) (embedded sample)" in captured.out
    assert "3-fold patient-grouped CV (3 patients)" in captured.out
    table_rows = [line for line in captured.out.splitlines() if line.startswith(("otsu ", "li "))]
    assert len(table_rows) == 2 and "±" in table_rows[0]
    # the progress bar went to stderr
    assert "evaluate: 100%" in captured.err and "6/6" in captured.err

    rows = _rows(out / "per_slice.csv")
    assert list(rows[0]) == list(CSV_FIELDS)
    assert [r["method"] for r in rows] == ["otsu"] * 12 + ["li"] * 12
    for row in rows:
        iou, dice = float(row["iou"]), float(row["dice"])
        assert 0 <= iou <= dice <= 1
        assert dice == pytest.approx(2 * iou / (1 + iou), abs=1e-5)
        assert row["good_contour"] == str(int(float(row["apd_mm"]) < 5.0))
        assert 0 <= float(row["ks_pvalue"]) <= 1
    # every patient is tested in exactly one fold
    folds = {(r["patient_id"], r["fold"]) for r in rows}
    assert len(folds) == 3 and {f for _, f in folds} == {"0", "1", "2"}

    summary = _rows(out / "summary.csv")
    assert [(r["slices"], r["method"]) for r in summary] == [
        ("all", "otsu"), ("all", "li"), ("clean", "otsu"), ("clean", "li")
    ]
    otsu_iou = np.mean([float(r["iou"]) for r in rows if r["method"] == "otsu"])
    assert float(summary[0]["iou_mean"]) == pytest.approx(otsu_iou, rel=1e-5)
    # the summary printed is the one written
    assert f"{otsu_iou:.3f} ±" in table_rows[0]

    expected = {"per_slice.csv", "summary.csv", "histograms.png", "thresholds.png",
                "scores_otsu.png", "overlays_otsu.png", "scores_li.png", "overlays_li.png", "evaluate.json"}
    assert {p.name for p in out.iterdir()} == expected
    assert set(json.loads((out / "evaluate.json").read_text())["files"]) == expected  # its record
    assert all((out / name).stat().st_size > 1000 for name in expected if name.endswith(".png"))


def test_scores_match_the_library(tmp_path):
    """The CLI's Otsu IoU per slice is ThresholdSegmenter's inside the o-contour."""
    from skcardio.metrics import iou_score
    from skcardio.segment import ThresholdSegmenter

    out = tmp_path / "out"
    assert main(["evaluate", "--out", str(out), "--cv", "0", "--no-plots", "--no-progress"]) == 0
    rows = _rows(out / "per_slice.csv")
    data = load_sample(require="o-contour")
    images = np.where(data.regions, data.images, np.nan)
    expected = iou_score(data.y, ThresholdSegmenter().fit(images).predict(images), per_slice=True)
    by_slice = {(r["patient_id"], int(r["instance"])): float(r["iou"]) for r in rows}
    got = [by_slice[(p, int(i))] for p, i in zip(data.frame.patient_id, data.frame.instance)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert {r["fold"] for r in rows} == {"0"}
    assert {p.name for p in out.iterdir()} == {"per_slice.csv", "summary.csv", "evaluate.json"}


def test_apd_falls_back_to_geometric_exactly_where_the_metric_refuses_miccai2009(capsys):
    from skcardio.cli._evaluate import _apd, _non_square_message
    from skcardio.io import mask_to_contour
    from skcardio.metrics import average_perpendicular_distance

    expert = np.zeros((16, 16), bool)
    expert[4:11, 4:11] = True
    y_pred = np.zeros((3, 16, 16), bool)
    y_pred[:, 5:12, 3:9] = True
    experts = [mask_to_contour(expert)] * 3
    # Columns 0.09 % and 0.11 % wider than rows: inside and outside the metric's 0.1 % for square pixels.
    spacing = np.array([[1.0, 1.0], [1.0, 1.0009], [1.0, 1.0011]])
    apd = _apd(experts, y_pred, spacing)
    for i, definition in enumerate(["miccai2009", "miccai2009", "geometric"]):
        alone = average_perpendicular_distance([experts[i]], y_pred[i : i + 1], spacing=spacing[i], definition=definition)
        assert apd[i] == alone
    geometric = average_perpendicular_distance(experts[1:2], y_pred[1:2], spacing=spacing[1], definition="geometric")
    assert abs(apd[1] - geometric) > 0.01  # the definitions differ on these shapes: the choice shows
    with pytest.raises(ValueError, match="needs square pixels"):
        average_perpendicular_distance(experts[2:], y_pred[2:], spacing=spacing[2], definition="miccai2009")
    assert capsys.readouterr().err == ""  # said once for the run, by run itself
    labels = ["a", "b", "c"]
    assert _non_square_message(spacing, labels.__getitem__) == (
        "1 slice(s) with non-square pixels (c): APD by the geometric definition, "
        "as the MICCAI 2009 rules measure in square pixels"
    )
    assert _non_square_message(spacing[:2], labels.__getitem__) is None


def test_qc_flagged_slices_reported_and_excluded(tmp_path, capsys):
    root = _misaligned_sample(tmp_path)
    quiet = ["--no-plots", "--no-progress"]
    assert main(["evaluate", str(root), "--out", str(tmp_path / "kept"), *quiet]) == 0
    kept = capsys.readouterr().out
    assert "1 QC-flagged slice(s) kept" in kept
    assert "QC-flagged slices only (1)" in kept and "clean slices only (11)" in kept
    assert "SCD0000201/120: i_outside_o (evaluated)" in kept
    rows = _rows(tmp_path / "kept" / "per_slice.csv")
    flagged = [r for r in rows if r["qc_flags"]]
    assert [(r["patient_id"], r["instance"], r["qc_flags"]) for r in flagged] == [
        ("SCD0000201", "120", "i_outside_o")
    ]
    # the shifted region cuts the blood pool: the flagged slice scores worst
    assert float(flagged[0]["iou"]) == min(float(r["iou"]) for r in rows)

    out = tmp_path / "excluded"
    assert main(["evaluate", str(root), "--exclude-qc", "--out", str(out), *quiet]) == 0
    excluded = capsys.readouterr().out
    assert "11 slice(s) with both contours" in excluded and "excluded" in excluded
    assert "SCD0000201/120: i_outside_o (excluded)" in excluded
    rows = _rows(out / "per_slice.csv")
    assert len(rows) == 11 and not any(r["qc_flags"] for r in rows)


def test_one_bad_contour_does_not_sink_the_run(tmp_path, capsys, monkeypatch):
    """A contour point at 1e300 stopped the whole run ("Number of samples, -9223372036854775808")."""
    from skcardio import metrics
    from skcardio.io import read_contour

    root = tmp_path / "data"
    shutil.copytree(get_sample_path(), root)
    folder = root / "contourfiles" / "SC-HF-I-1" / "i-contours"
    (folder / "IM-0001-0099-icontour-manual.txt").write_text("1e300 1e300\n2e300 1\n1 2e300\n")
    argv = ["evaluate", str(root), "--no-plots", "--no-progress", "--out"]
    assert main([*argv, str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert ("IM-0001-0099-icontour-manual.txt, line 1: '1e300 1e300': a coordinate of 1e+300 pixels in magnitude "
            "exceeds the limit max_contour_coordinate=100000") in err
    rows = _rows(tmp_path / "a" / "per_slice.csv")
    assert len(rows) == 11 and ("SCD0000101", "99") not in {(r["patient_id"], r["instance"]) for r in rows}

    # A slice whose distances fail (an outline too long to trace in memory): NaN and named; the others measured.
    target = folder / "IM-0001-0119-icontour-manual.txt"
    points, original = read_contour(target), metrics.hausdorff_distance

    def hausdorff_distance(y_true, y_pred, **kwargs):
        if any(np.array_equal(contour, points) for contour in y_true):
            raise MemoryError("Unable to allocate 298. GiB")
        return original(y_true, y_pred, **kwargs)

    monkeypatch.setattr(metrics, "hausdorff_distance", hausdorff_distance)
    assert main([*argv, str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert (f"  {target}: otsu: APD and Hausdorff distance of SCD0000101/119 not measured (MemoryError: Unable to "
            "allocate 298. GiB)") in err
    rows = {(r["patient_id"], r["instance"]): r for r in _rows(tmp_path / "b" / "per_slice.csv")}
    assert len(rows) == 11
    assert (rows["SCD0000101", "119"]["apd_mm"], rows["SCD0000101", "119"]["hausdorff_mm"]) == ("nan", "nan")
    others = [r for key, r in rows.items() if key != ("SCD0000101", "119")]
    assert all(np.isfinite(float(r["apd_mm"])) and np.isfinite(float(r["hausdorff_mm"])) for r in others)


@pytest.mark.parametrize("method", ["kmeans", "region-growing", "classical", "multiotsu"])
def test_other_methods(tmp_path, method, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", "--method", method, "--out", str(out), "--no-plots", "--no-progress"]
    assert main([*argv, "--cv", "2"]) == 0
    assert "2-fold patient-grouped CV" in capsys.readouterr().out
    rows = _rows(out / "per_slice.csv")
    assert len(rows) == 12 and {r["method"] for r in rows} == {method}
    assert np.mean([float(r["dice"]) for r in rows]) > 0.5


def test_argument_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--method", "sauvola", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["evaluate", "--cv", "1", "--out", str(tmp_path)])
    assert "must be 0 (all slices, in-sample) or at least 2, got 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate"])  # --out is required
    # Exit status 2 for a ROOT that is not a dataset folder, as for train.
    assert main(["evaluate", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "skcardio evaluate: error:" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_root_errors_exit_2_in_one_line(tmp_path, capsys, command):
    out = ["--out", str(tmp_path / ("o" if command == "evaluate" else "m.pt"))]
    assert main([command, str(tmp_path / "missing"), *out]) == 2
    err = capsys.readouterr().err
    assert err == f"skcardio {command}: error: {tmp_path / 'missing'}: no such folder; expected the dataset folder that holds link.csv\n"
    link = get_sample_path() / "link.csv"
    assert main([command, str(link), *out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "link.csv/link.csv" not in err
    assert f"{link}: is a file; expected the dataset folder that holds link.csv (its folder is" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value, expected", [
    ("-1", "0 <= seed < 2\\*\\*32, got -1"),
    ("99999999999", "0 <= seed < 2\\*\\*32, got 99999999999"),
    (str(2**32), "0 <= seed < 2\\*\\*32"),
    ("1.5", "expected an integer seed, got 1.5"),
])
def test_random_state_is_a_seed(tmp_path, capsys, value, expected):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--method", "kmeans", "--random-state", value, "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(f"skcardio evaluate: error: argument --random-state: .*{expected}", err), err
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flags, cv, seed", [([], 5, 0), (["--cv", "3", "--random-state", "7"], 3, 7)])
def test_cv_and_random_state_defaults_reach_the_folds_and_the_unet(flags, cv, seed, tmp_path, monkeypatch):
    # The help promises --random-state "default 0" for k-means and the U-Net alike, and 5 folds.
    seen = {}

    def record(args, unet, region_model=None):
        seen.update(cv=args.cv, seed=args.random_state, unet_seed=unet.random_state)
        return 0

    monkeypatch.setattr("skcardio.cli._evaluate._evaluate", record)
    assert main(["evaluate", "--method", "unet", "--method", "kmeans", *flags, "--out", str(tmp_path / "o")]) == 0
    assert seen == {"cv": cv, "seed": seed, "unet_seed": seed}


def test_method_names_match_the_segmenters():
    from skcardio.segment import THRESHOLD_METHODS

    assert METHODS == THRESHOLD_METHODS + ("kmeans", "region-growing", "classical", "unet")


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    assert main(["evaluate", "--method", "otsu", "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    assert "evaluate: 100%" not in capsys.readouterr().err  # redirected logs stay free of bar lines


def test_console_script(tmp_path):
    script = Path(sys.executable).with_name("skcardio")
    if not script.is_file():
        pytest.skip("the skcardio console script is not installed in this environment")
    out = tmp_path / "out"
    result = subprocess.run(
        [str(script), "evaluate", "--out", str(out), "--no-plots"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\notsu ") == 1  # one table: the sample has no flagged slice
    assert "evaluate: 100%" not in result.stderr and "fold/s" not in result.stderr  # a pipe: no bar in logs
    assert len(_rows(out / "per_slice.csv")) == 12


@pytest.mark.shared_data
def test_shared_data(tmp_path, shared_data_root, capsys):
    out = tmp_path / "out"
    assert main(["evaluate", str(shared_data_root), "--method", "li", "--out", str(out),
                 "--exclude-qc", "--no-plots", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    # QC flags every slice of SCD0000501 (i-contour outside the o-contour):
    # 4 patients are left, so --cv 5 becomes 4 folds.
    assert "37 slice(s) with both contours from 4 patient(s)" in printed
    assert "4-fold patient-grouped CV (4 patients); 9 QC-flagged slice(s) excluded" in printed
    rows = _rows(out / "per_slice.csv")
    assert len(rows) == 37 and "SCD0000501" not in {r["patient_id"] for r in rows}
    assert np.mean([float(r["dice"]) for r in rows]) > 0.75


def test_everything_flagged_with_exclude_qc(tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(get_sample_path(), root)
    for path in root.glob("contourfiles/*/o-contours/*.txt"):
        np.savetxt(path, np.loadtxt(path) + [60.0, 0.0], fmt="%.2f")
    argv = ["evaluate", str(root), "--exclude-qc", "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 1
    assert "every slice is QC-flagged: --exclude-qc leaves nothing to evaluate" in capsys.readouterr().err


# --out: checked before any work, written all or nothing, no stale files left.

QUIET = ["--cv", "0", "--no-progress"]


def _listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes, to compare before and after a run."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _leftover_stages(folder: Path) -> list[str]:
    """Staging folders left anywhere under ``folder`` (they are made inside ``--out``)."""
    return [p.name for p in folder.rglob(".skcardio-*")]


@pytest.mark.parametrize("out, problem", [
    ("afile", "afile: exists and is not a directory"),
    ("afile/sub", "afile is a file, expected a directory"),
])
def test_out_is_a_file(tmp_path, monkeypatch, capsys, out, problem):
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("hi\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--out", out, *QUIET])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "skcardio evaluate: error: argument --out:" in err and problem in err
    assert Path("afile").read_text() == "hi\n" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_directory_on_an_output_name_fails_before_loading(tmp_path, monkeypatch, capsys):
    out = tmp_path / "blocked"
    (out / "histograms.png").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    import skcardio.datasets

    monkeypatch.setattr(skcardio.datasets, "load_dataset", lambda *a, **k: pytest.fail("data was loaded"))
    assert main(["evaluate", "--out", str(out), *QUIET]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'histograms.png'} is a directory, expected a file" in err and "left unchanged" in err
    assert _listing(out) == {"notes.txt": b"mine"} and (out / "histograms.png").is_dir()


def test_failure_while_writing_leaves_out_unchanged(tmp_path, monkeypatch, capsys):
    import skcardio.analysis

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # The CSV files are written before the plots: they must not reach out either.
    monkeypatch.setattr(skcardio.analysis, "plot_threshold_grid", disk_full)
    assert main(["evaluate", "--out", str(out), *QUIET]) == 2
    err = capsys.readouterr().err
    assert "skcardio evaluate: error: writing the outputs failed" in err and "No space left" in err
    assert _listing(out) == {"notes.txt": b"mine"}
    assert _leftover_stages(tmp_path) == []


def test_interrupt_keeps_the_earlier_run(tmp_path, monkeypatch):
    import skcardio.analysis

    out = tmp_path / "out"
    assert main(["evaluate", "--method", "li", "--out", str(out), *QUIET]) == 0
    before = _listing(out)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skcardio.analysis, "plot_slice_scores", interrupt)
    assert main(["evaluate", "--method", "otsu", "--out", str(out), *QUIET]) == 130
    assert _listing(out) == before
    assert _leftover_stages(tmp_path) == []


def test_rerun_removes_stale_outputs_only(tmp_path, caplog):
    out = tmp_path / "out"
    assert main(["evaluate", "--method", "otsu", "--method", "li", "--out", str(out), *QUIET]) == 0
    assert {"scores_li.png", "overlays_li.png"} <= set(_listing(out))
    (out / "notes.txt").write_text("mine")
    (out / "scores_mine.png").write_text("not evaluate's")  # not a method's name: kept

    caplog.set_level("DEBUG", logger="skcardio.cli")
    assert main(["evaluate", "--method", "otsu", "--out", str(out), *QUIET]) == 0
    assert set(_listing(out)) == {
        "per_slice.csv", "summary.csv", "histograms.png", "thresholds.png",
        "scores_otsu.png", "overlays_otsu.png", "notes.txt", "scores_mine.png", "evaluate.json",
    }
    assert {r["method"] for r in _rows(out / "per_slice.csv")} == {"otsu"}
    assert "removed overlays_li.png" in caplog.text and "removed scores_li.png" in caplog.text
    # One INFO line for the lot; the names one by one only at DEBUG (--verbose).
    summary = [r.getMessage() for r in caplog.records if r.levelname == "INFO" and "earlier run" in r.getMessage()]
    assert summary == [f"removed 2 file(s) left in {out} by an earlier run (overlays_li.png and 1 more)"]

    # --no-plots: plots of the earlier run no longer match the CSV files either.
    assert main(["evaluate", "--method", "otsu", "--out", str(out), "--no-plots", *QUIET]) == 0
    assert set(_listing(out)) == {"per_slice.csv", "summary.csv", "notes.txt", "scores_mine.png", "evaluate.json"}
    assert _leftover_stages(tmp_path) == []


def test_files_merely_named_like_outputs_are_kept(tmp_path):
    """evaluate deleted a user's histograms.png and overlays_unet.png as "left by an earlier run"."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("histograms.png", "overlays_unet.png"):
        (out / name).write_text("mine")
    assert main(["evaluate", "--method", "otsu", "--no-plots", "--out", str(out), *QUIET]) == 0
    assert _listing(out)["histograms.png"] == _listing(out)["overlays_unet.png"] == b"mine"
    # The record lists this run's files only; the next run removes none of the user's either.
    assert json.loads((out / "evaluate.json").read_text()) == {
        "files": ["per_slice.csv", "summary.csv", "evaluate.json"]
    }
    assert main(["evaluate", "--method", "li", "--no-plots", "--out", str(out), *QUIET]) == 0
    assert _listing(out)["histograms.png"] == _listing(out)["overlays_unet.png"] == b"mine"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and FIFOs")
def test_a_record_names_only_evaluate_files_to_remove(tmp_path, caplog):
    """A hand-edited record cannot remove another file; a link or a pipe in its place is not read."""
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "outside.txt").write_text("mine")
    for name in ("notes.txt", "scores_li.png"):
        (out / name).write_text("mine")
    record = {"files": ["notes.txt", "../outside.txt", str(tmp_path / "outside.txt"), "scores_li.png"]}
    (out / "evaluate.json").write_text(json.dumps(record))
    assert main(["evaluate", "--no-plots", "--out", str(out), *QUIET]) == 0
    assert set(_listing(out)) == {"per_slice.csv", "summary.csv", "evaluate.json", "notes.txt"}
    assert (tmp_path / "outside.txt").read_text() == "mine"

    (out / "scores_li.png").write_text("mine")
    (tmp_path / "planted.json").write_text(json.dumps({"files": ["scores_li.png"]}))
    (out / "evaluate.json").unlink()
    (out / "evaluate.json").symlink_to(tmp_path / "planted.json")
    assert main(["evaluate", "--no-plots", "--out", str(out), *QUIET]) == 0
    assert (out / "scores_li.png").read_text() == "mine" and not (out / "evaluate.json").is_symlink()
    assert f"{out / 'evaluate.json'}: not read as the record of an earlier run (a symbolic link" in caplog.text

    (out / "evaluate.json").unlink()
    with planted_fifo(out / "evaluate.json") as fifo:
        assert main(["evaluate", "--no-plots", "--out", str(out), *QUIET]) == 0
    assert not fifo["released"] and (out / "scores_li.png").read_text() == "mine"
    assert "is a pipe (FIFO), expected a regular JSON file" in caplog.text


def test_failed_slices_named_by_patient_and_instance(tmp_path, capsys):
    # The segmenter's warning counts positions within the fold's test slices;
    # evaluate names the slices instead (it said "... empty masks: 2 (...)").
    import pydicom

    root = tmp_path / "data"
    shutil.copytree(get_sample_path(), root)
    path = root / "dicoms" / "SCD0000101" / "119.dcm"
    ds = pydicom.dcmread(path)
    ds.PixelData = np.full(ds.pixel_array.shape, 300, ds.pixel_array.dtype).tobytes()
    ds.save_as(path)
    argv = ["evaluate", str(root), "--method", "otsu", "--out", str(tmp_path / "out"), "--no-plots",
            "--no-progress"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert re.search(
        r"warning: otsu, fold \d: 1 slice\(s\) could not be segmented and got empty masks: "
        r"SCD0000101/119 \(constant intensity in the region\)", err
    ), err


def test_exclude_qc_with_nothing_flagged_says_so(tmp_path, capsys):
    argv = ["evaluate", "--exclude-qc", "--out", str(tmp_path / "out"), *QUIET, "--no-plots"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "0 QC-flagged slice(s) to exclude" in printed
    assert "use --exclude-qc" not in printed  # it was given


# ------------------------------------------------------------------ U-Net

#: A tiny U-Net, one epoch: the tests check the plumbing, not the accuracy.
TINY_UNET = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "32", "--threads", "1"]
PNG_NAMES = ["SC-N-2-IM-0001-0001.png", "SC-N-2-IM-0001-0021.png", "SC-HYP-3-IM-0001-0005.png"]


def test_unet_cv_on_dicoms_and_an_image_folder(tmp_path, capsys):
    pngs = write_image_folder(tmp_path / "png", PNG_NAMES, shape=(64, 48))
    out = tmp_path / "out"
    argv = ["evaluate", str(get_sample_path()), str(pngs), "--method", "unet", *TINY_UNET, "--cv", "2",
            "--out", str(out), "--no-plots", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    # every i-contoured slice (15, not the 12 with both contours) and every labelled image
    assert "18 slice(s) with an i-contour or label from 5 patient(s)" in printed
    assert "2-fold patient-grouped CV (5 patients)" in printed
    assert "3 slice(s) without pixel spacing (image folders): no APD" in printed
    rows = _rows(out / "per_slice.csv")
    assert len(rows) == 18 and {r["method"] for r in rows} == {"unet"}
    png_rows = [r for r in rows if r["patient_id"].startswith("SC-")]
    assert sorted((r["patient_id"], r["instance"]) for r in png_rows) == [
        ("SC-HYP-3", "5"), ("SC-N-2", "1"), ("SC-N-2", "21")
    ]
    assert all(r["apd_mm"] == r["hausdorff_mm"] == r["good_contour"] == "nan" for r in png_rows)
    assert all(r["apd_mm"] != "nan" for r in rows if r not in png_rows)
    patient_folds = {(r["patient_id"], r["fold"]) for r in rows}
    assert len(patient_folds) == 5 and {f for _, f in patient_folds} == {"0", "1"}
    assert all(0 <= float(r["dice"]) <= 1 for r in rows)
    assert {p.name for p in out.iterdir()} == {"per_slice.csv", "summary.csv", "evaluate.json"}


@pytest.mark.filterwarnings("ignore:the trained model finds no blood pool")  # 2 epochs: plumbing only
def test_unet_model_file_scored_without_training(tmp_path, capsys):
    from skcardio.datasets import load_image_folder
    from skcardio.metrics import dice_score
    from skcardio.segment import UNetSegmenter

    pngs = write_image_folder(tmp_path / "png", PNG_NAMES, shape=(64, 48))
    data = load_image_folder(pngs / "images", pngs / "labels")
    model = UNetSegmenter(depth=2, base_channels=4, max_epochs=2, crop_size=32, random_state=0)
    model.fit(data.images, data.y)
    model.save(tmp_path / "m.pt")
    out = tmp_path / "out"
    argv = ["evaluate", str(pngs), "--method", "unet", "--model", str(tmp_path / "m.pt"), "--out", str(out),
            "--no-progress", "--threads", "1"]  # --threads serves the prediction too
    assert main(argv) == 0
    assert f"no training: model {tmp_path / 'm.pt'} scored on every slice" in capsys.readouterr().out
    rows = _rows(out / "per_slice.csv")
    expected = dice_score(data.y, UNetSegmenter.load(tmp_path / "m.pt").predict(data.images), per_slice=True)
    np.testing.assert_allclose([float(r["dice"]) for r in rows], expected, atol=1e-5)
    assert {r["fold"] for r in rows} == {"0"}
    # no o-contour: no intensity plots inside it
    assert {p.name for p in out.iterdir()} == {"per_slice.csv", "summary.csv", "scores_unet.png", "overlays_unet.png",
                                               "evaluate.json"}


@pytest.mark.parametrize("flags, expected", [
    (["--method", "otsu", "--model", "m.pt"], "argument --model: needs --method unet"),
    (["--epochs", "2"], "argument --epochs: needs --method unet"),
    (["--method", "unet", "--method", "otsu", "--model", "m.pt"],
     "argument --model: scores a U-Net file alone; expected --method unet and no other method"),
    (["--method", "unet", "--model", "m.pt", "--depth", "2"],
     "argument --depth: trains a U-Net per fold; it does not apply to --model"),
    (["--method", "unet", "--crop-size", "50"], "crop_size must be a multiple of 2 \\*\\* \\(depth - 1\\) = 8"),
    (["--method", "unet", "--model", "missing.pt"], "missing.pt"),
])
def test_unet_option_errors_exit_2_before_loading(flags, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"")  # never read: the options are refused first
    assert main(["evaluate", *flags, "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skcardio evaluate: error: ") and err.count("\n") == 1
    assert re.search(expected, err), err
    assert not (tmp_path / "out").exists()


def test_classical_methods_refuse_an_image_folder(tmp_path, capsys):
    pngs = write_image_folder(tmp_path / "png", PNG_NAMES)
    assert main(["evaluate", str(pngs), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{pngs}: an image folder has labels only, no o-contour" in err and "use --method unet" in err


def _load_epicardium_model(monkeypatch, predict):
    """Make ``UNetSegmenter.load`` give a fitted epicardium model whose ``predict(images)`` is ``predict``."""
    from sklearn.base import BaseEstimator

    from skcardio.segment import UNetSegmenter

    class Fake(BaseEstimator):
        target_ = "epicardium"

        def fit(self, X, y=None):
            return self

        def __sklearn_is_fitted__(self):
            return True

        def predict(self, images):
            return predict(images)

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": Fake()))


def test_predicted_region(tmp_path, capsys, monkeypatch):
    """--region predicted: with a model that predicts the expert o-contours, the scores are those of
    --region o-contour on the same slices; slices without o-contour are evaluated too."""
    from skcardio.datasets import load_dataset

    data = load_dataset(get_sample_path())
    regions = {image.tobytes(): region for image, region in zip(data.images, data.regions)}
    _load_epicardium_model(monkeypatch, lambda images: np.array([regions[image.tobytes()] for image in images]))
    expert, predicted = tmp_path / "expert", tmp_path / "predicted"
    assert main(["evaluate", "--out", str(expert), "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--region", "predicted", "--region-model", "m.pt", "--out", str(predicted),
                 "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "Regions: the epicardium predicted by m.pt" in out
    # The header said "with both contours ... inside the expert o-contour" for these slices too.
    assert f"{len(data.images)} slice(s) with an i-contour or label from" in out
    assert "Segmentation inside the predicted epicardium, scored against the i-contour or label." in out
    assert "inside the expert o-contour" not in out
    by_slice = {(r["patient_id"], r["instance"]): r for r in _rows(predicted / "per_slice.csv")}
    assert len(by_slice) == len(data.images) > 12
    for row in _rows(expert / "per_slice.csv"):
        assert by_slice[row["patient_id"], row["instance"]]["dice"] == row["dice"]
        assert "missing_ocontour" not in by_slice[row["patient_id"], row["instance"]]["qc_flags"]


def test_region_model_options_are_checked_before_any_data_are_read(tmp_path, capsys, monkeypatch):
    """Exit 2 in one line, as for other options that do not go together, without loading the dataset."""

    def no_loading(*args, **kwargs):
        raise AssertionError("the dataset was loaded")

    monkeypatch.setattr("skcardio.cli._evaluate.load_sources", no_loading)
    out = str(tmp_path / "o")
    assert main(["evaluate", "--region", "predicted", "--out", out]) == 2
    assert "skcardio evaluate: error: argument --region: predicted needs --region-model FILE" in capsys.readouterr().err
    # A model file without --region predicted was silently ignored (the expert o-contour used).
    assert main(["evaluate", "--region-model", "m.pt", "--out", out]) == 2
    assert "argument --region-model: needs --region predicted" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    assert main(["evaluate", "--region", "predicted", "--region-model", str(junk), "--out", out]) == 2
    assert f"skcardio evaluate: error: {junk}" in capsys.readouterr().err
    # A blood-pool model cannot give the region.
    endo = _tiny_model(tmp_path / "endo.pt")
    assert main(["evaluate", "--region", "predicted", "--region-model", str(endo), "--out", out]) == 2
    err = capsys.readouterr().err
    assert f"argument --region-model: {endo}: PredictedRegion needs a model that predicts the epicardium" in err
    assert not (tmp_path / "o").exists()


def _tiny_model(path, target="endocardium"):
    """A 1-epoch U-Net of ``target`` saved to ``path`` (what it predicts does not matter here)."""
    from skcardio.segment import UNetSegmenter

    X = np.zeros((4, 32, 32), np.float32)
    y = np.zeros((4, 32, 32), bool)
    X[:, 8:24, 8:24], y[:, 10:22, 10:22] = 1, True
    labels = np.stack([y, y], axis=1) if target == "both" else y
    model = UNetSegmenter(target=target, depth=2, base_channels=4, max_epochs=1, crop_size=32, random_state=0)
    model.fit(X, labels).save(path)
    return path


def test_options_a_model_file_would_ignore_are_refused(tmp_path, capsys):
    """--cv and --random-state with --model (no folds, no training), --region predicted with --method unet
    alone (whole images), a model of another target: one line, exit 2, nothing written."""
    model = _tiny_model(tmp_path / "m.pt")
    out = tmp_path / "o"
    base = ["evaluate", "--method", "unet", "--model", str(model), "--out", str(out)]
    assert main([*base, "--cv", "3"]) == 2
    assert "argument --cv: trains a U-Net per fold; it does not apply to --model" in capsys.readouterr().err
    assert main([*base, "--random-state", "7"]) == 2
    assert "argument --random-state: trains a U-Net per fold" in capsys.readouterr().err
    assert main([*base, "--epochs", "3"]) == 2
    assert "argument --epochs: trains a U-Net per fold" in capsys.readouterr().err
    assert main(["evaluate", "--method", "unet", "--region", "predicted", "--region-model", str(model),
                 "--out", str(out)]) == 2
    assert "argument --region: predicted has no effect with --method unet alone" in capsys.readouterr().err
    for target in ("epicardium", "both"):
        other = _tiny_model(tmp_path / f"{target}.pt", target)
        assert main(["evaluate", "--method", "unet", "--model", str(other), "--out", str(out)]) == 2
        assert (f"argument --model: {other}: a model of target '{target}'; evaluate scores the blood pool "
                "against the i-contour") in capsys.readouterr().err
    assert not out.exists()


def test_a_validation_fraction_no_fold_can_train_with_is_refused_before_training(tmp_path, capsys, monkeypatch):
    from skcardio.segment import UNetSegmenter

    def no_training(*args, **kwargs):
        raise AssertionError("a fold was trained")

    monkeypatch.setattr(UNetSegmenter, "fit", no_training)
    out = tmp_path / "o"
    # The sample's 3 patients in 3 folds: 2 training patients each, and 0.6 would hold both out.
    argv = ["evaluate", "--method", "unet", *TINY_UNET, "--cv", "3", "--validation-fraction", "0.6", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("skcardio evaluate: error: fold 0 (2 training patient(s)): validation_fraction=0.6")
    assert not out.exists()


def _classical_on_an_image_folder(tmp_path, monkeypatch, capsys, *flags):
    """otsu on an image folder, inside a predicted region (the whole image): (stdout, per_slice.csv rows)."""
    _load_epicardium_model(monkeypatch, lambda images: np.ones(np.shape(images), bool))
    pngs = write_image_folder(tmp_path / "png", PNG_NAMES)
    out = tmp_path / "out"
    argv = ["evaluate", str(pngs), "--method", "otsu", "--region", "predicted", "--region-model", "m.pt",
            *flags, "--out", str(out), "--no-plots", *QUIET]
    assert main(argv) == 0
    return capsys.readouterr().out, _rows(out / "per_slice.csv")


def test_pixel_spacing_gives_an_image_folder_distances_in_mm(tmp_path, capsys, monkeypatch):
    printed, rows = _classical_on_an_image_folder(tmp_path, monkeypatch, capsys, "--pixel-spacing", "1.3672")
    assert len(rows) == 3 and "without pixel spacing" not in printed and "nan" not in printed
    for row in rows:
        assert np.isfinite(float(row["apd_mm"])) and np.isfinite(float(row["hausdorff_mm"]))
        assert row["good_contour"] in ("0", "1")
    # Twice the spacing, twice the distances: measured in mm with the spacing given.
    _, doubled = _classical_on_an_image_folder(tmp_path / "2", monkeypatch, capsys, "--pixel-spacing", "2.7344")
    np.testing.assert_allclose([float(r["hausdorff_mm"]) for r in doubled],
                               [2 * float(r["hausdorff_mm"]) for r in rows], rtol=1e-5)


def test_nothing_measured_is_printed_as_a_dash_not_nan(tmp_path, capsys, monkeypatch):
    """Without a pixel spacing no APD is measured: the table said 'nan ± nan' and 'nan%'."""
    printed, rows = _classical_on_an_image_folder(tmp_path, monkeypatch, capsys)
    assert all(r["apd_mm"] == "nan" for r in rows)  # the CSV keeps nan
    (line,) = [line for line in printed.splitlines() if line.startswith("otsu")]
    assert "nan" not in printed and re.search(r"%\s+-\s+-$", line), line  # APD mm, good<5mm
    # The header says why, and what gives them.
    assert "3 slice(s) without pixel spacing (image folders)" in printed and "--pixel-spacing MM" in printed


def test_empty_predicted_regions_are_no_traceback(tmp_path, capsys, monkeypatch, caplog):
    """A region model that finds no epicardium: the region plots are not drawn (said), the rest is written."""
    _load_epicardium_model(monkeypatch, lambda images: np.zeros(np.shape(images), bool))
    out = tmp_path / "o"
    code = main(["evaluate", "--region", "predicted", "--region-model", "m.pt", "--out", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err
    assert "every region is empty (no epicardium predicted): histograms.png and thresholds.png not drawn" in caplog.text
    written = {p.name for p in out.iterdir()}
    assert {"per_slice.csv", "summary.csv"} <= written and not {"histograms.png", "thresholds.png"} & written
    assert "thresholds.png" not in err.split("wrote", 1)[1]


@needs_flock
def test_the_earlier_record_is_read_with_out_locked(tmp_path, monkeypatch):
    """Read unlocked, a concurrent run's half-published evaluate.json replaced another's: files listed by none."""
    from skcardio.cli import _evaluate

    seen = []
    real = _evaluate._earlier_outputs
    monkeypatch.setattr(_evaluate, "_earlier_outputs", lambda out: seen.append(locked_by_another(out)) or real(out))
    assert main(["evaluate", "--method", "otsu", "--out", str(tmp_path / "out"), "--no-plots", *QUIET]) == 0
    assert seen == [True]


def _old_subset_arrays(data, keep):
    """The [image, region] stack and NaN-outside images evaluate kept for the whole run before."""
    X = np.stack([data.images[keep], data.regions[keep].astype(np.float32)], axis=1)
    return X, np.where(data.regions[keep], X[:, 0], np.nan)


@pytest.mark.parametrize("every", [True, False])
def test_subset_builds_what_the_methods_saw_before(every):
    """Per-fold stacks and the metrics' images are the values of the stack kept for the whole run before."""
    from skcardio.cli._evaluate import _Subset

    data = load_sample(require="o-contour")
    keep = np.ones(len(data.y), bool) if every else np.arange(len(data.y)) % 3 != 1
    subset = _Subset(data, keep, [""] * len(keep))
    X, images = _old_subset_arrays(data, keep)
    for index in (np.arange(len(X)), np.array([5, 0, 3]), np.arange(0)):
        pairs = subset.inputs(index, "otsu")
        assert pairs.dtype == X.dtype and pairs.flags.c_contiguous
        np.testing.assert_array_equal(pairs, X[index])
        np.testing.assert_array_equal(subset.inputs(index, "unet"), X[index, 0])
    np.testing.assert_array_equal(subset.region_images("otsu"), images)
    # The U-Net sees whole images, whichever methods run beside it: its KS compares their intensities.
    np.testing.assert_array_equal(subset.region_images("unet"), data.images[keep])
    np.testing.assert_array_equal(subset.y, data.y[keep])
    np.testing.assert_array_equal(subset.regions, data.regions[keep])
    if every:  # nothing left out: the data's own arrays, no copy
        assert subset.images is data.images and subset.y is data.y and subset.regions is data.regions


@pytest.mark.parametrize("every", [True, False])
def test_subset_holds_the_kept_slices_once(every):
    """No float32 stack of the images and regions, no second copy of the images: 3.5 times the images before."""
    from _memory import traced_peak

    from skcardio.cli._evaluate import _Subset

    data = load_sample(require="o-contour")
    keep = np.ones(len(data.y), bool) if every else np.arange(len(data.y)) % 3 != 1
    kept = data.images[keep].nbytes
    subset, peak = traced_peak(lambda: _Subset(data, keep, [""] * len(keep)))
    # Every slice: the data's arrays; some: the kept images (1x) and masks (2 x 0.25x), copied once.
    assert peak < (0.05 if every else 1.6) * kept, peak / kept
    assert subset.images.nbytes == kept


@pytest.mark.parametrize("cv", ["3", "0"])
def test_evaluate_peak_is_well_below_six_times_the_data(tmp_path, cv):
    """The run's traced peak, relative to the data loaded (images, masks, regions): 5.1-5.9 before, 3.2-3.5 now.

    Measured on a second run, once the modules and caches of the first are in place.
    """
    from _memory import traced_peak

    data = load_sample(require="o-contour")
    size = data.images.nbytes + data.y.nbytes + data.regions.nbytes
    argv = ["evaluate", "--method", "otsu", "--cv", cv, "--out", str(tmp_path / "o"), "--no-plots", "--no-progress"]
    assert main(argv) == 0
    status, peak = traced_peak(lambda: main(argv))
    assert status == 0
    assert peak < 4.3 * size, peak / size


def test_non_square_pixels_are_said_once_for_the_run(make_layout, tmp_path, capsys):
    # The slices are the same for every method: the warning was printed once per method.
    from _contour_shapes import SQUARE_I, SQUARE_O

    slices = {n: {"i": SQUARE_I, "o": SQUARE_O} for n in (5, 6)}
    root = make_layout({"P1": ("O1", dict(slices)), "P2": ("O2", dict(slices))})  # 0.7 x 0.8 mm pixels
    args = ["evaluate", str(root), "--method", "otsu", "--method", "li", "--method", "mean"]
    assert main([*args, "--out", str(tmp_path / "ev"), "--no-plots", "--cv", "0", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("non-square pixels") == 1, err
    assert "4 slice(s) with non-square pixels (P1/5, P1/6, P2/5, P2/6)" in err


def test_each_methods_ks_compares_the_intensities_it_saw():
    # The U-Net's KS was measured inside the expert regions whenever a classical method ran beside it,
    # so the same masks scored differently with and without --method otsu.
    from skcardio.cli._evaluate import _slice_metrics, _Subset
    from skcardio.metrics import ks_score

    data = load_sample(require="o-contour")
    keep = np.ones(len(data.y), bool)
    # Predicted pools reaching beyond the expert's o-contour (which the U-Net is not held to).
    masks = np.array([ndimage.binary_dilation(m, iterations=8) for m in data.y])
    beside = _Subset(data, keep, [""] * len(keep), regions=True)
    alone = _Subset(data, keep, [""] * len(keep), regions=False)
    unet = _slice_metrics(beside, masks, "unet")["ks_pvalue"]
    np.testing.assert_array_equal(unet, _slice_metrics(alone, masks, "unet")["ks_pvalue"])
    np.testing.assert_array_equal(unet, ks_score(data.y, masks, images=data.images, per_slice=True))
    inside = ks_score(data.y, masks, images=np.where(data.regions, data.images, np.nan), per_slice=True)
    np.testing.assert_array_equal(_slice_metrics(beside, masks, "otsu")["ks_pvalue"], inside)
    assert not np.array_equal(unet, inside, equal_nan=True)  # the two differ on these masks: the choice shows
