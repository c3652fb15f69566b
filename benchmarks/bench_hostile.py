"""Time and peak memory of skcardio on hostile files, each case in a fresh process.

Writes the hostile files of tests/_hostile.py at full size into a temporary
folder (bombs streamed, so writing them takes little memory), then runs each
case in its own Python process and reports the wall time of the call (imports
excluded), the process's peak resident memory (``VmHWM`` of
``/proc/self/status``: the interpreter and the imported libraries included;
``ru_maxrss`` would include the parent's memory at fork time) and the first
line of the outcome.

    python benchmarks/bench_hostile.py [--work DIR] [--only REGEX]

With ``--work DIR``, files written by an earlier run there are reused. With
``--only REGEX``, only the cases whose name matches run (``--only APD``: the
contour distances, which need no files).

The table is in docs/security.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

#: Run in the child: SETUP (imports) then CODE, timed; outcome and peak memory printed as JSON.
CHILD = """
import json, re, sys, time
{setup}
start = time.perf_counter()
outcome = "ok"
try:
{code}
except SystemExit as exc:
    outcome = f"exit {{exc.code}}"
except Exception as exc:
    outcome = f"{{type(exc).__name__}}: {{exc}}"
seconds = time.perf_counter() - start
status = open("/proc/self/status").read()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak, "outcome": outcome.splitlines()[0][:300] if outcome else ""}}))
"""
#: Imports done before the timer starts, per kind of case.
SETUP = {
    "read": "from skcardio.io import read_dicom, read_contour",
    "load": "from skcardio.segment import UNetSegmenter",
    "cli": "from skcardio.cli import main\nimport skcardio.cli._predict, skcardio.segment, skcardio.qc",
    "record": """
import logging
from pathlib import Path
import skcardio.io
from skcardio.cli._records import record_column, record_files
class _Last(logging.Handler):
    last = ""
    def emit(self, record):
        self.last = record.getMessage()
warned = _Last()
logging.getLogger("skcardio.cli").addHandler(warned)
def read(path, what):
    names = record_files(Path(path), written_by="skcardio report") if what == "JSON" else record_column(Path(path), "output_stem")
    if names is not None:
        return f"{len(names)} names read"
    return "not read, files kept: " + warned.last.split(" (", 1)[1].rsplit("); the files", 1)[0]
""",
    "apd": f"""
import numpy as np
from skcardio.metrics import average_perpendicular_distance as apd
def circles(n_auto, n_expert):
    t, ta = (np.linspace(0, 2 * np.pi, k, endpoint=False) for k in (n_expert, n_auto))
    return [np.c_[128 + 30 * np.cos(t), 128 + 30 * np.sin(t)]], [np.c_[128 + 28 * np.cos(ta), 128 + 28 * np.sin(ta)]]
stored = np.load({str(ROOT / "tests/metrics/data/miccai2009_pairs.npz")!r})
autos = np.split(stored["auto"] / 100.0, np.cumsum(stored["auto_sizes"])[:-1])
experts = np.split(stored["expert"] / 100.0, np.cumsum(stored["expert_sizes"])[:-1])
experts = [experts[i] for i in stored["pair_slice"]]
""",
}

#: Contour distances (kind "apd"): the expert contour at max_contour_points, and typical slices.
APD_CASES = {
    "MICCAI APD, 800 vertices against a 100,000-point expert contour": (
        "apd", 'outcome = f"APD {apd(*circles(800, 100_000)):.3f} px"'),
    "geometric APD, 800 vertices against a 100,000-point expert contour": (
        "apd", 'outcome = f"APD {apd(*circles(800, 100_000), definition=\'geometric\'):.3f} px"'),
    "MICCAI APD, the 1,728 challenge pairs (median 181 x 222 points)": (
        "apd", 'apd(experts, autos, per_slice=True)\n'
        'outcome = f"{1e3 * (time.perf_counter() - start) / len(autos):.2f} ms per pair"'),
}


def _write_once(work: Path, model: Path) -> None:
    import _hostile as h

    if not (work / ".ready").exists():
        _write_files(h, work, _tiny_model(model))


def _write_files(h, work: Path, model: Path) -> None:
    import numpy as np

    h.rle_bomb(work / "rle.dcm")
    h.deflate_bomb(work / "deflate.dcm", 2 << 30)
    h.large_slice(work / "large.dcm", 4096)
    h.write_dicom(work / "slope.dcm", np.full((256, 256), 100, np.int16), slope=1e36)
    h.write_dicom(work / "spacing.dcm", np.full((256, 256), 100, np.int16), spacing=(0, 0))
    os.mkfifo(work / "fifo.dcm")
    h.many_points_contour(work / "points.txt", 10_000_000)
    with open(work / "line.txt", "wb") as handle:  # a 1 GB line of NULs (sparse file)
        handle.truncate(1 << 30)
    h.long_line_contour(work / "line15.txt", 15 << 20)
    (work / "blank.txt").write_bytes(b"  \n" * ((16 << 20) // 3))  # 5.6 million blank lines, within max_text_bytes
    link_root = work / "link"
    shutil.copytree(ROOT / "skcardio" / "datasets" / "data" / "sunnybrook_sample", link_root)
    h.many_rows_link(link_root / "link.csv", 1_000_000)
    h.rewrite_model(model, work / "wide.pt", params={"base_channels": 10**8})
    h.rewrite_model(model, work / "deep.pt", params={"depth": 40, "crop_size": 2**39})
    h.zip_bomb_model(model, work / "zipbomb.pt", 3_200_000_000)
    import torch

    state = torch.load(model, weights_only=True)["state_dict"]
    name = next(k for k, v in state.items() if v.is_floating_point())
    h.rewrite_model(model, work / "nan.pt", state={name: torch.full_like(state[name], float("nan"))})
    mixed = work / "mixed"
    mixed.mkdir()
    for i, file in enumerate(sorted((ROOT / "skcardio/datasets/data/sunnybrook_sample/dicoms/SCD0000201").glob("*.dcm"))[:3]):
        shutil.copy(file, mixed / f"good{i}.dcm")
    for name in ("rle.dcm", "deflate.dcm", "large.dcm", "slope.dcm", "spacing.dcm"):
        shutil.copy(work / name, mixed / name)
    os.mkfifo(mixed / "fifo.dcm")
    os.symlink("/dev/zero", mixed / "zero.dcm")
    _write_records(work / "records")
    (work / ".ready").touch()


def _write_records(folder: Path) -> None:
    """Records of an earlier run: predict's of a cohort and report's of one, and planted ones."""
    import json

    for name in ("honest", "big", "names", "line"):
        (folder / name).mkdir(parents=True)
    columns = ("dicom_path,output_stem,area_px,area_mm2,contour_points,confidence,empty,several_components,"
               "touches_border,implausible_area,flagged,boundary_level\r\n")
    with open(folder / "honest" / "predictions.csv", "w", newline="") as handle:  # 5,000 studies of 240 slices
        handle.write(columns)
        for i in range(1_200_000):
            handle.write(f"cohort/P{i // 240:04d}/DICOM/{i % 240}.dcm,P{i // 240:04d}/DICOM/{i % 240},1234,2345.6,57,"
                         "0.987,0,0,0,0,0,\r\n")
    patients = [f"P{i:05d}" for i in range(20_000)]  # entries of about 3.5 KB
    files = [f"{p}/{f}" for p in patients for f in ("slices.csv", "volume_curve.png", "ed_es_overlay.png")]
    entries = [{"folder": p, "row": {f"column_{j}": 12.345 for j in range(60)}, "notes": ["x" * 80] * 20,
                "files": [f"{p}/slices.csv", f"{p}/volume_curve.png", f"{p}/ed_es_overlay.png"]} for p in patients]
    (folder / "honest" / "report.json").write_text(json.dumps(
        {"written_by": "skcardio report", "patients": entries, "files": sorted(files)}, indent=1))
    with open(folder / "big" / "predictions.csv", "wb") as handle:  # 3 GiB, sparse
        handle.truncate(3 << 30)
    with open(folder / "names" / "predictions.csv", "wb") as handle:  # 9 million names, within 1 GiB (sparse after)
        handle.write(b"output_stem\n")
        for start in range(0, 9_000_000, 1_000_000):
            handle.write(b"".join(b"%07d\n" % i for i in range(start, start + 1_000_000)))
        handle.truncate((1 << 30) - 1)
    with open(folder / "line" / "predictions.csv", "wb") as handle:  # a 100 MB line
        handle.write(b"output_stem\n" + b"x" * (100 << 20))


def _case_code(work: Path, model: Path) -> dict[str, tuple[str, str]]:
    link_root, mixed, records = work / "link", work / "mixed", work / "records"
    record = ("record", "outcome = read({!r}, {!r})")
    read = ("read", "{}")
    load = ("load", "UNetSegmenter.load({!r})")
    cli = ("cli", "sys.exit(main({!r}))")
    predict = ["predict", "--model", str(model), "--no-progress", "--no-overlay", "--out"]
    return {
        "RLE DICOM claiming 65535 x 65535 (2.8 KB), read_dicom": _fmt(read, f"read_dicom({str(work / 'rle.dcm')!r})"),
        "deflated DICOM inflating to 2 GiB, read_dicom": _fmt(read, f"read_dicom({str(work / 'deflate.dcm')!r})"),
        "/dev/zero as DICOM, read_dicom": _fmt(read, "read_dicom('/dev/zero')"),
        "FIFO without writer as DICOM, read_dicom": _fmt(read, f"read_dicom({str(work / 'fifo.dcm')!r})"),
        "/dev/zero as contour, read_contour": _fmt(read, "read_contour('/dev/zero')"),
        "10-million-point contour (134 MB), read_contour": _fmt(read, f"read_contour({str(work / 'points.txt')!r})"),
        "1 GB line of NULs as contour, read_contour": _fmt(read, f"read_contour({str(work / 'line.txt')!r})"),
        "15 MB line in a contour, read_contour": _fmt(read, f"read_contour({str(work / 'line15.txt')!r})"),
        "16 MiB of blank lines as contour, read_contour": _fmt(read, f"read_contour({str(work / 'blank.txt')!r})"),
        "link.csv of 1M rows, skcardio qc": _fmt(cli, ["qc", str(link_root)]),
        "model: base_channels 1e8, load": _fmt(load, str(work / "wide.pt")),
        "model: depth 40, load": _fmt(load, str(work / "deep.pt")),
        "model: 3.2 GB deflated record (3 MB), load": _fmt(load, str(work / "zipbomb.pt")),
        "model: NaN weights, load": _fmt(load, str(work / "nan.pt")),
        "/dev/zero as model, load": _fmt(load, "/dev/zero"),
        "predict, RescaleSlope 1e36": _fmt(cli, predict + [str(work / "o1"), str(work / "slope.dcm")]),
        "predict, valid 4096 x 4096 DICOM": _fmt(cli, predict + [str(work / "o2"), str(work / "large.dcm")]),
        "predict, 3 good + 7 hostile files in one folder": _fmt(cli, predict + [str(work / "o3"), str(mixed)]),
        "record: predictions.csv of 1.2 M slices (90 MB)": _fmt(record, str(records / "honest" / "predictions.csv"), "CSV"),
        # 3.5 KB a synthetic patient; a shared study's entry is 7-9 KB.
        "record: report.json of 20,000 synthetic patients (70 MB)": _fmt(record, str(records / "honest" / "report.json"), "JSON"),
        "record: planted 3 GiB predictions.csv": _fmt(record, str(records / "big" / "predictions.csv"), "CSV"),
        "record: planted 9 M names in 1 GiB": _fmt(record, str(records / "names" / "predictions.csv"), "CSV"),
        "record: planted 100 MB line": _fmt(record, str(records / "line" / "predictions.csv"), "CSV"),
    }


def _fmt(kind: tuple[str, str], *args) -> tuple[str, str]:
    return kind[0], kind[1].format(*args)


def _tiny_model(path: Path) -> Path:
    import warnings

    import numpy as np

    from skcardio.segment import UNetSegmenter

    if path.exists():
        return path

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 32, 32)).astype(np.float32)
    y = np.zeros((4, 32, 32), bool)
    y[:, 10:20, 10:20] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        UNetSegmenter(depth=3, base_channels=8, crop_size=32, max_epochs=1, batch_size=4, random_state=0).fit(X, y).save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", help="folder for the hostile files (default: a temporary one, removed)")
    parser.add_argument("--only", metavar="REGEX", default="", help="run only the cases whose name matches")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="skcardio-hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        file_cases = {k: v for k, v in _case_code(work, work / "tiny.pt").items() if re.search(args.only, k)}
        if file_cases:
            _write_once(work, work / "tiny.pt")
        cases = {**file_cases, **{k: v for k, v in APD_CASES.items() if re.search(args.only, k)}}
        print("| case | seconds | peak MB | outcome |\n|---|---:|---:|---|")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for name, (kind, code) in cases.items():
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", CHILD.format(setup=SETUP[kind], code=textwrap.indent(code, "    "))],
                capture_output=True, text=True, env=env, timeout=600,
            )
            try:
                row = json.loads(result.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                row = {"seconds": time.perf_counter() - started, "peak_mb": float("nan"),
                       "outcome": f"no result (exit {result.returncode}): {result.stderr.strip()[-200:]}"}
            last_err = [line for line in result.stderr.splitlines() if line.strip()][-1:] or [""]
            outcome = row["outcome"] if not row["outcome"].startswith("exit") else f"{row['outcome']}: {last_err[0][:200]}"
            print(f"| {name} | {row['seconds']:.2f} | {row['peak_mb']:.0f} | {outcome.replace('|', '/')} |", flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
