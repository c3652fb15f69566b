"""The records of an earlier run in ``--out``: read as bounded regular files, trusted only for names inside it."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest
from _hostile import planted_fifo

from skcardio.cli._records import RecordError, inside_out, read_record, record_files
from skcardio.io import limits_context

posix = pytest.mark.skipif(os.name != "posix", reason="symbolic links and FIFOs")


def test_a_missing_record_is_none_and_a_record_is_its_text(tmp_path):
    assert read_record(tmp_path / "report.json", "JSON") is None
    assert record_files(tmp_path / "report.json") == []
    (tmp_path / "report.json").write_bytes(b'{"files": ["a\\u00e9.csv", "b/c.png"]}')
    assert record_files(tmp_path / "report.json") == ["a\u00e9.csv", "b/c.png"]


def test_bytes_that_are_not_utf8_keep_the_names_python_gives_such_files(tmp_path):
    # A file name of bytes that are not UTF-8 is a str with surrogates; written so, it reads back the same.
    name = os.fsdecode(b"P\xe9/1")
    (tmp_path / "predictions.csv").write_bytes(b"output_stem\n" + os.fsencode(name) + b"\n")
    assert read_record(tmp_path / "predictions.csv", "CSV") == f"output_stem\n{name}\n"


@posix
def test_a_link_or_a_pipe_is_refused_without_reading(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text('{"files": ["x"]}')
    (tmp_path / "link.json").symlink_to(target)
    expected = f"{tmp_path / 'link.json'}: a symbolic link to {target}, never followed"
    with pytest.raises(RecordError, match=f"^{re.escape(expected)}$"):
        read_record(tmp_path / "link.json", "JSON")
    with planted_fifo(tmp_path / "fifo.json") as fifo:
        with pytest.raises(RecordError, match=r"is a pipe \(FIFO\), expected a regular JSON file"):
            read_record(tmp_path / "fifo.json", "JSON")
    assert not fifo["released"]


def test_a_record_over_the_text_limit_is_refused(tmp_path):
    (tmp_path / "series.csv").write_text("file\n" + "x.nii.gz\n" * 20)
    with limits_context(max_text_bytes=100), pytest.raises(RecordError, match="max_text_bytes"):
        read_record(tmp_path / "series.csv", "CSV")


@pytest.mark.parametrize("text, reason", [
    ("{not json", "Expecting property name"),
    ("[]", "no list under 'files'"),
    ('{"files": "a.csv"}', "no list under 'files'"),
    ('{"patients": []}', "no list under 'files'"),
])
def test_a_record_without_a_list_of_files_keeps_every_file(tmp_path, caplog, text, reason):
    (tmp_path / "evaluate.json").write_text(text)
    with caplog.at_level(logging.WARNING):
        assert record_files(tmp_path / "evaluate.json") is None
    assert f"{tmp_path / 'evaluate.json'}: not read as the record of an earlier run (" in caplog.text
    assert reason in caplog.text and "the files of that run are kept" in caplog.text


def test_only_relative_names_inside_out_count(tmp_path):
    names = ["a.csv", "P1/s.csv", "../x", "P1/../../x", "/etc/passwd", "", None, 3, ["a"]]
    assert inside_out(names) == ["a.csv", "P1/s.csv"]
    (tmp_path / "report.json").write_text(json.dumps({"files": names}))
    assert record_files(tmp_path / "report.json") == ["a.csv", "P1/s.csv"]


@pytest.mark.parametrize("record, taken", [
    ({"written_by": "skcardio report", "files": ["a.csv"]}, True),
    ({"patients": [], "files": ["a.csv"]}, True),  # written before the mark: taken by the shape of the record
    ({"files": ["a.csv"]}, False),  # another program's report.json
    ({"written_by": "another tool", "patients": [], "files": ["a.csv"]}, False),
    ({"patients": "P1", "files": ["a.csv"]}, False),
])
def test_a_record_without_the_mark_asked_for_keeps_every_file(tmp_path, caplog, record, taken):
    (tmp_path / "report.json").write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        listed = record_files(tmp_path / "report.json", written_by="skcardio report", legacy_key="patients")
    assert listed == (["a.csv"] if taken else None)
    assert (f'{tmp_path / "report.json"}: not read as the record of an earlier run (no "written_by": '
            f'"skcardio report": written by another program); the files of that run are kept' in caplog.text) != taken
    assert record_files(tmp_path / "missing.json", written_by="skcardio report") == []
