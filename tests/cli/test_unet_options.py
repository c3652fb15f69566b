"""U-Net options shared by ``train`` and ``evaluate --method unet``: refused before any data are read."""

import pytest

from skcardio.cli import main
from skcardio.segment import _unet_runtime


@pytest.mark.parametrize("command", [["train"], ["evaluate", "--method", "unet"]])
def test_training_without_skorch_is_one_error_line(command, tmp_path, capsys, monkeypatch):
    # Under python -OO skorch cannot be imported; fit's ImportError was a traceback after loading the data.
    def no_skorch(module="skcardio.segment._unet_skorch"):
        raise ImportError("training or building a UNetSegmenter needs skorch, which cannot be imported under python -OO")

    def no_loading(*args, **kwargs):  # pragma: no cover - reached only if the check comes too late
        raise AssertionError("data loaded before the options were refused")

    monkeypatch.setattr(_unet_runtime, "import_skorch", no_skorch)
    monkeypatch.setattr("skcardio.cli._train.load_sources", no_loading)
    out = tmp_path / "out"
    assert main([*command, "--out", str(out), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"skcardio {command[0]}: error: training or building a UNetSegmenter needs skorch, "
        "which cannot be imported under python -OO\n"
    ), err
    assert not out.exists()
