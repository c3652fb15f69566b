"""The import rule of ``docs/design.md`` holds: between subpackages, public names come from the public place.

A subpackage imports another's public names (those in its ``__all__``) from
the subpackage itself, never from its private module. Shared on purpose and
imported from their private modules: ``skcardio.utils._validation``, the
top-level ``skcardio._*`` helper modules, and the internal helpers listed in
:data:`SHARED_INTERNAL` (each named in ``docs/design.md``). No name with a
leading underscore is imported from another subpackage.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skcardio"
DESIGN = ROOT / "docs" / "design.md"

#: Internal helpers other subpackages import from the private module that defines them:
#: module -> names. Each is one definition every subpackage uses alike (see docs/design.md).
SHARED_INTERNAL = {
    "skcardio.io._limits": {
        "read_regular", "open_regular", "utf8_text", "NotUtf8", "quote", "shorten", "special_file", "PIXEL_SPACING_MM",
        "check_study_bytes",
    },
    "skcardio.io._json_stream": {"JsonStream", "read_json"},
    "skcardio.io._parallel": {"read_dicoms_or_errors", "is_cache"},
    "skcardio.io._mask": {"polygon_area", "largest_component", "outside_image"},
    "skcardio.io._contour": {"check_polygon"},
    "skcardio.datasets._dataset": {"reason_kind"},
    "skcardio.datasets._layout": {"folder_refusal", "layout_kind"},
    "skcardio.metrics._distance": {"square_pixels"},
    "skcardio.segment._unet_runtime": {"import_skorch", "resolve_device", "degenerate_message"},
    "skcardio.segment._unet_file": {"PRETRAINED"},
}


def _cross_imports() -> list[tuple[str, int, str, str]]:
    """``(file, line, module, name)`` of every import of one subpackage's name in another's code."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts  # ("skcardio", "io", "_dicom")
        package = parts[:-1]
        own = package[1] if len(package) > 1 else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                module = [*package[: len(package) - node.level + 1], *(node.module or "").split(".")]
            else:
                module = (node.module or "").split(".")
            module = [part for part in module if part]
            if module[:1] != ["skcardio"] or len(module) < 2 or module[1].startswith("_") or module[1] == own:
                continue  # another package, skcardio's top-level modules, or the same subpackage
            for alias in node.names:
                found.append((str(path.relative_to(ROOT)), node.lineno, ".".join(module), alias.name))
    return found


def test_the_walk_sees_the_imports_it_judges():
    found = {(module, name) for _, _, module, name in _cross_imports()}
    assert ("skcardio.utils._validation", "check_masks") in found
    assert ("skcardio.io", "get_limits") in found  # public, from the public place
    assert ("skcardio.io._limits", "read_regular") in found


def test_public_names_come_from_the_subpackage_and_private_modules_only_share_listed_helpers():
    wrong = []
    for path, line, module, name in _cross_imports():
        subpackage = ".".join(module.split(".")[:2])
        if module == subpackage or module == "skcardio.utils._validation":
            if name.startswith("_") and not name.startswith("__"):
                wrong.append(f"{path}:{line}: {module} import {name} (a private name)")
            continue
        public = name in getattr(importlib.import_module(subpackage), "__all__", ())
        if public or name not in SHARED_INTERNAL.get(module, set()):
            why = f"public: import it from {subpackage}" if public else "not a listed shared helper"
            wrong.append(f"{path}:{line}: {module} import {name} ({why})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(SHARED_INTERNAL))
def test_every_shared_helper_is_used_and_named_in_the_design_page(module):
    text = " ".join(DESIGN.read_text(encoding="utf-8").split())
    used = {name for _, _, imported, name in _cross_imports() if imported == module}
    assert SHARED_INTERNAL[module] <= used  # no stale entry
    assert f"`{module}`" in text
    for name in SHARED_INTERNAL[module]:
        assert f"`{name}`" in text
