"""The all-or-nothing output helpers shared by the sub-commands."""

import argparse
from pathlib import Path

import pytest

from skcardio.cli import main
from skcardio.cli._output import OutputError, atomic_file, out_dir, out_file, publish, staging


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
            assert stage.parent == tmp_path  # next to out: its nearest existing folder
            (stage / "a").write_text("x")
            raise OSError("disk full")
    with pytest.raises(KeyboardInterrupt):
        with staging(out, "test") as stage:
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


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
