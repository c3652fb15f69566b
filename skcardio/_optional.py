"""Optional dependencies, imported when first needed, with an error that says how to install them."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]


def import_optional(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise an ImportError naming the extra that installs it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"pandas"``.
    extra : str
        The skcardio extra that installs it, e.g. ``"pandas"`` for
        ``pip install "skcardio[pandas]"``.
    purpose : str
        What needs it, e.g. ``"as_frame=True"``.

    Raises
    ------
    ImportError
        If ``module`` is not installed.

    Examples
    --------
    >>> from skcardio._optional import import_optional
    >>> import_optional("numpy", "test", "the example").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} requires {module}, which is not installed: "
            f'pip install "skcardio[{extra}]" (or pip install {module})'
        ) from exc
