"""Where the outputs may go: ``--out`` checked while parsing, and never over or inside an input."""

import argparse
import os
import re
import stat
import tempfile
from pathlib import Path

import pytest
from _file_systems import make_fifo, no_file_system
from _logging import command_logging

from skcardio.cli import _output, _staging, main
from skcardio.cli._output import OutputError, check_outside_inputs, out_dir, out_file
from skcardio.cli._staging import publish, staging


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


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_each_folder_of_many_outputs_is_checked_once_and_every_one_is_checked(tmp_path, monkeypatch):
    """A cohort's million outputs lie in a few thousand folders: each folder is looked at once, none skipped."""
    from skcardio.cli._output import check_destinations

    out = tmp_path / "out"
    (out / "P1" / "DICOM").mkdir(parents=True)
    (out / "P2").mkdir()
    (out / "P2" / "DICOM").symlink_to(tmp_path)
    names = [f"P1/DICOM/{k}_mask.png" for k in range(100)]
    looked = []
    real = Path.is_symlink
    monkeypatch.setattr(Path, "is_symlink", lambda self: looked.append(self) or real(self))
    check_destinations(out, names)
    assert looked.count(out / "P1" / "DICOM") == 1 and looked.count(out / "P1") == 1
    with pytest.raises(OutputError, match=r"P2/DICOM is a symbolic link \(to "):
        check_destinations(out, names + ["P2/DICOM/1_mask.png"])
    # An output landing in an input folder, after many that do not: refused all the same.
    with pytest.raises(OutputError, match="would be written inside the input folder"):
        check_outside_inputs(tmp_path / "o", [tmp_path / "o" / "P2"], names + ["P2/1_mask.png"])
    check_outside_inputs(tmp_path / "o", [tmp_path / "o" / "P2"], names + ["P3/1_mask.png"])


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


def test_out_checks_try_to_create_a_file(tmp_path, monkeypatch):
    """os.access says yes on a read-only file system, or to root: the check writes for real."""
    (tmp_path / "existing").mkdir()
    assert out_dir(str(tmp_path / "existing")) and out_file(str(tmp_path / "existing" / "m.pt"))
    assert [p.name for p in tmp_path.iterdir()] == ["existing"] and not any((tmp_path / "existing").iterdir())
    monkeypatch.setattr(_output, "new_file", no_file_system)
    with pytest.raises(argparse.ArgumentTypeError, match=f"new: cannot create a file in {tmp_path}: Read-only"):
        out_dir(str(tmp_path / "new"))
    with pytest.raises(argparse.ArgumentTypeError, match=f"folder {tmp_path}: cannot create a file in {tmp_path}"):
        out_file(str(tmp_path / "m.pt"))


def test_train_out_that_cannot_be_written_fails_before_training(tmp_path, monkeypatch, capsys):
    from skcardio.segment import UNetSegmenter

    def no_fit(*args, **kwargs):  # pragma: no cover - reached only if the check misses
        raise AssertionError("trained although the model could not be written")

    monkeypatch.setattr(UNetSegmenter, "fit", no_fit)
    monkeypatch.setattr(_output, "new_file", no_file_system)
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


def test_out_file_refuses_a_fifo_a_device_or_a_link_to_one(tmp_path):
    """Moved onto such a name, the output replaced the special file itself (as root: /dev/null)."""
    import socket

    fifo = make_fifo(tmp_path)
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
    fifo = make_fifo(tmp_path)
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
            no_file_system()
        return real_new_file(folder, *args, **kwargs)

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is None or not Path(dir).resolve().is_relative_to(out.resolve()):
            no_file_system()
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(_output, "new_file", new_file)
    monkeypatch.setattr(_staging, "new_file", new_file)
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


# How a command's warnings and log lines read (skcardio/cli/_main.py): kept here, as a
# tests/cli/test_main.py would clash with tests/test_main.py under pytest's default import mode.


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


def test_other_libraries_multi_line_warnings_and_tabs_keep_their_layout(monkeypatch, capsys):
    """Another library's multi-line warning (scikit-learn's FitFailedWarning and its tracebacks) keeps its
    lines, and printed tabs stay tabs: they were flattened into one line of literal "\\n" and "\\t".
    ESC and \\r are escaped all the same; skcardio's own warnings, quoting names, stay one line."""
    import sys
    import warnings

    from sklearn.exceptions import FitFailedWarning

    from skcardio.cli import _qc, main
    from skcardio.exceptions import SkcardioWarning

    details = ("5 fits failed out of a total of 25.\nBelow are more details about the failures:\n"
               "----\nTraceback (most recent call last):\n\tValueError: x\x1b[2J\r")

    def run(args):
        warnings.warn(details, FitFailedWarning, stacklevel=2)
        warnings.warn("P\n\t1.dcm: odd value", SkcardioWarning, stacklevel=2)
        print("col1\tcol2")
        return 0

    monkeypatch.setattr(_qc, "run", run)
    monkeypatch.setattr(warnings, "showwarning", lambda message, category, filename, lineno, file=None, line=None:
                        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line)))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["qc"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "col1\tcol2\n"
    assert captured.err.splitlines() == [
        "skcardio qc: warning: FitFailedWarning: 5 fits failed out of a total of 25.",
        "Below are more details about the failures:", "----", "Traceback (most recent call last):",
        "\tValueError: x\\x1b[2J\\r",
        "skcardio qc: warning: P\\n\\t1.dcm: odd value",
    ]


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
    with command_logging(monkeypatch) as root:
        root.setLevel(logging.WARNING)
        assert main(["qc"]) == 0
        assert len(root.handlers) == 1
        assert capsys.readouterr().err == "skcardio qc: 3 slices read\nskcardio qc: warning: a.dcm: unreadable\n"
        # Set up once, as logging.basicConfig; the next command names itself.
        assert main(["-v", "qc"]) == 0 and len(root.handlers) == 1
        assert capsys.readouterr().err.splitlines()[-1] == "skcardio qc: debug: skcardio.cli.qc: detail"
        logging.getLogger("skcardio.cli.qc").warning("after")  # between commands
        assert capsys.readouterr().err == "skcardio: warning: after\n"
        logging.getLogger("pydicom").warning("odd tag")  # another library's line names it
        assert capsys.readouterr().err == "skcardio: warning: pydicom: odd tag\n"


def test_each_command_logs_to_its_own_stderr(monkeypatch):
    """The handler, installed by the first command in the process, kept that command's stderr: a later
    command (a notebook cell, a test) logged to the first one's stream, not its own."""
    import io
    import logging
    import sys

    from skcardio.cli import _qc, main

    def log(args):
        logging.getLogger("skcardio.cli.qc").warning("%s: unreadable", args.root)
        return 0

    monkeypatch.setattr(_qc, "run", log)
    first, second = io.StringIO(), io.StringIO()
    with command_logging(monkeypatch) as root:
        monkeypatch.setattr(sys, "stderr", first)
        assert main(["qc", "a"]) == 0
        monkeypatch.setattr(sys, "stderr", second)
        first.close()  # gone with its notebook cell: not written to, nor flushed
        assert main(["qc", "b"]) == 0
        assert len(root.handlers) == 1
        assert second.getvalue() == "skcardio qc: warning: b: unreadable\n"
        logging.getLogger("skcardio.cli.qc").warning("after\x1b")  # between commands: the last one's stream
        assert second.getvalue().splitlines()[-1] == "skcardio: warning: after\\x1b"


@pytest.mark.parametrize("verbose", [False, True])
def test_other_libraries_info_lines_stay_hidden(monkeypatch, capsys, verbose):
    """Only skcardio's logger is set to INFO (DEBUG with -v): the root logger's level is left alone,
    so torch's "FakeTensor cache stats" (INFO, at exit, after a SIGTERM during train) and other
    libraries' INFO and DEBUG lines do not show, even under a root level set lower elsewhere;
    their warnings do."""
    import logging

    from skcardio.cli import _qc, main

    def log(args):
        logging.getLogger("torch._subclasses.fake_tensor").info("FakeTensor cache stats:")
        logging.getLogger("matplotlib").debug("findfont")
        logging.getLogger("skcardio.cli.qc").info("3 slices read")
        logging.getLogger("skcardio.cli.qc").debug("detail")
        logging.getLogger("pydicom").warning("odd tag")
        return 0

    monkeypatch.setattr(_qc, "run", log)
    with command_logging(monkeypatch) as root:
        root.setLevel(logging.WARNING)
        assert main(["-v", "qc"] if verbose else ["qc"]) == 0
        assert root.level == logging.WARNING  # not set to INFO by the command
        expected = ["skcardio qc: 3 slices read"]
        expected += ["skcardio qc: debug: skcardio.cli.qc: detail"] if verbose else []
        assert capsys.readouterr().err.splitlines() == expected + ["skcardio qc: warning: pydicom: odd tag"]
        root.setLevel(logging.DEBUG)  # a caller's root level (the handler is skcardio's)
        assert main(["-v", "qc"] if verbose else ["qc"]) == 0
        assert capsys.readouterr().err.splitlines() == expected + ["skcardio qc: warning: pydicom: odd tag"]


def test_warnings_log_lines_and_errors_show_control_characters_escaped(monkeypatch, capsys):
    """What a command prints of a name or value (an id with ESC, a newline, \\r, the C1 CSI) is escaped:
    a warning, a log line's values and an error stay one line each and cannot recolour or overwrite the
    terminal; a log message's own lines (a summary) are kept."""
    import logging
    import sys
    import warnings

    from skcardio.cli import _qc, main
    from skcardio.exceptions import DatasetError, SkcardioWarning

    name = "P\x1b[31m\r\n\x9b2J.dcm"
    shown = "P\\x1b[31m\\r\\n\\x9b2J.dcm"

    def run(args):
        warnings.warn(f"{name}: odd value", SkcardioWarning, stacklevel=2)
        logging.getLogger("skcardio.datasets").warning("skipped %s: %s", name, f"{name}: unreadable")
        logging.getLogger("skcardio.datasets").info("%d slice(s) in %s", 3, name)
        logging.getLogger("skcardio.datasets").info("3 patient(s)\n1 item(s) skipped:\n     1 x unreadable DICOM")
        print(f"a line quoting {name} unescaped")  # missed by a command: ESC, \r and C1 are still escaped
        raise DatasetError(f"{name}: not a dataset\nsecond line")

    monkeypatch.setattr(_qc, "run", run)
    monkeypatch.setattr(warnings, "showwarning", lambda message, category, filename, lineno, file=None, line=None:
                        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line)))
    with command_logging(monkeypatch), warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["qc"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "a line quoting P\\x1b[31m\\r\n\\x9b2J.dcm unescaped\n"
    assert captured.err.splitlines() == [
        f"skcardio qc: warning: {shown}: odd value",
        f"skcardio qc: warning: skipped {shown}: {shown}: unreadable",
        f"skcardio qc: 3 slice(s) in {shown}",
        "skcardio qc: 3 patient(s)", "1 item(s) skipped:", "     1 x unreadable DICOM",
        f"skcardio qc: error: {shown}: not a dataset\\nsecond line",
    ]
