"""Time loading every DICOM of a dataset: skcardio vs a plain pydicom loop.

Usage::

    python benchmarks/bench_load.py [ROOT] [--repeat 3] [--n-jobs 2]

ROOT defaults to ../shared/data/final_data. Both loaders decode all pixel
arrays of every ``dicoms/*/*.dcm`` file. The OS file cache is warmed first
so that both sides read from memory; each figure is the median of
``--repeat`` runs. Data: Sunnybrook Cardiac Data (CC0), Radau et al. 2009.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

from skcardio.io import read_dicoms

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "final_data"


def plain_loop(paths):
    return [pydicom.dcmread(p).pixel_array for p in paths]


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=DEFAULT_ROOT, type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    paths = sorted(str(p) for p in (args.root / "dicoms").glob("*/*.dcm"))
    for p in paths:  # warm the OS file cache for both contenders
        Path(p).read_bytes()

    base, reference = timed(lambda: plain_loop(paths), args.repeat)
    cold, slices = timed(lambda: read_dicoms(paths, n_jobs=args.n_jobs), args.repeat)
    one_core, _ = timed(lambda: read_dicoms(paths, n_jobs=1), args.repeat)
    with tempfile.TemporaryDirectory() as cache:
        read_dicoms(paths, n_jobs=args.n_jobs, memory=cache)  # fill the cache
        warm, _ = timed(lambda: read_dicoms(paths, n_jobs=1, memory=cache), args.repeat)
    assert all(np.array_equal(s.image, r) for s, r in zip(slices, reference)), "images differ"

    print(f"{len(paths)} DICOM files under {args.root}, median of {args.repeat} runs")
    print(f"pydicom.dcmread(f).pixel_array loop : {base:7.3f} s")
    print(f"skcardio read_dicoms, 1 process     : {one_core:7.3f} s  ({base / one_core:4.1f}x)")
    print(f"skcardio read_dicoms, n_jobs={args.n_jobs}      : {cold:7.3f} s  ({base / cold:4.1f}x)")
    print(f"skcardio read_dicoms, joblib cache   : {warm:7.3f} s  ({base / warm:4.1f}x)")


if __name__ == "__main__":
    main()
