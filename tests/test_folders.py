"""skcardio._folders: the one folder walker, which names the folders it cannot read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _hostile import deny_folders

from skcardio._folders import list_folder, walk_folder


def _tree(root: Path) -> Path:
    for name in ("a/1.dcm", "a/b/2.dcm", "a/.hidden/3.dcm", "a/.x.dcm", "c/4.dcm", "5.dcm"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    return root


def test_walk_lists_what_rglob_lists(tmp_path):
    root = _tree(tmp_path)
    if os.name == "posix":
        (root / "link").symlink_to(root / "c")  # listed, not entered (as rglob)
    entries, problems = walk_folder(root)
    assert entries == sorted(root.rglob("*")) and problems == []
    visible, _ = walk_folder(root, hidden=False)
    assert [str(p.relative_to(root)) for p in visible if p.is_file()] == ["5.dcm", "a/1.dcm", "a/b/2.dcm", "c/4.dcm"]


def test_walk_names_the_folders_it_cannot_read(tmp_path, monkeypatch):
    root = _tree(tmp_path)
    deny_folders(monkeypatch, root / "a" / "b", root / "c")
    entries, problems = walk_folder(root)
    assert root / "a" / "b" / "2.dcm" not in entries and root / "a" / "1.dcm" in entries
    assert problems == [(str(root / "a" / "b"), "cannot read folder: permission denied"),
                        (str(root / "c"), "cannot read folder: permission denied")]
    # Path.rglob, which this replaces, passes over them without a word.
    assert root / "a" / "1.dcm" in list(root.rglob("*")) and root / "c" / "4.dcm" not in list(root.rglob("*"))
    deny_folders(monkeypatch, root)
    assert walk_folder(root) == ([], [(str(root), "cannot read folder: permission denied")])


def test_list_folder_sorts_and_raises(tmp_path, monkeypatch):
    root = _tree(tmp_path)
    assert [entry.name for entry in list_folder(root)] == ["5.dcm", "a", "c"]
    deny_folders(monkeypatch, root / "a")
    with pytest.raises(PermissionError):
        list_folder(root / "a")
