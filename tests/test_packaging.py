"""Packaging: the declared minimum versions are the ones `.ci/lower-bounds.txt` pins for testing."""

from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

LOWER_BOUNDS = Path(__file__).resolve().parents[1] / ".ci" / "lower-bounds.txt"


def _pins() -> dict[str, Version]:
    pins = {}
    for line in LOWER_BOUNDS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip()] = Version(version)
    return pins


def _minimums() -> dict[str, Version]:
    minimums = {}
    for text in requires("skcardio"):
        requirement = Requirement(text)
        if requirement.marker is None:  # extras (test) are not pinned
            (bound,) = (s for s in requirement.specifier if s.operator == ">=")
            minimums[requirement.name] = Version(bound.version)
    return minimums


def test_lower_bounds_pin_every_declared_minimum():
    pins, minimums = _pins(), _minimums()
    # torch is installed separately (a CPU wheel first, see the README).
    assert set(minimums) - set(pins) == {"torch"}
    for name, minimum in minimums.items():
        if name in pins:
            # The pinned release must satisfy the minimum and be of its series:
            # a pin of a later series would leave the declared minimum untested.
            assert pins[name] >= minimum, name
            series = (pins[name].major, pins[name].minor)
            assert series == (minimum.major, minimum.minor), (name, pins[name], minimum)
