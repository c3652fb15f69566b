"""Output names made from input names: distinct, and short enough for a file system."""

import time
from pathlib import Path

import pytest

from skcardio.cli._output_names import NAME_MAX, fit_name, unique_names


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


@pytest.mark.parametrize("copies", [1000, 4000])
def test_copies_of_a_name_take_time_in_proportion_to_their_number(monkeypatch, copies):
    """The first free suffix was searched from _2 for every copy: 2,000 copies took 16 s, 4,000 70 s."""
    from skcardio.cli import _output_names

    calls = []
    real = _output_names.fit_name
    monkeypatch.setattr(_output_names, "fit_name", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    started = time.perf_counter()
    names = [str(name) for name, _ in unique_names([Path("DICOM/240")] * copies + [Path("dicom/240_7")])]
    assert time.perf_counter() - started < 1
    assert names == ["DICOM/240"] + [f"DICOM/240_{k}" for k in range(2, 7)] + [
        f"DICOM/240_{k}" for k in range(8, copies + 2)] + ["dicom/240_7"]  # a name of the list is skipped
    assert len(calls) == 2 * (copies + 1) + copies - 1 + 1  # 2 parts a name, then 1 a try: one try a copy, 1 more


def test_suffixes_of_each_folder_and_name_are_counted_apart():
    names = [Path("a/x"), Path("b/x"), Path("a/x"), Path("A/x"), Path("b/x"), Path("a/y"), Path("a/y")]
    assert [str(n) for n, _ in unique_names(names, taken=["a/x_3"])] == [
        "a/x", "b/x", "a/x_2", "A/x_4", "b/x_2", "a/y", "a/y_2"]
