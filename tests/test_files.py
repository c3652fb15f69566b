"""The file-writing helpers shared by the package (skcardio._files)."""

import os

from skcardio._files import replacing


def test_replacing_writes_a_name_as_long_as_the_file_system_takes(tmp_path):
    """The temporary file's name (``.NAME.<hex>.tmp``) must not be longer than the name that fits."""
    path = tmp_path / ("L" * 250 + ".txt")
    with replacing(path) as handle:
        handle.write("written")
    assert path.read_text() == "written" and os.listdir(tmp_path) == [path.name]
