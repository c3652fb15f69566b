"""Outputs written all or nothing: staged in ``--out``, published locked (undone on failure), or one file."""

import errno
import json
import os
import re
import signal
import stat
import tempfile
import threading
from pathlib import Path

import pytest
from _file_systems import make_fifo, no_file_system
from _locks import locked_by_another, needs_flock
from _memory import traced_peak

from skcardio.cli import _output, _staging, main
from skcardio.cli._interruptions import Interrupted, catching_signals
from skcardio.cli._output import OutputError
from skcardio.cli._output_names import safe_name
from skcardio.cli._staging import atomic_file, publish, staging


def _stage_with(tmp_path: Path, files: dict[str, str], name: str = "stage") -> Path:
    stage = tmp_path / name
    for name, text in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(text)
    return stage


def test_publish_holds_little_per_file(tmp_path):
    """Three paths and a record of each move per file: ~900 bytes a file, 3.5 KB a slice of predict on a cohort."""
    stage = tmp_path / "stage"
    for k in range(20):
        (stage / f"P{k}").mkdir(parents=True)
        for i in range(100):
            (stage / f"P{k}" / f"{i}_mask.npy").touch()
    (tmp_path / "out" / "P0").mkdir(parents=True)
    (tmp_path / "out" / "P0" / "0_mask.npy").write_text("earlier")  # replaced: moved aside, then dropped
    names, peak = traced_peak(lambda: publish(stage, tmp_path / "out", owned=["P0/0_mask.npy", "gone.csv"]))
    assert len(names) == 2000 and (tmp_path / "out" / "P0" / "0_mask.npy").read_text() == ""
    assert peak / len(names) < 400


def test_publish_moves_the_files_in_the_order_of_their_paths(tmp_path):
    stage = _stage_with(tmp_path, {"a.b/c.txt": "1", "a/b.txt": "2", "a-b.txt": "3", "a/a/z.txt": "4", "A.txt": "5"})
    names = publish(stage, tmp_path / "out")
    assert names == [str(p) for p in sorted(map(Path, names))] == [
        "A.txt", os.path.join("a", "a", "z.txt"), os.path.join("a", "b.txt"), "a-b.txt", os.path.join("a.b", "c.txt")
    ]  # part by part: a/... before a-b.txt, which a string sort would put first


def test_publish_removes_the_folders_it_emptied(tmp_path):
    out = tmp_path / "out"
    (out / "old" / "deep").mkdir(parents=True)
    (out / "old" / "deep" / "x.npy").write_text("before")
    (out / "kept").mkdir()
    (out / "kept" / "a.csv").write_text("before")
    (out / "kept" / "mine.txt").write_text("the user's")
    (out / "empty").mkdir()  # not emptied by this run: left
    stage = _stage_with(tmp_path, {"new.csv": "after"})
    publish(stage, out, owned=["old/deep/x.npy", "kept/a.csv"])
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["empty", "kept", "kept/mine.txt", "new.csv"]


def test_publish_checks_every_destination_before_moving(tmp_path):
    """A clash that appears while the command runs still leaves out unchanged."""
    out = tmp_path / "out"
    (out / "b.png").mkdir(parents=True)
    (out / "a.csv").write_text("old")
    stage = _stage_with(tmp_path, {"a.csv": "new", "b.png": "new"})
    with pytest.raises(OutputError, match=r"b\.png is a directory, expected a file"):
        publish(stage, out)
    assert (out / "a.csv").read_text() == "old" and (stage / "a.csv").exists()

    (out / "p").write_text("a file where a folder is needed")
    stage = _stage_with(tmp_path, {"c.csv": "new", "p/x.npy": "new"}, "stage2")
    with pytest.raises(OutputError, match=r"p is a file, expected a directory to hold"):
        publish(stage, out)
    assert not (out / "c.csv").exists()


def test_publish_moves_nested_files_and_removes_only_owned_stale_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("old.csv", "user.txt", "kept.csv"):
        (out / name).write_text("before")
    stage = _stage_with(tmp_path, {"kept.csv": "after", "sub/x.npy": "after"})
    assert publish(stage, out, owned=["old.csv", "kept.csv", "sub/x.npy", "never_written.png"]) == [
        "kept.csv", "sub/x.npy"
    ]
    assert {p.name: p.read_text() for p in out.rglob("*") if p.is_file()} == {
        "kept.csv": "after", "x.npy": "after", "user.txt": "before"
    }


def test_staging_removes_its_folder(tmp_path):
    out = tmp_path / "not" / "yet"
    with pytest.raises(OutputError, match=f"writing the outputs failed, {out} left unchanged"):
        with staging(out, "test") as stage:
            assert stage.parent == out and out.is_dir()  # inside out, created for it
            (stage / "a").write_text("x")
            raise OSError("disk full")
    with pytest.raises(KeyboardInterrupt):
        with staging(out, "test") as stage:
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []  # out and its parent removed again: nothing was published


def test_atomic_file(tmp_path):
    target = tmp_path / "sub" / "model.pt"
    with pytest.raises(RuntimeError):
        with atomic_file(target, "test") as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []  # neither the file, its folder nor a temporary file
    with atomic_file(target, "test") as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and [p.name for p in target.parent.iterdir()] == ["model.pt"]


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield 0o027
    os.umask(previous)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_file_follows_the_umask(tmp_path, umask_027):
    """Not 0600 as tempfile.mkstemp makes it: the mode of any file the command writes."""
    target = tmp_path / "model.pt"
    with atomic_file(target, "test") as tmp:
        tmp.write_bytes(b"model")
    (tmp_path / "plain").write_text("x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask_027 == 0o640
    assert target.stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_staging_that_cannot_start_is_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "mkdtemp", no_file_system)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=f"cannot create a temporary folder in {out} for its outputs: Read-only"):
        with staging(out, "test"):
            pass  # pragma: no cover
    assert list(tmp_path.iterdir()) == []  # out, created for the outputs, removed again


def test_atomic_file_that_cannot_start_is_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_staging, "new_file", no_file_system)
    target = tmp_path / "m.pt"
    with pytest.raises(OutputError, match=f"writing {target} failed: cannot create a file in {tmp_path}: Read-only"):
        with atomic_file(target, "test"):
            pass  # pragma: no cover
    assert list(tmp_path.iterdir()) == []


def test_publish_reports_a_stale_file_it_cannot_remove_and_undoes_every_move(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("before")
    (out / "new.csv").write_text("earlier")
    stage = _stage_with(tmp_path, {"new.csv": "after", "sub/x.npy": "after"})
    real_replace = os.replace

    def failing_replace(source, dest):
        if Path(source) == out / "old.csv":
            no_file_system()
        return real_replace(source, dest)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError, match=f"removing {out / 'old.csv'}, left by an earlier run, failed: "
                       f"Read-only file system; {out} restored as it was"):
        publish(stage, out, owned=["old.csv"])
    assert {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()} == {
        "old.csv": "before", "new.csv": "earlier"
    }
    assert not (out / "sub").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_staging_under_proc_is_an_output_error():
    with pytest.raises(OutputError, match="cannot create the output folder /proc/x: "):
        with staging(Path("/proc/x"), "test"):
            pass  # pragma: no cover
    with pytest.raises(OutputError, match="writing /proc/x.pt failed: cannot create a file in /proc"):
        with atomic_file(Path("/proc/x.pt"), "test"):
            pass  # pragma: no cover


def test_atomic_file_never_replaces_a_special_file(tmp_path):
    """Checked again at the end: the name may have changed while the command ran."""
    fifo = make_fifo(tmp_path)
    with pytest.raises(OutputError, match=re.escape(f"{fifo}: is a named pipe (FIFO); expected a regular file")):
        with atomic_file(fifo, "test") as tmp:
            tmp.write_text("the model")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def _cross_device(out: Path, monkeypatch) -> None:
    """``out`` is another file system than its parent: a move in or out of it fails as the system's would."""
    def inside(path) -> bool:
        return Path(os.path.abspath(path)).is_relative_to(out)

    for name in ("replace", "rename"):
        real = getattr(os, name)

        def move(source, dest, *args, real=real, **kwargs):
            if inside(source) != inside(dest):
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real(source, dest, *args, **kwargs)

        monkeypatch.setattr(os, name, move)


def test_staging_and_publish_stay_on_outs_file_system(tmp_path, monkeypatch):
    """--out a bind mount, /dev/shm or a link to another disk: publishing from a folder beside it failed at the end."""
    out = tmp_path / "mount"
    out.mkdir()
    (out / "a.csv").write_text("earlier")
    (out / "old.png").write_text("earlier")
    _cross_device(out, monkeypatch)
    with staging(out, "test") as stage:
        assert stage.parent == out and stage.name.startswith(".skcardio-staging-test-")
        (stage / "a.csv").write_text("new")
        (stage / "sub").mkdir()
        (stage / "sub" / "b.npy").write_text("new")
        assert publish(stage, out, owned=["old.png"]) == ["a.csv", "sub/b.npy"]
    assert {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()} == {
        "a.csv": "new", "sub/b.npy": "new"
    }
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "sub"]  # the staging folder gone, never published


def test_staging_keeps_an_existing_out_and_removes_one_it_created(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's")
    with pytest.raises(OutputError, match="disk full"):
        with staging(out, "test") as stage:
            (stage / "a.csv").write_text("x")
            raise OSError("disk full")
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with staging(empty, "test"):
        pass  # predict with no slice segmented: publishes nothing
    with staging(tmp_path / "new" / "deeper", "test"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "out"]


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a tmpfs at /dev/shm")
def test_evaluate_into_a_link_to_another_file_system(tmp_path, capsys):
    """As a Docker bind mount: the work was lost to 'Invalid cross-device link' at the very end."""
    if os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system as the test folder")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as elsewhere:
        out = tmp_path / "out"
        out.symlink_to(elsewhere)
        assert main(["evaluate", "--method", "otsu", "--no-plots", "--cv", "0", "--no-progress", "--out", str(out)]) == 0
        assert sorted(os.listdir(elsewhere)) == ["evaluate.json", "per_slice.csv", "summary.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


_KILLED_RUN = """
import os, sys
from pathlib import Path
from skcardio.cli._staging import staging
with staging(Path(sys.argv[1]), "test") as stage:
    (stage / "half.npy").write_text("half written")
    os.kill(os.getpid(), 9)
"""


@pytest.mark.skipif(_staging.fcntl is None, reason="needs flock")
def test_the_next_run_removes_only_the_staging_folders_of_killed_runs(tmp_path):
    import fcntl
    import subprocess
    import sys

    import skcardio

    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(skcardio.__file__).parents[1])}
    killed = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(out)], env=env, timeout=120)
    assert killed.returncode == -9
    (left,) = out.iterdir()
    assert left.name.startswith(".skcardio-staging-test-") and (left / "half.npy").exists()
    # Kept: a running command's folder (locked), a link, another name; a listed output is never taken from them.
    running = out / ".skcardio-staging-running"
    running.mkdir()
    (running / "x.npy").write_text("being written")
    (tmp_path / "target").mkdir()
    (out / ".skcardio-staging-link").symlink_to(tmp_path / "target")
    (out / ".skcardio-mine").mkdir()
    handle = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with staging(out, "test") as stage:
            (stage / "a.csv").write_text("new")
            publish(stage, out, owned=[".skcardio-staging-running/x.npy"])
    finally:
        os.close(handle)
    assert sorted(p.name for p in out.iterdir()) == [
        ".skcardio-mine", ".skcardio-staging-link", ".skcardio-staging-running", "a.csv"
    ]
    assert (running / "x.npy").read_text() == "being written"


def test_no_output_is_named_like_a_staging_folder(tmp_path):
    """The next run would take it for a killed run's staging folder and remove it."""
    assert safe_name(".skcardio-staging-x") == "_skcardio-staging-x" and safe_name(".skcardio-x") == ".skcardio-x"
    stage = _stage_with(tmp_path, {".skcardio-staging-x/a.csv": "x"})
    with pytest.raises(OutputError, match=r"\.skcardio-staging-\* is reserved for skcardio's staging folders"):
        publish(stage, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# Two runs into one --out, case-insensitive file systems, locks that cannot be taken, moves that cannot be undone.


@needs_flock
def test_out_is_locked_from_reading_the_record_to_the_last_move(tmp_path, monkeypatch):
    """out was locked only while the staging folder was made: a concurrent run read a half-published record."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("before")
    seen = []
    real_replace = os.replace

    def replace(source, dest):
        seen.append(("move", locked_by_another(out)))
        return real_replace(source, dest)

    def owned():
        seen.append(("record", locked_by_another(out)))
        return ["old.csv"]

    monkeypatch.setattr(os, "replace", replace)
    with staging(out, "test") as stage:
        (stage / "a.csv").write_text("new")
        publish(stage, out, owned=owned)
    assert {step for step, _ in seen} == {"record", "move"} and all(locked for _, locked in seen)
    assert not locked_by_another(out)  # released
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]


@needs_flock
def test_a_run_publishing_meanwhile_waits_then_removes_what_the_other_wrote(tmp_path, monkeypatch):
    """B read the record while A's moves were in flight: A's outputs were mixed with B's, or listed by no record."""
    out = tmp_path / "out"
    out.mkdir()

    def record():  # each run's record lists its files, as evaluate.json does
        return json.loads((out / "rec.json").read_text()) if (out / "rec.json").exists() else []

    listed_a = '["a.csv", "only_a.csv", "rec.json"]'
    stage_a = _stage_with(tmp_path, {"a.csv": "A", "only_a.csv": "A", "rec.json": listed_a}, "stage_a")
    stage_b = _stage_with(tmp_path, {"a.csv": "B", "rec.json": '["a.csv", "rec.json"]'}, "stage_b")
    run_b = threading.Thread(target=publish, args=(stage_b, out), kwargs={"owned": record})
    real_replace = os.replace

    def replace(source, dest):
        if Path(source) == stage_a / "a.csv":  # A's first move: B publishes now
            run_b.start()
            run_b.join(timeout=0.5)  # B waits for out's lock (before: it was done by now)
        return real_replace(source, dest)

    monkeypatch.setattr(os, "replace", replace)
    publish(stage_a, out, owned=record)
    run_b.join(timeout=60)
    assert not run_b.is_alive()
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.csv": "B", "rec.json": '["a.csv", "rec.json"]'}


def test_publish_goes_on_unlocked_where_flock_is_unsupported(tmp_path, monkeypatch):
    """On a file system without flock (some NFS), staging and publish work as before, unlocked."""

    class NoFlock:
        LOCK_EX, LOCK_NB = 2, 4

        @staticmethod
        def flock(handle, operation):
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(_staging, "fcntl", NoFlock)
    out = tmp_path / "out"
    with staging(out, "test") as stage:
        (stage / "a.csv").write_text("new")
        assert publish(stage, out, owned=lambda: ["old.csv"]) == ["a.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]


def test_a_stale_name_that_is_an_output_under_another_case_is_kept(tmp_path, monkeypatch):
    """Where case is ignored, P1/x.png (listed by the record) is p1/x.png (written now): it was moved aside, deleted."""
    out = tmp_path / "out"
    (out / "P1").mkdir(parents=True)
    (out / "P1" / "volume_curve.png").write_text("earlier")
    stage = _stage_with(tmp_path, {"p1/volume_curve.png": "new"})
    real_replace = os.replace

    def replace(source, dest):  # as such a file system: once moved in, the new file is P1/volume_curve.png too
        real_replace(source, dest)
        if Path(dest) == out / "p1" / "volume_curve.png":
            (out / "P1" / "volume_curve.png").unlink()
            os.link(dest, out / "P1" / "volume_curve.png")

    monkeypatch.setattr(os, "replace", replace)
    publish(stage, out, owned=["P1/volume_curve.png"])
    assert (out / "P1" / "volume_curve.png").read_text() == "new"


def test_a_stale_name_differing_in_case_only_is_removed_where_case_counts(tmp_path):
    out = tmp_path / "out"
    (out / "P1").mkdir(parents=True)
    (out / "P1" / "volume_curve.png").write_text("earlier")
    stage = _stage_with(tmp_path, {"p1/volume_curve.png": "new"})
    publish(stage, out, owned=["P1/volume_curve.png"])
    assert {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()} == {
        "p1/volume_curve.png": "new"
    }


@needs_flock
def test_a_staging_folder_that_cannot_be_locked_is_an_output_error(tmp_path, monkeypatch):
    """Left unlocked (no descriptor left), a concurrent run would take it for a killed run's and remove it."""
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if os.path.basename(path).startswith(_output.STAGE_PREFIX):
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    out = tmp_path / "out"
    stage = rf"{re.escape(str(out))}/\.skcardio-staging-test-\w+"
    expected = rf"^cannot lock the staging folder {stage}: Too many open files; unlocked, a concurrent run"
    with pytest.raises(OutputError, match=expected):
        with staging(out, "test"):
            pass  # pragma: no cover
    assert list(tmp_path.iterdir()) == []  # the folder removed, and out, created for it


def _undo_fails(out: Path, monkeypatch) -> None:
    """The stale old.csv cannot be moved aside, nor the earlier new.csv put back: out cannot be restored."""
    real_replace = os.replace

    def replace(source, dest):
        if Path(source) == out / "old.csv" or (Path(dest) == out / "new.csv" and ".replaced-" in str(source)):
            no_file_system()
        return real_replace(source, dest)

    monkeypatch.setattr(os, "replace", replace)


def _publish_new_csv(out: Path) -> None:
    with staging(out, "test") as stage:
        (stage / "new.csv").write_text("after")
        publish(stage, out, owned=["old.csv"])


def test_earlier_outputs_that_cannot_be_put_back_are_kept_and_named(tmp_path, monkeypatch):
    """They were left in the staging folder, which was then deleted; the message said only "not fully restored"."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("before")
    (out / "new.csv").write_text("earlier")
    _undo_fails(out, monkeypatch)
    with pytest.raises(OutputError) as raised:
        _publish_new_csv(out)
    (kept,) = [p for p in out.iterdir() if p.name.startswith(".skcardio-kept-test-")]
    (earlier,) = kept.glob(".replaced-*/0")
    assert earlier.read_text() == "earlier" and (kept / "new.csv").read_text() == "after"
    assert str(raised.value).endswith(
        f"{out} could not be fully restored: {out / 'new.csv'} (Read-only file system; its earlier version is "
        f"{earlier}); the files moved aside and this run's outputs are kept in {kept}"
    )
    monkeypatch.undo()
    # No later run removes it, nor does a record listing a file there make one.
    with staging(out, "test") as stage:
        (stage / "a.csv").write_text("x")
        publish(stage, out, owned=[str(earlier.relative_to(out))])
    assert earlier.read_text() == "earlier"
    with pytest.raises(OutputError, match=r"\.skcardio-kept-\* is reserved for skcardio's staging folders"):
        publish(_stage_with(tmp_path, {f"{kept.name}/x.csv": "x"}), out)


def test_a_kept_folder_that_cannot_be_renamed_stays_under_its_name(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("before")
    (out / "new.csv").write_text("earlier")
    _undo_fails(out, monkeypatch)
    monkeypatch.setattr(os, "rename", no_file_system)
    with pytest.raises(OutputError, match=r"kept in .*/\.skcardio-staging-test-\w+ \(it could not be renamed "
                       r"\.skcardio-kept-test-\w+: Read-only file system; a later run into .* removes it"):
        _publish_new_csv(out)
    (stage,) = [p for p in out.iterdir() if p.name.startswith(".skcardio-staging-test-")]
    (earlier,) = stage.glob(".replaced-*/0")
    assert earlier.read_text() == "earlier"


def test_a_signal_during_moves_that_cannot_be_undone_does_not_hide_the_kept_folder(tmp_path, monkeypatch):
    """Ctrl-C during such a publish ended as "interrupted: out left unchanged", the kept folder unnamed."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("before")
    (out / "new.csv").write_text("earlier")
    _undo_fails(out, monkeypatch)
    failing_replace = os.replace

    def replace(source, dest):
        if Path(source) == out / "old.csv":
            os.kill(os.getpid(), signal.SIGINT)  # held by publish until its moves are over
        return failing_replace(source, dest)

    monkeypatch.setattr(os, "replace", replace)
    with catching_signals(), pytest.raises(OutputError) as raised:
        _publish_new_csv(out)
    assert not isinstance(raised.value, Interrupted)
    (kept,) = [p for p in out.iterdir() if p.name.startswith(".skcardio-kept-test-")]
    assert f"kept in {kept}" in str(raised.value)


@needs_flock
def test_a_command_waiting_for_another_ones_lock_says_so(tmp_path, caplog):
    """flock OUT skcardio ... --out OUT (or a slow run beside) waited silently."""
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    held = os.open(out, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # another run publishing
    releaser = threading.Timer(0.3, os.close, (held,))
    releaser.start()
    with caplog.at_level("WARNING", logger="skcardio.cli"):
        handle = _staging._lock(out, wait=True)
    releaser.join()
    assert handle is not None
    os.close(handle)
    assert f"waiting for another skcardio command that is writing to {out}" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="skcardio.cli"):
        os.close(_staging._lock(out, wait=True))  # free: no message
    assert "waiting" not in caplog.text
