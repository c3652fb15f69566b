import os
import stat

import numpy as np
import pytest

from skcardio.exceptions import ContourReadError
from skcardio.io import read_contour, write_contour


def _write(tmp_path, text, name="c.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_x_y(tmp_path):
    points = read_contour(_write(tmp_path, "120.50 137.50\n121.00 136.50\n119.0 130.0\n"))
    np.testing.assert_array_equal(points, [[120.5, 137.5], [121.0, 136.5], [119.0, 130.0]])
    assert points.dtype == np.float64


def test_blank_lines_ignored(tmp_path):
    points = read_contour(_write(tmp_path, "1 1\n\n2 1\n \t\n2 2\n\n"))
    np.testing.assert_array_equal(points, [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]])


def test_real_contour(shared_data_root):
    path = shared_data_root / "contourfiles/SC-HF-I-1/i-contours/IM-0001-0048-icontour-manual.txt"
    points = read_contour(path)
    assert points.shape[1] == 2 and len(points) > 50
    assert points[0].tolist() == [120.5, 137.5]


@pytest.mark.parametrize(
    "text, line, what",
    [
        ("1 1\n2 x\n3 3\n", 2, "expected numbers"),
        ("1 1\n2\n3 3\n", 2, "got 1 field"),
        ("1 1\n2 2 2\n3 3\n", 2, "got 3 field"),
        ("1 1\n2 2\nnan 3\n", 3, "finite"),
        ("1 1\ninf 2\n3 3\n", 2, "finite"),
        ("x y\n1 1\n2 2\n3 3\n", 1, "expected numbers"),
    ],
)
def test_malformed_line_named(tmp_path, text, line, what):
    path = _write(tmp_path, text)
    with pytest.raises(ContourReadError, match=rf"c\.txt, line {line}: .*{what}"):
        read_contour(path)


@pytest.mark.parametrize(
    "text, blank",
    [("\n\n", "lines 1-2 are blank"), (" \t\r\n\n \n", "lines 1-3 are blank"), ("\n", "line 1 is blank"),
     ("", "no text"), ("\ufeff", "no text")],
)
def test_empty_file(tmp_path, text, blank):
    path = _write(tmp_path, text)
    with pytest.raises(ContourReadError) as info:
        read_contour(path)
    assert str(info.value) == f"{path}: empty contour file ({blank}), expected lines of 'x y'"


@pytest.mark.parametrize(
    "text, where, count",
    [("1 1\n2 2\n", "lines 1 and 2", 2), ("\n1 1\n\n2 2", "lines 2 and 4", 2), ("\n\n5 5\n\n", "line 3", 1)],
)
def test_too_few_points_names_their_lines(tmp_path, text, where, count):
    path = _write(tmp_path, text)
    with pytest.raises(ContourReadError) as info:
        read_contour(path)
    assert str(info.value) == f"{path}, {where}: {count} point(s), a contour needs at least 3"


@pytest.mark.parametrize(
    "data, line, shown",
    [
        (b"1 1\r \n5 1\n5 5\n", 1, r"'1 1\r '"),  # a carriage return inside the line
        (b"1 1\r\r\n5 1\r\n5 5\r\n", 1, r"'1 1\r'"),  # \r\r\n: one \r is left after the line end
        (b"1 1\n\x0c\n5 1\n5 5\n", 2, r"'\x0c'"),  # a form feed
        (b"1 1\n5 1\n5 5\x00\n", 3, r"'5 5\x00'"),
        (b"1 1\n 5\t1 x\n5 5\n", 2, r"' 5\t1 x'"),  # blanks kept, as in the file
    ],
)
def test_error_quotes_the_raw_line(tmp_path, data, line, shown):
    # Was line.strip(): '1 1' for '1 1\r ', hiding the character at fault.
    path = _write_bytes(tmp_path, data)
    with pytest.raises(ContourReadError) as info:
        read_contour(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: ") and message.endswith(shown)


def test_missing_file(tmp_path):
    with pytest.raises(ContourReadError, match="gone.txt: no such file"):
        read_contour(tmp_path / "gone.txt")


def test_write_round_trip(tmp_path):
    points = np.array([[1.25, 2.5], [3.0, 4.0], [5.75, 0.5]])
    write_contour(tmp_path / "out.txt", points)
    assert (tmp_path / "out.txt").read_text().splitlines()[0] == "1.25 2.50"
    np.testing.assert_array_equal(read_contour(tmp_path / "out.txt"), points)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 2)), r"^a polygon needs at least 3 points, got 2$"),
        (np.zeros((3, 3)), r"^points must have shape \(n_points, 2\), got \(3, 3\)$"),
        (np.zeros(6), r"^points must have shape \(n_points, 2\), got \(6,\)$"),
        (np.array([[0, 0], [1, np.nan], [2, 2]]), r"^points must be finite, got NaN or inf$"),
        (np.array([[0, 0], [1, np.inf], [2, 2]]), r"^points must be finite, got NaN or inf$"),
    ],
)
@pytest.mark.parametrize("existing", [False, True])
def test_write_refuses_bad_points_and_leaves_nothing(tmp_path, bad, message, existing):
    target = tmp_path / "out.txt"
    before = b"1.00 1.00\n4.00 1.00\n4.00 4.00\n"
    if existing:
        target.write_bytes(before)
    with pytest.raises(ValueError, match=message):
        write_contour(target, bad)
    # No new file (no temporary left behind), and an existing contour untouched.
    assert [p.name for p in tmp_path.iterdir()] == (["out.txt"] if existing else [])
    if existing:
        assert target.read_bytes() == before


def _write_bytes(tmp_path, data, name="c.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_byte_order_mark_ignored(tmp_path):
    points = read_contour(_write_bytes(tmp_path, "\ufeff1 1\n5 1\n5 5\n".encode()))
    np.testing.assert_array_equal(points, [[1, 1], [5, 1], [5, 5]])


def test_crlf_line_ends(tmp_path):
    points = read_contour(_write_bytes(tmp_path, b"1 1\r\n5.5 1\r\n5 5.25\r\n"))
    np.testing.assert_array_equal(points, [[1.0, 1.0], [5.5, 1.0], [5.0, 5.25]])


@pytest.mark.parametrize("separator", [b"\x0c", b"\x0b", b"\x1c", b"\x1d", b"\x1e", b"\r"])
def test_only_newline_ends_a_line(tmp_path, separator):
    # str.splitlines() would split line 2 in two, and report 'x y' as line 4.
    path = _write_bytes(tmp_path, b"1 1\n5 1" + separator + b"5 5\nx y\n")
    with pytest.raises(ContourReadError, match=r"c\.txt, line 2: "):
        read_contour(path)


@pytest.mark.parametrize(
    "field", ["1_0", "0x1A", "1e", ".", "+", "--1", "\u0661", "infinity", "1.0f", "1\u00a0"]
)
def test_only_plain_decimal_numbers(tmp_path, field):
    path = _write_bytes(tmp_path, f"1 1\n5 1\n{field} 5\n".encode())
    with pytest.raises(ContourReadError, match=r"c\.txt, line 3: expected (numbers|2 numbers)"):
        read_contour(path)


@pytest.mark.parametrize("field, value", [("-1.5e+1", -15.0), (".5", 0.5), ("7.", 7.0), ("+2E-1", 0.2)])
def test_scientific_and_signed_numbers(tmp_path, field, value):
    points = read_contour(_write_bytes(tmp_path, f"1 1\n5 1\n{field}\t5\n".encode()))
    assert points[2].tolist() == [value, 5.0]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_file_follows_the_umask(tmp_path, mask):
    """Like a file opened with open(path, "w"), not 0600 as tempfile.mkstemp makes it."""
    previous = os.umask(mask)
    try:
        write_contour(tmp_path / "out.txt", np.array([[1.0, 1.0], [4.0, 1.0], [4.0, 4.0]]))
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o666 & ~mask
    assert (tmp_path / "out.txt").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "plain.txt"]


@pytest.mark.parametrize(
    "data, line, byte, position",
    [
        (b"1 1\n5 1\n5 \xff5\n", 3, 0xFF, 10),
        (b"1 1\r\n5 1\r\n5 5\r\n# caf\xe9\n", 4, 0xE9, 20),  # a latin-1 comment
        (b"\xef\xbb\xbf1 1\n\x80 1\n5 5\n", 2, 0x80, 7),  # the position counts the byte-order mark
        (b"\xc3", 1, 0xC3, 0),  # cut in the middle of a character
    ],
)
def test_not_utf8_names_the_line_and_the_byte(tmp_path, data, line, byte, position):
    path = _write_bytes(tmp_path, data)
    with pytest.raises(ContourReadError) as info:
        read_contour(path)
    assert str(info.value).startswith(
        f"{path}, line {line}: is not UTF-8 text: byte 0x{byte:02x} at position {position} ("
    )
    assert str(info.value).endswith("; expected a UTF-8 text file of 'x y' points")


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 16])
def test_lines_are_split_a_chunk_at_a_time_as_split_splits_them(monkeypatch, chunk):
    from skcardio.io import _contour

    monkeypatch.setattr(_contour, "_SPLIT_CHUNK", chunk)
    for text in ("", "\n", "\n\n", "a", "a\n", "ab\ncd", "1 2\r\n\n 3 4\n\n\n5 6", "x" * 7 + "\n" + "y" * 3 + "\n"):
        assert list(_contour._lines(text)) == text.split("\n"), text
