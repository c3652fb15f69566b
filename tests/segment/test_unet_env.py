"""Process settings of the U-Net modules: OpenMP wait policy and glibc's memory thresholds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = (
    "import skcardio.segment._unet_env as e, os; "
    "print(e.MALLOC_TUNED, *(os.environ.get(k, '-') for k in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'KMP_BLOCKTIME')))"
)


def _run(**env) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "OMP_WAIT", "GOMP_", "KMP_"))}
    done = subprocess.run([sys.executable, "-c", CODE], env={**environ, **env}, capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION")), reason="glibc only")
def test_glibc_thresholds_are_set_unless_the_environment_sets_them():
    assert _run()[0] == "True"
    assert _run(MALLOC_TRIM_THRESHOLD_="131072")[0] == "False"
    assert _run(MALLOC_MMAP_THRESHOLD_="131072")[0] == "False"


def test_threads_spin_briefly_unless_the_environment_chooses():
    assert _run()[1:] == ["-", "5000", "0"]
    assert _run(OMP_WAIT_POLICY="PASSIVE")[1:] == ["PASSIVE", "-", "-"]
    assert _run(GOMP_SPINCOUNT="100")[1:] == ["-", "100", "0"]


#: Page faults of the median of 7 training steps of a small convolutional network, in a fresh process.
STEP_FAULTS = """
import resource, sys, torch
if sys.argv[1] == "tuned":
    import skcardio.segment._unet_env
torch.set_num_threads(1)
net = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Conv2d(1 if i == 0 else 8, 8, 3, padding=1),
                                                torch.nn.BatchNorm2d(8), torch.nn.ReLU()) for i in range(6)])
x = torch.rand(8, 1, 96, 96)
def step():
    net(x).sum().backward()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
step(); step(); step()
counts = []
for _ in range(7):  # the median step: a one-off heap growth in some step is not what is measured
    before = faults()
    step()
    counts.append(faults() - before)
print(sorted(counts)[3])
"""


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION")), reason="glibc only")
def test_freed_tensor_memory_is_reused_without_page_faults():
    # What the thresholds are for: the tensors of a training step, freed, are
    # allocated again from the heap, not from fresh zeroed pages of the kernel.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    faults = {
        how: int(subprocess.run([sys.executable, "-c", STEP_FAULTS, how], env=environ, capture_output=True,
                                text=True, check=True).stdout)
        for how in ("glibc default", "tuned")
    }
    assert faults["tuned"] < faults["glibc default"] / 3, faults
