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
