"""The records of an earlier run in ``--out``: read as bounded regular files, trusted only for names inside it."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest
from _hostile import planted_fifo

from skcardio.cli._records import RecordError, inside_out, open_record, record_column, record_files
from skcardio.io import limits_context

posix = pytest.mark.skipif(os.name != "posix", reason="symbolic links and FIFOs")


def test_a_missing_record_is_none_and_a_record_is_its_text(tmp_path):
    with open_record(tmp_path / "report.json", "JSON") as text:
        assert text is None
    assert record_files(tmp_path / "report.json") == []
    assert record_column(tmp_path / "predictions.csv", "output_stem") == []
    (tmp_path / "report.json").write_bytes(b'{"files": ["a\\u00e9.csv", "b/c.png"]}')
    assert record_files(tmp_path / "report.json") == ["a\u00e9.csv", "b/c.png"]


def test_bytes_that_are_not_utf8_keep_the_names_python_gives_such_files(tmp_path):
    # A file name of bytes that are not UTF-8 is a str with surrogates; written so, it reads back the same.
    name = os.fsdecode(b"P\xe9/1")
    (tmp_path / "predictions.csv").write_bytes(b"output_stem\n" + os.fsencode(name) + b"\n")
    with open_record(tmp_path / "predictions.csv", "CSV") as text:
        assert text.read() == f"output_stem\n{name}\n"
    assert record_column(tmp_path / "predictions.csv", "output_stem") == [name]


@posix
def test_a_link_or_a_pipe_is_refused_without_reading(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text('{"files": ["x"]}')
    (tmp_path / "link.json").symlink_to(target)
    expected = f"{tmp_path / 'link.json'}: a symbolic link to {target}, never followed"
    with pytest.raises(RecordError, match=f"^{re.escape(expected)}$"), open_record(tmp_path / "link.json", "JSON"):
        pass
    with planted_fifo(tmp_path / "fifo.json") as fifo:
        with pytest.raises(RecordError, match=r"is a pipe \(FIFO\), expected a regular JSON file"):
            with open_record(tmp_path / "fifo.json", "JSON"):
                pass
    assert not fifo["released"]


def test_a_record_over_the_record_limit_is_refused_unread(tmp_path, caplog):
    (tmp_path / "series.csv").write_text("file\n" + "x.nii.gz\n" * 20)
    with limits_context(max_record_bytes=100):
        with pytest.raises(RecordError, match=r"a CSV file of 185 bytes exceeds the limit max_record_bytes=100"):
            with open_record(tmp_path / "series.csv", "CSV"):
                pass
        with caplog.at_level(logging.WARNING):
            assert record_column(tmp_path / "series.csv", "file") is None
    assert "max_record_bytes=100" in caplog.text and "the files of that run are kept" in caplog.text


def test_a_record_growing_past_the_limit_while_read_is_refused(tmp_path, monkeypatch):
    """The size stat gives is checked first; the reading stops one byte past the limit all the same."""
    import skcardio.io._limits as limits_module

    (tmp_path / "predictions.csv").write_text("output_stem\n" + "x\n" * 20)
    real = os.fstat

    def smaller(fd):  # the file grows after the size was taken
        info = real(fd)
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))

    monkeypatch.setattr(limits_module.os, "fstat", smaller)
    with limits_context(max_record_bytes=30), pytest.raises(RecordError, match="of more than 30 bytes"):
        with open_record(tmp_path / "predictions.csv", "CSV") as text:
            text.read()


def _report_json(patients: int) -> str:
    """A report.json as report writes it: an entry per patient (about 7.5 KB in a real one), then every file."""
    entries = [{"folder": f"P{i}", "row": {f"column{k}": 1.5 for k in range(40)}, "files": [f"P{i}/slices.csv"]}
               for i in range(patients)]
    return json.dumps({"written_by": "skcardio report", "patients": entries,
                       "files": ["report.csv", "report.json"] + [f"P{i}/slices.csv" for i in range(patients)],
                       "boundary_level": None, "skipped": [{"path": "x", "reason": "y"}]}, indent=1)


def test_a_record_larger_than_a_text_file_is_read_entry_by_entry(tmp_path):
    """A record of a large run exceeds max_text_bytes (16 MiB; 100 here): it is read, each entry within it.

    Records beyond max_text_bytes were not read (predictions.csv of 205,000 slices, report.json of 2,200
    patients): a re-run left the earlier run's stale files in --out.
    """
    (tmp_path / "report.json").write_text(_report_json(20))
    (tmp_path / "predictions.csv").write_text("dicom_path,output_stem,area_px\n" + "".join(
        f"in/P{i}/{k}.dcm,P{i}/{k},{k}\n" for i in range(20) for k in range(5)))
    assert (tmp_path / "report.json").stat().st_size > 10_000 and (tmp_path / "predictions.csv").stat().st_size > 2_000
    with limits_context(max_text_bytes=1000):
        listed = record_files(tmp_path / "report.json", written_by="skcardio report", legacy_key="patients")
        assert listed == ["report.csv", "report.json"] + [f"P{i}/slices.csv" for i in range(20)]
        stems = record_column(tmp_path / "predictions.csv", "output_stem")
        assert stems == [f"P{i}/{k}" for i in range(20) for k in range(5)]


@pytest.mark.parametrize("record, reason", [
    (b"output_stem\n" + b"x" * 2000 + b"\n", "a CSV row of more than 1000 characters exceeds the limit max_text_bytes=1000"),
    (b'output_stem\n"' + b"x\n" * 1000 + b'"\n', "a CSV row of more than 1000 characters"),  # a value over many lines
    (b"output_stem\n" + b"x" * 5000, "a CSV row of more than 1000 characters"),  # no line break at all
    (b"output_stem\n" + b"ab\n" * 200,
     "a CSV record naming more than 100 files (one per 128 bytes) exceeds the limit max_record_bytes=12800"),
])
def test_a_planted_csv_record_is_refused_by_its_rows(tmp_path, caplog, record, reason):
    (tmp_path / "predictions.csv").write_bytes(record)
    with limits_context(max_text_bytes=1000, max_record_bytes=12_800), caplog.at_level(logging.WARNING):
        assert record_column(tmp_path / "predictions.csv", "output_stem") is None
    assert reason in caplog.text and "the files of that run are kept" in caplog.text


@pytest.mark.parametrize("record, reason", [
    ('{"written_by": "skcardio report", "patients": [{"notes": "' + "x" * 2000 + '"}], "files": ["a.csv"]}',
     "a JSON value of more than 1000 characters exceeds the limit max_text_bytes=1000"),  # one patient too large
    ('{"written_by": "skcardio report", "patients": [], "files": ["a.csv"], "x": "' + "x" * 5000,
     "a JSON value of more than 1000 characters"),  # a string never closed
    ('{"written_by": "skcardio report", "files": [' + ", ".join(['"a"'] * 200) + "]}",
     "a JSON record naming more than 100 files (one per 128 bytes) exceeds the limit max_record_bytes=12800"),
    ('{"written_by": "skcardio report", "patients": [], "files": ["a.csv"]} {"files": ["b"]}', "Extra data"),
    ('{"written_by": "skcardio report", "patients": [], "files": ["a.csv",]}', "Expecting value"),
    ('{"written_by": "skcardio report" "files": []}', "Expecting ',' delimiter"),
    ('{"written_by": "skcardio report", "files": ["a.csv"]', "Expecting ',' delimiter"),
])
def test_a_planted_json_record_is_refused_by_its_entries(tmp_path, caplog, record, reason):
    (tmp_path / "report.json").write_text(record)
    with limits_context(max_text_bytes=1000, max_record_bytes=12_800), caplog.at_level(logging.WARNING):
        assert record_files(tmp_path / "report.json", written_by="skcardio report", legacy_key="patients") is None
    assert reason in caplog.text and "the files of that run are kept" in caplog.text


def test_a_json_record_nested_too_deeply_is_refused(tmp_path, caplog):
    """json.loads raised RecursionError on it, which no command caught: a traceback instead of a warning."""
    (tmp_path / "report.json").write_text('{"patients": [' + "[" * 100_000 + "]" * 100_000 + '], "files": []}')
    with caplog.at_level(logging.WARNING):
        assert record_files(tmp_path / "report.json", written_by="skcardio report", legacy_key="patients") is None
    assert "(Nested too deeply: character 14); the files of that run are kept" in caplog.text


@pytest.mark.parametrize("chunk", [1, 2, 7, 1 << 20])
def test_a_json_record_reads_as_json_loads_reads_it_whatever_the_chunks(tmp_path, monkeypatch, chunk):
    from skcardio.cli import _records

    monkeypatch.setattr(_records._JsonRecord, "_CHUNK", chunk)
    text = _report_json(3).replace('"boundary_level": null', '"boundary_level": 0.123456789e2')
    (tmp_path / "report.json").write_text(text + "\n \t")
    with open_record(tmp_path / "report.json", "JSON") as stream:
        record = _records._JsonRecord(stream).read()
    expected = json.loads(text)
    assert record == {**expected, "patients": [], "skipped": []}  # lists other than "files" are read, not kept


@pytest.mark.parametrize("chunk", range(1, 13))
def test_a_json_number_cut_by_a_chunk_after_its_point_or_exponent_reads_whole(tmp_path, monkeypatch, chunk):
    """A chunk ending just after "0." decoded 0 and left the "." over: the record was refused, its files kept."""
    from skcardio.cli import _records

    monkeypatch.setattr(_records._JsonRecord, "_CHUNK", chunk)
    text = '{"a": 0.5, "b": 1e5, "c": -0.5e-3, "d": 2E+7, "e": 10, "files": ["x.csv"], "f": 3.25}'
    (tmp_path / "report.json").write_text(text)
    with open_record(tmp_path / "report.json", "JSON") as stream:
        assert _records._JsonRecord(stream).read() == json.loads(text)


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
