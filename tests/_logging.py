"""Logging as a command sets it up outside pytest, for the tests of what commands log."""

import logging
from contextlib import contextmanager


@contextmanager
def command_logging(monkeypatch):
    """Without pytest's root handlers (installed for the test's call, where no fixture can remove them), so
    that skcardio's own handler prints on stderr; yields the root logger. Its level and skcardio's are
    restored after, by setLevel: it also clears the loggers' caches."""
    root, ours = logging.getLogger(), logging.getLogger("skcardio")
    monkeypatch.setattr(root, "handlers", [])
    levels = root.level, ours.level
    try:
        yield root
    finally:
        root.setLevel(levels[0])
        ours.setLevel(levels[1])
