"""Process settings that make PyTorch's CPU training fast (set before importing torch).

**OpenMP threads spin only briefly, then sleep, while they wait.** PyTorch's
CPU kernels run on GNU OpenMP (libgomp), whose threads busy-wait between
parallel regions for about 300 000 spins by default. When another process
holds one of the cores (a shared machine, ``pytest -n 2``,
``GridSearchCV(n_jobs=2)``) every region then waits for a descheduled thread:
on the 2-core development machine a U-Net training step took 0.13-0.37 s per
slice; with ``OMP_WAIT_POLICY=PASSIVE`` (no spinning) 0.02-0.04 s under the
same load. But on an idle machine sleeping costs a wake-up per PyTorch
operation: an epoch of the default U-Net took 7.3-9.3 s passive against
6.5-7.9 s with ``GOMP_SPINCOUNT=5000`` (a spin of some microseconds), which
was as fast as passive with another process holding a core (0.44-0.46 vs
0.35-0.45 s per step; ``docs/unet.md``). Hence ``GOMP_SPINCOUNT=5000`` for
libgomp and ``KMP_BLOCKTIME=0`` (sleep at once, as passive) for the LLVM /
Intel OpenMP runtimes, which ignore the former. Nothing is set when the
environment sets ``OMP_WAIT_POLICY``; an explicit ``GOMP_SPINCOUNT`` or
``KMP_BLOCKTIME`` is kept. The runtimes read them once, when PyTorch is first
imported, so this module must be imported before ``torch``.

**Freed tensor memory is kept for the next step (glibc).** By default glibc
gives large freed blocks back to the kernel (``munmap``, heap trimming), so
each training step of the default U-Net faulted in about 100 MB of fresh
zeroed pages (25 000-33 000 page faults); keeping blocks below 32 MB in the
heap and trimming only above 1 GB of free memory removed 80 % of the faults
of a fit and 10-17 % of its CPU time, with bit-identical results
(``docs/unet.md``). The cost:
the process keeps its peak memory instead of returning it. Done at import
(``mallopt``) on Linux with glibc only, and not when the environment already
sets ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_``.
"""

import ctypes
import os
import sys

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "5000")
    os.environ.setdefault("KMP_BLOCKTIME", "0")

#: glibc ``mallopt`` parameters (``<malloc.h>``) and the values set.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks of this size or more are mmapped and unmapped on free (glibc's largest allowed value).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap beyond this is given back to the kernel.
TRIM_THRESHOLD = 2**30


def _keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds; False where not applied (not glibc, or set by the user)."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")  # None or an error elsewhere (macOS, musl, Windows)
    except (AttributeError, ValueError, OSError):
        glibc = None
    if not sys.platform.startswith("linux") or not glibc:
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


MALLOC_TUNED = _keep_freed_memory()
