"""skcardio._folders: the one folder walker, which names the folders it cannot read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _hostile import deny_folders, nested_folders

from skcardio._folders import MAX_FOLDER_DEPTH, list_folder, walk_folder


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


def _os_walk_folder(folder, *, hidden=True):
    """walk_folder as it was, on os.walk (recursive before Python 3.12): what the stack must give."""
    entries, problems = [], []

    def unreadable(exc):
        problems.append((exc.filename if exc.filename is not None else os.fspath(folder), str(exc.strerror)))

    for top, folders, files in os.walk(folder, onerror=unreadable):
        if not hidden:
            folders[:] = [name for name in folders if not name.startswith(".")]
            files = [name for name in files if not name.startswith(".")]
        entries += [Path(top, name) for name in folders + files]
    return sorted(entries), sorted(problems)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_walk_gives_what_os_walk_gave_links_and_loops_included(tmp_path, monkeypatch):
    root = _tree(tmp_path / "root")
    (root / "a" / "b" / "up").symlink_to(root / "a")  # a loop: listed, not entered
    (root / "a" / "self").symlink_to(root / "a" / "self")  # a link to itself
    (root / "a" / "gone").symlink_to(root / "missing")  # broken
    (root / "c" / "file").symlink_to(root / "5.dcm")
    (root / "c" / ".hidden_link").symlink_to(root / "a")
    (root / "e" / "f" / "g").mkdir(parents=True)
    for hidden in (True, False):
        assert walk_folder(root, hidden=hidden)[0] == _os_walk_folder(root, hidden=hidden)[0]
    deny_folders(monkeypatch, root / "a" / "b", root / "e" / "f")
    entries, problems = walk_folder(root)
    assert entries == _os_walk_folder(root)[0]
    assert [folder for folder, _ in problems] == [folder for folder, _ in _os_walk_folder(root)[1]]


def test_walk_enters_folders_down_to_its_depth_bound_and_names_a_deeper_one(tmp_path):
    """os.walk recurses once per level before Python 3.12: 1100 nested folders raised RecursionError."""
    root = tmp_path / "root"
    root.mkdir()
    with nested_folders(root) as deepest:
        at_bound = root.joinpath(*["d"] * MAX_FOLDER_DEPTH)
        (at_bound / "1.dcm").write_bytes(b"")
        (deepest / "2.dcm").write_bytes(b"")
        entries, problems = walk_folder(root)
        assert problems == [(str(at_bound / "d"), "folder nested more than 100 levels deep: not read")]
        # Every folder down to the bound is listed and entered, the next one listed alone.
        assert entries == sorted([*(root.joinpath(*["d"] * n) for n in range(1, MAX_FOLDER_DEPTH + 2)), at_bound / "1.dcm"])
