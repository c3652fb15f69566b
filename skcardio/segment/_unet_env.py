"""Make PyTorch's OpenMP threads sleep, not spin, while they wait (set before importing torch).

PyTorch's CPU kernels run on GNU OpenMP (libgomp), whose threads busy-wait
between parallel regions by default. When another process holds one of the
cores (a shared machine, ``pytest -n 2``, ``GridSearchCV(n_jobs=2)``) every
region then waits for a descheduled thread: on the 2-core development machine
a U-Net training step took 0.13-0.37 s per slice; with
``OMP_WAIT_POLICY=PASSIVE`` the same step took 0.02-0.04 s under the same
load (``docs/unet.md``, "Speed on CPU").

libgomp reads the variable once, when PyTorch is first imported, so this
module must be imported before ``torch``; an explicit setting in the
environment is kept.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
