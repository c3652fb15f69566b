"""Output names made from input names: one path component each, distinct, and short enough for a file system.

Names derived from input files go through :func:`safe_name`, and
:func:`unique_names` makes them distinct and short enough for a file system
(:func:`fit_name`, at most :data:`NAME_MAX` bytes a component).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from .._files import NAME_MAX
from ._output import _is_reserved_name

__all__ = ["safe_name", "fit_name", "unique_names", "NAME_MAX"]


def safe_name(name: str) -> str:
    """``name`` made safe as one path component of an output: no separator, control character, ``.`` or ``..``.

    Separators (``/``, ``\\``), ``:`` and control characters become ``_``;
    a name of dots only (``.``, ``..``, the stem of ``..dcm``) gets its dots
    replaced too, so that no output lands beside ``--out``, and so does the
    first dot of a name starting with :data:`STAGE_PREFIX` or :data:`KEPT_PREFIX`.

    Examples
    --------
    >>> safe_name(".."), safe_name("a/b"), safe_name("x\\ny"), safe_name("IM-0001-0048")
    ('__', 'a_b', 'x_y', 'IM-0001-0048')
    """
    cleaned = "".join("_" if ch in _UNSAFE or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name)
    if cleaned.strip(".") == "":
        cleaned = "_" * max(len(cleaned), 1)
    if _is_reserved_name(cleaned):  # would be taken for a staging folder (and removed by the next run) or a kept one
        cleaned = "_" + cleaned[1:]
    return cleaned


_UNSAFE = set("/\\:")

#: What :func:`fit_name` puts after the start of a name it shortens: ``~`` and 8 hexadecimal digits.
_DIGEST_CHARS = 9


def fit_name(name: str, room: int = 0) -> str:
    """``name`` if it and ``room`` more bytes fit in :data:`NAME_MAX` bytes, else its start, ``~`` and a hash.

    The hash (8 hexadecimal digits of the SHA-1 of the whole name) keeps two
    long names with the same start apart, and gives the same name on every
    run. ``room`` is kept for what the caller appends (``_overlay.png``).

    Examples
    --------
    >>> fit_name("48"), len(fit_name("L" * 300)), fit_name("L" * 300)[-9:]
    ('48', 255, '~5ef107de')
    >>> len(fit_name("L" * 300, room=12).encode()) + 12
    255
    """
    limit = NAME_MAX - room
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha1(encoded).hexdigest()[:8]
    start, used = 0, 0
    while used + len(name[start].encode("utf-8", "surrogateescape")) <= limit - _DIGEST_CHARS:  # whole characters
        used += len(name[start].encode("utf-8", "surrogateescape"))
        start += 1
    return f"{name[:start]}~{digest}"


def unique_names(
    names: Sequence[Path], *, room: int = 0, taken: Iterable[str] = ()
) -> list[tuple[Path, str]]:
    """Output names for ``names`` (relative paths): each fits a file system, no two are the same file.

    Every part goes through :func:`fit_name` (the last part keeping ``room``
    bytes for the caller's suffixes). Names are compared ignoring case (``X``
    and ``x`` are one file on macOS and Windows); the first of equal names
    keeps it, each later one gets ``_2``, ``_3``... on its last part: the
    first free one, a name of the list or of ``taken`` counting as used even
    when it comes later, so a folder really called ``x_2`` keeps its name.
    Linear in the number of names: ``n`` copies of one name take ``n``
    tries in all, not ``n^2 / 2``.

    Returns
    -------
    list of (Path, str)
        The name for each of ``names``, in order, and why it differs from the
        name given (``""`` when it does not).

    Examples
    --------
    >>> [str(n) for n, _ in unique_names([Path("x_y"), Path("x_y"), Path("x_y_2")])]
    ['x_y', 'x_y_3', 'x_y_2']
    >>> name, why = unique_names([Path("P1/1"), Path("p1/1")])[1]
    >>> str(name), why
    ('p1/1_2', 'p1/1 is already the name of another output')
    """
    fitted = [Path(*(fit_name(part, room if i == len(name.parts) - 1 else 0) for i, part in enumerate(name.parts)))
              for name in names]
    keys = [str(name).lower() for name in fitted]
    reserved = {name.lower() for name in taken}
    used = set(keys) | reserved
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    # The next suffix to try for each folder and name: the ones before it are taken (used only grows),
    # so n copies of one name take O(n) tries in all, not O(n^2).
    next_suffix: dict[tuple[str, str], int] = {}
    result = []
    for i, (name, fit, key) in enumerate(zip(names, fitted, keys)):
        if first[key] == i and key not in reserved:
            result.append((fit, "" if fit == name else f"the name is too long for a file system (at most {NAME_MAX} bytes)"))
            continue
        # Same folder (ignoring case) and same name: the same candidates, in the same order.
        series = (str(fit.parent).lower(), name.name)
        k = next_suffix.get(series, 2)
        while True:
            suffix = f"_{k}"
            candidate = fit.parent / (fit_name(name.name, room + len(suffix)) + suffix)
            if str(candidate).lower() not in used:
                break
            k += 1
        next_suffix[series] = k + 1
        used.add(str(candidate).lower())
        result.append((candidate, f"{fit} is already the name of another output"))
    return result
