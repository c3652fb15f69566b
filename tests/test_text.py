"""Names that are not valid UTF-8, written readably (skcardio._text)."""

import csv
import io
import json
import sys

from skcardio._text import readable, readable_streams, text_file

#: How Python gives the name ``b"P\xff\xfe.dcm"`` listed on Linux (PEP 383).
NAME = b"P\xff\xfe.dcm".decode("utf-8", "surrogateescape")


def test_readable_writes_each_undecodable_byte_as_an_escape():
    assert readable(NAME) == "P\\xff\\xfe.dcm"
    assert readable("é/IM-0001.dcm") == "é/IM-0001.dcm"  # valid text is left alone
    assert readable("\ud800") == "\\ud800"  # a surrogate not from a file name: escaped as backslashreplace does


def test_text_file_writes_csv_and_json_of_such_names(tmp_path):
    with text_file(tmp_path / "a.csv") as handle:
        csv.writer(handle).writerow([NAME, 1])
    assert (tmp_path / "a.csv").read_bytes() == b"P\\xff\\xfe.dcm,1\r\n"
    with text_file(tmp_path / "a.json") as handle:
        json.dump({"path": readable(NAME)}, handle)
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8")) == {"path": "P\\xff\\xfe.dcm"}


def test_readable_streams_print_such_names_and_are_put_back(monkeypatch):
    strict = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", strict)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # no reconfigure: left alone
    with readable_streams():
        print(NAME)
        print(NAME, file=sys.stderr)
    assert strict.errors == "strict"
    strict.flush()
    assert strict.buffer.getvalue() == b"P\\xff\\xfe.dcm\n"
    assert sys.stderr.getvalue() == NAME + "\n"


def test_printable_escapes_control_characters_as_repr_does():
    from skcardio._text import printable

    assert printable("X\x1b[31mRED\x1b[0m") == "X\\x1b[31mRED\\x1b[0m"  # ESC: colours, cursor moves
    assert printable("A\nB\rC\tD\x00E\x7fF") == "A\\nB\\rC\\tD\\x00E\\x7fF"  # C0 and DEL
    assert printable("\x9b2J\x85") == "\\x9b2J\\x85"  # C1: a CSI on its own, NEL
    assert printable("a\u2028b\u202egnp.exe") == "a\\u2028b\\u202egnp.exe"  # a line separator, a right-to-left override
    # Letters of every script, symbols, backslashes and the escapes of undecodable bytes are kept.
    for text in ("Zoë Ångström", "患者-01", "Ω≈ç √ 🫀", "C:\\data\\P1", NAME):
        assert printable(text) == text
    # Text laid out in lines keeps its newlines and tabs (a traceback, columns), not the other controls.
    assert printable("one\ntwo\r\x1b\tcol", newlines=True) == "one\ntwo\\r\\x1b\tcol"
    assert printable("a\x0bb\x0cc\x85d\u2028e", newlines=True) == "a\\x0bb\\x0cc\\x85d\\u2028e"
    assert printable(ValueError("P\n1.dcm: bad")) == "P\\n1.dcm: bad"
    from pathlib import PurePosixPath

    assert printable(PurePosixPath("/d/P\x1b1.dcm")) == "/d/P\\x1b1.dcm"
    assert printable(b"P\x1b\xff") == "P\\x1b" + "\udcff"  # a bytes name as os.fsdecode gives it


def test_printable_streams_escape_what_is_printed_and_are_put_back(monkeypatch):
    from skcardio._text import console_stream, printable_streams

    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    with printable_streams():
        print("P\x1b[2J1\r\x9bX")
        print("a\tb", "c", sep="\n", file=sys.stderr)
        sys.stderr.writelines(["\x07\n"])
        assert sys.stderr.getvalue == err.getvalue and sys.stderr.encoding == err.encoding  # the stream's
        assert console_stream(sys.stderr) is err and console_stream(err) is err
        with printable_streams():  # nested: not wrapped twice
            assert console_stream(sys.stdout) is out
    assert sys.stdout is out and sys.stderr is err
    assert out.getvalue() == "P\\x1b[2J1\\r\\x9bX\n"
    assert err.getvalue() == "a\tb\nc\n\\x07\n"  # tabs pass, as newlines do (columns, tracebacks)
    monkeypatch.setattr(sys, "stdout", None)  # pythonw: no console
    with printable_streams():
        assert sys.stdout is None


def test_some_named_names_all_when_only_one_would_be_counted():
    """'and 1 more' says less than the name: up to limit + 1 names are all given, more are counted."""
    from skcardio._text import some_named

    assert some_named([], 3) == ""
    assert some_named(["a", "b", "c", "d"], 3) == "a, b, c, d"
    assert some_named(["a", "b", "c", "d", "e"], 3) == "a, b, c and 2 more"
    assert some_named(["a"], 0) == "a"
    assert some_named(["a", "b", "c", "d"], 3, total=9) == "a, b, c and 6 more"  # only the first few made
    assert some_named(["a", "b", "c", "d"], 3, total=4) == "a, b, c, d"
