"""The all-or-nothing output helpers shared by the sub-commands."""

import argparse
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
from _locks import locked_by_another, needs_flock

from skcardio.cli import _output, main
from skcardio.cli._output import (
    NAME_MAX,
    Interrupted,
    OutputError,
    atomic_file,
    catching_signals,
    check_outside_inputs,
    fit_name,
    out_dir,
    out_file,
    publish,
    safe_name,
    staging,
    unique_names,
)


def _stage_with(tmp_path: Path, files: dict[str, str], name: str = "stage") -> Path:
    stage = tmp_path / name
    for name, text in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(text)
    return stage


def test_out_dir_and_out_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert out_dir(str(tmp_path / "new" / "deeper")) == str(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(argparse.ArgumentTypeError, match="exists and is not a directory"):
        out_dir(str(tmp_path / "afile"))
    with pytest.raises(argparse.ArgumentTypeError, match="afile is a file, expected a directory"):
        out_dir(str(tmp_path / "afile" / "sub"))
    assert out_file(str(tmp_path / "new" / "m.pt")) == str(tmp_path / "new" / "m.pt")
    with pytest.raises(argparse.ArgumentTypeError, match="is a directory, expected a file name"):
        out_file(str(tmp_path))
    with pytest.raises(argparse.ArgumentTypeError, match="afile: exists and is not a directory"):
        out_file(str(tmp_path / "afile" / "m.pt"))


@pytest.mark.parametrize("check", [out_dir, out_file])
def test_an_empty_out_is_refused(check, tmp_path, monkeypatch):
    """Path("") is "."; --out "" (an unset shell variable) wrote into the current folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(argparse.ArgumentTypeError, match="an empty path; expected the name of the output"):
        check("")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["predict", "x.dcm"], ["report", "x"], ["evaluate"], ["train"], ["qc", "--csv"]])
def test_every_command_refuses_an_empty_out(command, capsys):
    argv = command + ([""] if command[-1] == "--csv" else ["--out", ""])
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and "an empty path" in capsys.readouterr().err


def test_check_outside_inputs(tmp_path):
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "images" / "a.png").write_bytes(b"input")
    (tmp_path / "link").symlink_to(data)
    for out, says in [
        (data / "images" / "a.png", f"--out {data / 'images' / 'a.png'}: lies inside the input folder {data};"),
        (data / "res", "lies inside the input folder"),
        (tmp_path / "link" / "res", f"lies inside the input folder {data}"),  # through a link
        (data, f"--out {data}: is the input {data};"),
    ]:
        with pytest.raises(OutputError, match=re.escape(says)):
            check_outside_inputs(out, [str(data)])
    with pytest.raises(OutputError, match=re.escape(f"--csv {data / 'q.csv'}: lies inside")):
        check_outside_inputs(data / "q.csv", [data], option="--csv")
    # --out may hold an input file given directly, as long as no output is one or lies in an input folder.
    check_outside_inputs(data / "images", [data / "images" / "a.png"], ["a_mask.png"])
    with pytest.raises(OutputError, match=re.escape(f"{data / 'images' / 'a.png'}: would replace the input")):
        check_outside_inputs(data / "images", [data / "images" / "a.png"], ["a.png"])
    with pytest.raises(OutputError, match=re.escape(f"{tmp_path / 'data' / 'x.npy'}: would be written inside the "
                                                    f"input folder {data}; expected an --out whose outputs stay "
                                                    f"outside every input; {tmp_path} left unchanged")):
        check_outside_inputs(tmp_path, [data], ["report.csv", "data/x.npy"])
    check_outside_inputs(tmp_path / "out", [data], ["data/x.npy"])


def test_unique_names_never_gives_a_name_twice():
    """"x y" and "x_y" both become x_y: the second gets the first free suffix, not the one a later folder has."""
    names = [Path("x_y"), Path("x_y"), Path("x_y_2"), Path("X_Y"), Path("report.csv")]
    got = unique_names(names, taken=["report.csv"])
    assert [str(name) for name, _ in got] == ["x_y", "x_y_3", "x_y_2", "X_Y_4", "report.csv_2"]
    assert [why for _, why in got] == ["", "x_y is already the name of another output", "",
                                       "X_Y is already the name of another output",
                                       "report.csv is already the name of another output"]
    # Only the last part gets the suffix: two P1/1 from two folders named P1.
    assert [str(n) for n, _ in unique_names([Path("P1/1"), Path("P1/1"), Path("P1/2")])] == ["P1/1", "P1/1_2", "P1/2"]


def test_long_names_are_shortened_the_same_way_every_time():
    long = "L" * 245
    name = fit_name(long, room=len("_overlay.png"))
    assert len((name + "_overlay.png").encode()) == NAME_MAX and name.startswith("L" * 200)
    assert fit_name(long, room=12) == name != fit_name("L" * 244 + "M", room=12)  # the hash keeps them apart
    assert fit_name("é" * 200) != "é" * 200 and len(fit_name("é" * 200).encode()) <= NAME_MAX  # bytes, not characters
    ((first, why), (second, _)) = unique_names([Path("d") / long, Path("d") / long], room=12)
    assert first == Path("d") / name and "too long" in why
    assert len((second.name + "_overlay.png").encode()) <= NAME_MAX and second != first


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


def test_train_and_qc_check_their_output_path_first(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(tmp_path), "--epochs", "1"])  # a folder: fails before training
    assert exit_info.value.code == 2
    assert "skcardio train: error: argument --out:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["qc", "--csv", str(tmp_path / "afile" / "qc.csv")])
    assert exit_info.value.code == 2
    assert "afile: exists and is not a directory" in capsys.readouterr().err
    assert main(["qc", "--csv", str(tmp_path / "new" / "qc.csv")]) == 0
    assert (tmp_path / "new" / "qc.csv").is_file()


def test_no_command_writes_over_or_inside_its_inputs(tmp_path, monkeypatch, capsys):
    """qc --csv DS/link.csv broke the dataset; train --out IMGROOT/images/x.png replaced an input image."""
    import shutil

    from skcardio.datasets import get_sample_path
    from skcardio.segment import UNetSegmenter

    def no_fit(*args, **kwargs):  # pragma: no cover - reached only if the check misses
        raise AssertionError("trained although the model would replace an input")

    monkeypatch.setattr(UNetSegmenter, "fit", no_fit)
    dataset = tmp_path / "DS"
    shutil.copytree(get_sample_path(), dataset)
    link = (dataset / "link.csv").read_bytes()
    images = tmp_path / "IMG"
    for sub in ("images", "labels"):
        (images / sub).mkdir(parents=True)
        (images / sub / "a.png").write_bytes(b"an input image")
    for argv, option, target, folder in [
        (["qc", str(dataset), "--csv"], "--csv", dataset / "link.csv", dataset),
        (["qc", "--csv"], "--csv", get_sample_path() / "qc.csv", get_sample_path()),  # the embedded sample
        (["train", str(images), "--epochs", "1", "--out"], "--out", images / "images" / "a.png", images),
        (["evaluate", str(dataset), "--no-plots", "--out"], "--out", dataset / "results", dataset),
    ]:
        assert main([*argv, str(target)]) == 2, argv
        err = capsys.readouterr().err
        assert f"skcardio {argv[0]}: error: {option} {target}: lies inside the input folder {folder}" in err, err
    assert (dataset / "link.csv").read_bytes() == link and (images / "images" / "a.png").read_bytes() == b"an input image"
    assert not (dataset / "results").exists() and not (get_sample_path() / "qc.csv").exists()


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


def _no_file_system(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


def test_staging_that_cannot_start_is_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "mkdtemp", _no_file_system)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=f"cannot create a temporary folder in {out} for its outputs: Read-only"):
        with staging(out, "test"):
            pass  # pragma: no cover
    assert list(tmp_path.iterdir()) == []  # out, created for the outputs, removed again


def test_atomic_file_that_cannot_start_is_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_output, "new_file", _no_file_system)
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
            _no_file_system()
        return real_replace(source, dest)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError, match=f"removing {out / 'old.csv'}, left by an earlier run, failed: "
                       f"Read-only file system; {out} restored as it was"):
        publish(stage, out, owned=["old.csv"])
    assert {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()} == {
        "old.csv": "before", "new.csv": "earlier"
    }
    assert not (out / "sub").exists()


def test_out_checks_try_to_create_a_file(tmp_path, monkeypatch):
    """os.access says yes on a read-only file system, or to root: the check writes for real."""
    (tmp_path / "existing").mkdir()
    assert out_dir(str(tmp_path / "existing")) and out_file(str(tmp_path / "existing" / "m.pt"))
    assert [p.name for p in tmp_path.iterdir()] == ["existing"] and not any((tmp_path / "existing").iterdir())
    monkeypatch.setattr(_output, "new_file", _no_file_system)
    with pytest.raises(argparse.ArgumentTypeError, match=f"new: cannot create a file in {tmp_path}: Read-only"):
        out_dir(str(tmp_path / "new"))
    with pytest.raises(argparse.ArgumentTypeError, match=f"folder {tmp_path}: cannot create a file in {tmp_path}"):
        out_file(str(tmp_path / "m.pt"))


def test_train_out_that_cannot_be_written_fails_before_training(tmp_path, monkeypatch, capsys):
    from skcardio.segment import UNetSegmenter

    def no_fit(*args, **kwargs):  # pragma: no cover - reached only if the check misses
        raise AssertionError("trained although the model could not be written")

    monkeypatch.setattr(UNetSegmenter, "fit", no_fit)
    monkeypatch.setattr(_output, "new_file", _no_file_system)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(tmp_path / "m.pt"), "--epochs", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"skcardio train: error: argument --out: {tmp_path / 'm.pt'}: folder {tmp_path}: cannot create a file" in err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", ["evaluate", "predict", "train"])
def test_out_on_a_special_file_system_is_one_line(tmp_path, capsys, command):
    argv = {
        "evaluate": ["evaluate", "--out", "/proc/skcardio-out"],
        "predict": ["predict", str(tmp_path / "m.pt"), str(tmp_path), "--out", "/proc/skcardio-out"],
        "train": ["train", "--out", "/proc/skcardio-out/m.pt"],
    }[command]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"skcardio {command}: error: argument --out: /proc/skcardio-out" in err
    assert "cannot create a file in /proc" in err and "Traceback" not in err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_staging_under_proc_is_an_output_error():
    with pytest.raises(OutputError, match="cannot create the output folder /proc/x: "):
        with staging(Path("/proc/x"), "test"):
            pass  # pragma: no cover
    with pytest.raises(OutputError, match="writing /proc/x.pt failed: cannot create a file in /proc"):
        with atomic_file(Path("/proc/x.pt"), "test"):
            pass  # pragma: no cover


def test_warnings_are_one_line_naming_the_command(monkeypatch, capsys):
    """A warning during a command is 'skcardio COMMAND: warning: ...', without Python's source file and line;
    callers that record warnings still get them."""
    import sys
    import warnings

    from skcardio.cli import _qc, main
    from skcardio.exceptions import SkcardioWarning

    def warn(args):
        warnings.warn("3 slices share one position", SkcardioWarning, stacklevel=2)
        warnings.warn("a library's remark", UserWarning, stacklevel=2)
        return 0

    monkeypatch.setattr(_qc, "run", warn)
    python_format = warnings.formatwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # What Python's display does outside pytest, which records warnings instead.
        monkeypatch.setattr(warnings, "showwarning", lambda message, category, filename, lineno, file=None, line=None:
                            sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line)))
        assert main(["qc"]) == 0
    assert capsys.readouterr().err == ("skcardio qc: warning: 3 slices share one position\n"
                                       "skcardio qc: warning: UserWarning: a library's remark\n")
    assert warnings.formatwarning is python_format  # restored after the command
    with pytest.warns(SkcardioWarning, match="3 slices share one position"):
        assert main(["qc"]) == 0


def test_log_lines_read_like_the_commands_warnings(monkeypatch, capsys):
    """Log lines are 'skcardio COMMAND: ...' (warnings 'skcardio COMMAND: warning: ...'), as the
    command's warnings and errors, not 'WARNING skcardio.cli...:'; a caller's logging set-up is left alone."""
    import logging

    from skcardio.cli import _qc, main

    def log(args):
        logging.getLogger("skcardio.cli.qc").info("3 slices read")
        logging.getLogger("skcardio.cli.qc").warning("%s: unreadable", "a.dcm")
        logging.getLogger("skcardio.cli.qc").debug("detail")
        return 0

    monkeypatch.setattr(_qc, "run", log)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # outside pytest, which installs its own
    level = root.level
    try:
        root.setLevel(logging.WARNING)
        assert main(["qc"]) == 0
        assert len(root.handlers) == 1
        assert capsys.readouterr().err == "skcardio qc: 3 slices read\nskcardio qc: warning: a.dcm: unreadable\n"
        # Set up once, as logging.basicConfig; the next command names itself.
        root.setLevel(logging.DEBUG)
        assert main(["qc"]) == 0 and len(root.handlers) == 1
        assert capsys.readouterr().err.splitlines()[-1] == "skcardio qc: debug: skcardio.cli.qc: detail"
        logging.getLogger("skcardio.cli.qc").warning("after")  # between commands
        assert capsys.readouterr().err == "skcardio: warning: after\n"
        logging.getLogger("pydicom").warning("odd tag")  # another library's line names it
        assert capsys.readouterr().err == "skcardio: warning: pydicom: odd tag\n"
    finally:
        root.setLevel(level)  # setLevel, not an attribute: it also clears the loggers' caches


def _fifo(folder: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs POSIX named pipes")
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    return fifo


def test_out_file_refuses_a_fifo_a_device_or_a_link_to_one(tmp_path):
    """Moved onto such a name, the output replaced the special file itself (as root: /dev/null)."""
    import socket

    fifo = _fifo(tmp_path)
    with pytest.raises(argparse.ArgumentTypeError,
                       match=re.escape(f"{fifo}: is a named pipe (FIFO); expected a regular file or a new name")):
        out_file(str(fifo))
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    with pytest.raises(argparse.ArgumentTypeError,
                       match=re.escape(f"{link}: is a symbolic link to {os.devnull}, which is a character device")):
        out_file(str(link))
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        with pytest.raises(argparse.ArgumentTypeError, match="sock: is a socket"):
            out_file(str(tmp_path / "sock"))
    # A regular file, a link to one, a link to nothing: fine (the link itself is replaced, never its target).
    (tmp_path / "f").write_text("x")
    (tmp_path / "to_f").symlink_to(tmp_path / "f")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    for name in ("f", "to_f", "dangling"):
        assert out_file(str(tmp_path / name)) == str(tmp_path / name)


def test_qc_and_train_leave_a_fifo_and_dev_null_alone(tmp_path, monkeypatch, capsys):
    from skcardio.segment import UNetSegmenter

    monkeypatch.setattr(UNetSegmenter, "fit", lambda *a, **k: pytest.fail("trained although --out was refused"))
    fifo = _fifo(tmp_path)
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    for argv, target, says in [
        (["qc", "--csv"], fifo, "is a named pipe (FIFO)"),
        (["train", "--epochs", "1", "--out"], link, f"is a symbolic link to {os.devnull}, which is a character device"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, str(target)])
        assert exit_info.value.code == 2
        assert f"skcardio {argv[0]}: error: argument {argv[-1]}: {target}: {says}" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_atomic_file_never_replaces_a_special_file(tmp_path):
    """Checked again at the end: the name may have changed while the command ran."""
    fifo = _fifo(tmp_path)
    with pytest.raises(OutputError, match=re.escape(f"{fifo}: is a named pipe (FIFO); expected a regular file")):
        with atomic_file(fifo, "test") as tmp:
            tmp.write_text("the model")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.parametrize("name, says", [
    (f"newdir{os.sep}", "ends with a path separator, which names a folder; expected a file name"),
    (f"newdir{os.sep}.", "names a folder, expected a file name"),
    (f"newdir{os.sep}..", "names a folder, expected a file name"),
])
def test_out_file_naming_a_folder_is_refused(name, says, tmp_path, monkeypatch):
    """Path drops the trailing separator: --csv newdir/ wrote a file named newdir."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(f"{name}: {says}")):
        out_file(name)


def test_qc_and_train_refuse_a_file_name_ending_in_a_separator(tmp_path, monkeypatch, capsys):
    from skcardio.segment import UNetSegmenter

    monkeypatch.setattr(UNetSegmenter, "fit", lambda *a, **k: pytest.fail("trained although --out was refused"))
    monkeypatch.chdir(tmp_path)
    for argv in (["qc", "--csv", "newdir/"], ["train", "--epochs", "1", "--out", "models/"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert f"{argv[-1]}: ends with a path separator" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _outside_is_read_only(out: Path, monkeypatch) -> None:
    """No file or folder can be created outside ``out`` (a writable folder in an unwritable one)."""
    real_new_file, real_mkdtemp = _output.new_file, tempfile.mkdtemp

    def new_file(folder, *args, **kwargs):
        if Path(folder).resolve() != out.resolve():
            _no_file_system()
        return real_new_file(folder, *args, **kwargs)

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is None or not Path(dir).resolve().is_relative_to(out.resolve()):
            _no_file_system()
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(_output, "new_file", new_file)
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)


def test_only_out_needs_to_be_writable(tmp_path, monkeypatch):
    """--out . in a user folder under an unwritable one was refused: the check tried the parent."""
    out = tmp_path / "mine"
    out.mkdir()
    _outside_is_read_only(out, monkeypatch)
    monkeypatch.chdir(out)
    assert out_dir(".") == "."
    with staging(Path("."), "test") as stage:
        (stage / "a.csv").write_text("new")
        publish(stage, Path("."))
    assert [p.name for p in out.iterdir()] == ["a.csv"]


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
from skcardio.cli._output import staging
with staging(Path(sys.argv[1]), "test") as stage:
    (stage / "half.npy").write_text("half written")
    os.kill(os.getpid(), 9)
"""


@pytest.mark.skipif(_output.fcntl is None, reason="needs flock")
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


def test_dotdot_after_a_missing_folder_is_refused_while_parsing(tmp_path, monkeypatch, capsys):
    """--out o/../o2 with o missing failed only when the outputs were moved in (mkdir o/..)."""
    monkeypatch.chdir(tmp_path)
    says = "o does not exist, so the '..' after it cannot be followed"
    for check, name in [(out_dir, "o/../o2"), (out_file, "o/../q.csv")]:
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(f"{name}: {says}")):
            check(name)
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--out", "o/../o2"])
    assert exit_info.value.code == 2 and f"argument --out: o/../o2: {says}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    Path("o").mkdir()  # now the system resolves it
    assert out_dir("o/../o2") == "o/../o2" and out_file("o/../q.csv") == "o/../q.csv"
    with staging(Path("o/../o2"), "test") as stage:
        (stage / "a.csv").write_text("x")
        publish(stage, Path("o/../o2"))
    assert (tmp_path / "o2" / "a.csv").read_text() == "x"


def test_out_dir_linked_to_nothing_is_refused_while_parsing(tmp_path):
    """No folder can be created in it: the staging folder would fail once the work is done."""
    out = tmp_path / "out"
    out.symlink_to(tmp_path / "gone")
    with pytest.raises(argparse.ArgumentTypeError,
                       match=re.escape(f"{out}: is a symbolic link to {tmp_path / 'gone'}, which does not exist")):
        out_dir(str(out))


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

    monkeypatch.setattr(_output, "fcntl", NoFlock)
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
            _no_file_system()
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
    monkeypatch.setattr(os, "rename", _no_file_system)
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
        handle = _output._lock(out, wait=True)
    releaser.join()
    assert handle is not None
    os.close(handle)
    assert f"waiting for another skcardio command that is writing to {out}" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="skcardio.cli"):
        os.close(_output._lock(out, wait=True))  # free: no message
    assert "waiting" not in caplog.text
