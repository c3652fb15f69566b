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

#: Objects allowed to fail some checks, and why: code from branches that were still
#: changing these files when this test was written (2026-12-06: the U-Net, DICOM
#: reading, the clinical report, resource limits). Fix them and drop them from here once those
#: branches have landed.
_OTHER_BRANCHES = "file under change on other branches; fix once they land"
EXEMPT: dict[str, tuple[set[str], str]] = {
    # DicomSlice's fields are documented under Attributes (a dataclass's fields are its parameters).
    "skcardio.io.DicomSlice": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter": ({"PR07"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter.fit": ({"RT03"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter.predict_proba": ({"PR07"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter.predict": ({"PR07"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter.save": ({"PR07"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter.load": ({"PR07"}, _OTHER_BRANCHES),
    "skcardio.analysis.plot_bland_altman": ({"RT03", "PR07"}, _OTHER_BRANCHES),
    "skcardio.analysis.plot_ed_es_sheet": ({"RT03", "PR07"}, _OTHER_BRANCHES),
    "skcardio.analysis.plot_volume_curve": ({"RT03", "PR07", "PR08"}, _OTHER_BRANCHES),
    "skcardio.clinical.CardiacFunction": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.clinical.CardiacFunction.as_dict": ({"RT01"}, _OTHER_BRANCHES),
    "skcardio.clinical.SliceSelection": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.clinical.SliceSelection.table": ({"PR01", "RT01"}, _OTHER_BRANCHES),
    "skcardio.clinical.StudyMeasurement": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.clinical.StudyMeasurement.row": ({"RT01"}, _OTHER_BRANCHES),
    "skcardio.clinical.cardiac_function": ({"RT03", "PR08"}, _OTHER_BRANCHES),
    "skcardio.clinical.expert_masks": ({"PR07", "EX01"}, _OTHER_BRANCHES),
    "skcardio.clinical.measure_study": ({"RT03", "PR01", "EX01", "PR07", "PR08"}, _OTHER_BRANCHES),
    "skcardio.clinical.segment_study": ({"PR01", "EX01", "RT01"}, _OTHER_BRANCHES),
    "skcardio.clinical.select_lv_slices": ({"RT03", "PR07"}, _OTHER_BRANCHES),
    "skcardio.clinical.slice_areas": ({"PR01", "RT01"}, _OTHER_BRANCHES),
    "skcardio.io.CineGeometry": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.io.CineGeometry.n_phases": ({"GL08"}, _OTHER_BRANCHES),
    "skcardio.io.CineGeometry.n_slices": ({"GL08"}, _OTHER_BRANCHES),
    "skcardio.io.CineStudy": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.io.SetAside": ({"PR01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.io.find_dicom_files": ({"PR01", "EX01", "RT01"}, _OTHER_BRANCHES),
    "skcardio.io.read_cine": ({"PR04", "RT03"}, _OTHER_BRANCHES),
    "skcardio.metrics.ejection_fractions": ({"PR07", "EX01"}, _OTHER_BRANCHES),
    "skcardio.metrics.ef_absolute_error": ({"RT03", "PR07"}, _OTHER_BRANCHES),
    "skcardio.metrics.make_ef_scorer": ({"RT01"}, _OTHER_BRANCHES),
    "skcardio.segment.UNetSegmenter.predict_with_proba": ({"PR07"}, _OTHER_BRANCHES),
    "skcardio.io.Limits": ({"PR01"}, _OTHER_BRANCHES),
    "skcardio.io.Limits.refusal": ({"RT01", "PR01"}, _OTHER_BRANCHES),
    "skcardio.io.get_limits": ({"RT01", "EX01"}, _OTHER_BRANCHES),
    "skcardio.io.limits_context": ({"PR01", "EX01", "YD01"}, _OTHER_BRANCHES),
    "skcardio.io.set_limits": ({"RT01"}, _OTHER_BRANCHES),
}


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


def test_every_exemption_is_still_needed():
    paths = {path for path, _, _ in PUBLIC}
    for path, (codes, _reason) in EXEMPT.items():
        assert path in paths, f"{path} is exempt but not public"
        failing = {code for code, _ in numpydoc_validate.validate(path)["errors"]}
        assert codes <= failing, f"{path} passes {codes - failing} now: drop them from EXEMPT"


def test_api_reference_lists_every_public_name():
    page = API_PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^   (\w+)$", page, flags=re.M))  # autosummary entries
    documented |= {name.rsplit(".", 1)[-1] for name in re.findall(r"^\.\. py:data:: ([\w.]+)$", page, flags=re.M)}
    for sub in SUBPACKAGES:
        missing = set(importlib.import_module(f"skcardio.{sub}").__all__) - documented
        assert not missing, f"docs/api.rst lacks skcardio.{sub}: {sorted(missing)}"
