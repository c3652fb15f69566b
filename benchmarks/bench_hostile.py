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
    (work / ".ready").touch()


def _case_code(work: Path, model: Path) -> dict[str, tuple[str, str]]:
    link_root, mixed = work / "link", work / "mixed"
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
        "link.csv of 1M rows, skcardio qc": _fmt(cli, ["qc", str(link_root)]),
        "model: base_channels 1e8, load": _fmt(load, str(work / "wide.pt")),
        "model: depth 40, load": _fmt(load, str(work / "deep.pt")),
        "model: 3.2 GB deflated record (3 MB), load": _fmt(load, str(work / "zipbomb.pt")),
        "model: NaN weights, load": _fmt(load, str(work / "nan.pt")),
        "/dev/zero as model, load": _fmt(load, "/dev/zero"),
        "predict, RescaleSlope 1e36": _fmt(cli, predict + [str(work / "o1"), str(work / "slope.dcm")]),
        "predict, valid 4096 x 4096 DICOM": _fmt(cli, predict + [str(work / "o2"), str(work / "large.dcm")]),
        "predict, 3 good + 7 hostile files in one folder": _fmt(cli, predict + [str(work / "o3"), str(mixed)]),
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
