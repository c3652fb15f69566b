"""numpydoc validation of every public docstring (as scikit-learn's test_docstrings.py).

Every name in a subpackage's ``__all__`` is validated with
:func:`numpydoc.validate.validate`, and for classes every public method and
property they define (methods inherited from scikit-learn are scikit-learn's
to document). A docstring fails on any error whose code is in :data:`CHECKS`
(the codes and their messages: ``numpydoc.validate.ERROR_MSGS``).

Not checked, for every object: ``ES01`` (an extended summary: short
docstrings are fine), ``SA01`` (a See Also section), ``SA04`` (descriptions
of See Also entries), ``RT02`` (a single returned value may be named,
``masks : ndarray of shape (n, H, W)``, as scikit-learn's are). ``EX01`` (an Examples section) is required of public
functions and classes, not of methods (the class's example shows them) nor of
exception and warning classes. The API reference (``docs/api.rst``) must list
every public name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import skcardio

numpydoc_validate = pytest.importorskip("numpydoc.validate")

#: Every public subpackage and module of skcardio.
SUBPACKAGES = sorted(m.name for m in pkgutil.iter_modules(skcardio.__path__) if not m.name.startswith("_"))
API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

#: The numpydoc checks applied (all of numpydoc's but ES01, SA01, SA04, RT02; EX01 see above).
CHECKS = set(numpydoc_validate.ERROR_MSGS) - {"ES01", "SA01", "SA04", "RT02"}

#: Objects allowed to fail some checks, each with its own reason: ``{path: (codes, reason)}``.
#: Empty: every public docstring passes every check in CHECKS. An entry needs a reason
#: specific to that object (what numpydoc cannot express there), not a shared one.
EXEMPT: dict[str, tuple[set[str], str]] = {}


def _public_objects() -> list[tuple[str, object, str]]:
    """``(import path, object, kind)`` of every public function, class, method and property."""
    found = []
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"skcardio.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            path = f"skcardio.{sub}.{name}"
            if inspect.isclass(obj):
                found.append((path, obj, "class"))
                for member, value in vars(obj).items():
                    if not member.startswith("_") and (
                        inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod))
                    ):
                        found.append((f"{path}.{member}", value, "method"))
            elif inspect.isfunction(obj):
                found.append((path, obj, "function"))
    return found


PUBLIC = _public_objects()


def _checks_for(path: str, obj, kind: str) -> set[str]:
    checks = set(CHECKS)
    if kind == "method" or (inspect.isclass(obj) and issubclass(obj, (Exception, Warning))):
        checks.discard("EX01")
    exempt, _reason = EXEMPT.get(path, (set(), ""))
    return checks - exempt


@pytest.mark.parametrize(("path", "obj", "kind"), PUBLIC, ids=[path for path, _, _ in PUBLIC])
def test_docstring(path, obj, kind):
    checks = _checks_for(path, obj, kind)
    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(path)["errors"]
        if code in checks
    ]
    assert not errors, f"{path}:\n" + "\n".join(errors)


def _stale_exemptions(exempt, public_paths, errors_of) -> list[str]:
    """What is wrong with ``exempt``: paths no longer public, codes that no longer fail.

    ``errors_of(path)`` gives the codes numpydoc reports for ``path``.
    """
    problems = []
    for path, (codes, _reason) in exempt.items():
        if path not in public_paths:
            problems.append(f"{path} is exempt but not public")
            continue
        passing = codes - set(errors_of(path))
        if passing:
            problems.append(f"{path} passes {sorted(passing)} now: drop them from EXEMPT")
    return problems


def _vague_reasons(exempt) -> list[str]:
    """Exemptions whose reason is missing or shared with another exemption."""
    problems = []
    paths_by_reason: dict[str, list[str]] = {}
    for path, (_codes, reason) in exempt.items():
        if not reason.strip():
            problems.append(f"{path}: every exemption needs a reason")
        else:
            paths_by_reason.setdefault(reason.strip(), []).append(path)
    for reason, paths in paths_by_reason.items():
        if len(paths) > 1:
            problems.append(f"{sorted(paths)} share the reason {reason!r}: one reason per object")
    return problems


def _numpydoc_codes(path: str) -> set[str]:
    return {code for code, _ in numpydoc_validate.validate(path)["errors"]}


_NO_EXEMPTIONS = pytest.mark.skipif(not EXEMPT, reason="EXEMPT is empty: no exemption to check")


@_NO_EXEMPTIONS
def test_every_exemption_is_still_needed():
    problems = _stale_exemptions(EXEMPT, {path for path, _, _ in PUBLIC}, _numpydoc_codes)
    assert not problems, "\n".join(problems)


def test_a_stale_exemption_is_reported():
    """The check above on made-up exemptions (EXEMPT itself is empty)."""
    public = {"skcardio.x.f", "skcardio.x.g"}
    failing = {"skcardio.x.f": {"PR01"}, "skcardio.x.g": set()}
    exempt = {
        "skcardio.x.f": ({"PR01"}, "still needed"),
        "skcardio.x.g": ({"PR01", "EX01"}, "fixed since"),
        "skcardio.x.gone": ({"PR01"}, "no longer public"),
    }
    assert _stale_exemptions(exempt, public, failing.__getitem__) == [
        "skcardio.x.g passes ['EX01', 'PR01'] now: drop them from EXEMPT",
        "skcardio.x.gone is exempt but not public",
    ]
    assert _stale_exemptions({"skcardio.x.f": ({"PR01"}, "needed")}, public, failing.__getitem__) == []


def test_api_reference_lists_every_public_name():
    page = API_PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^   (\w+)$", page, flags=re.M))  # autosummary entries
    documented |= {name.rsplit(".", 1)[-1] for name in re.findall(r"^\.\. py:data:: ([\w.]+)$", page, flags=re.M)}
    for sub in SUBPACKAGES:
        missing = set(importlib.import_module(f"skcardio.{sub}").__all__) - documented
        assert not missing, f"docs/api.rst lacks skcardio.{sub}: {sorted(missing)}"


@_NO_EXEMPTIONS
def test_exemption_reasons_are_specific():
    problems = _vague_reasons(EXEMPT)
    assert not problems, "\n".join(problems)


def test_a_vague_exemption_reason_is_reported():
    """The check above on made-up exemptions (EXEMPT itself is empty)."""
    exempt = {
        "skcardio.x.f": ({"PR01"}, "numpydoc cannot document f's *args"),
        "skcardio.x.g": ({"PR01"}, " "),
        "skcardio.x.h": ({"EX01"}, "legacy"),
        "skcardio.x.k": ({"SS05"}, "legacy"),
    }
    assert _vague_reasons(exempt) == [
        "skcardio.x.g: every exemption needs a reason",
        "['skcardio.x.h', 'skcardio.x.k'] share the reason 'legacy': one reason per object",
    ]
    assert _vague_reasons({"skcardio.x.f": exempt["skcardio.x.f"]}) == []
