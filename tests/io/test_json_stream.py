"""skcardio.io._json_stream: JSON read as a bounded stream, nesting refused as an error naming the file."""

from __future__ import annotations

import json

import pytest

from skcardio.exceptions import SkcardioError
from skcardio.io import limits_context
from skcardio.io._json_stream import read_json


def test_read_json_reads_what_json_loads_reads(tmp_path):
    document = {"a": [1, 2.5, {"b": [None, True]}], "c": "\u00e9", "d": {"e": []}, "f": -1e-3}
    (tmp_path / "r.json").write_text(json.dumps(document), encoding="utf-8")
    assert read_json(tmp_path / "r.json", SkcardioError) == document
    (tmp_path / "r.json").write_bytes(b"\xef\xbb\xbf[1, 2]")  # a byte-order mark, as json.loads of bytes skips it
    assert read_json(tmp_path / "r.json", SkcardioError) == [1, 2]


@pytest.mark.parametrize("data, message", [
    # json.loads raised RecursionError, not a ValueError: a traceback through callers catching ValueError.
    (b"[" * 100_000 + b"]" * 100_000, "not JSON: Nested too deeply: character 0"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not JSON: Nested too deeply: character 7"),
    (b"{not json", "not JSON: Expecting property name enclosed in double quotes: character 1"),
    (b"[1] [2]", "not JSON: Extra data: character 4"),
    (b"\xff[]", "not UTF-8 text: invalid start byte, expected JSON"),
    (b'["' + b"x" * 300 + b'"]', "a JSON file of 304 bytes exceeds the limit max_text_bytes=200"),
])
def test_read_json_refuses_with_the_file_named(tmp_path, data, message):
    path = tmp_path / "r.json"
    path.write_bytes(data)
    with limits_context(max_text_bytes=200 if b"x" in data else 10**6), pytest.raises(SkcardioError) as error:
        read_json(path, SkcardioError)
    assert str(error.value).startswith(f"{path}: {message}")


def test_a_value_over_max_text_bytes_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"a": "' + "x" * 500 + '"}')
    with limits_context(max_text_bytes=400), pytest.raises(SkcardioError) as error:
        read_json(path, SkcardioError, "max_record_bytes")
    assert str(error.value).startswith(f"{path}: a JSON value of more than 400 characters exceeds the limit max_text_bytes")
