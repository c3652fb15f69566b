"""The README's Python quick start runs as written (on the embedded sample)."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_quick_start():
    # Three blocks: classical pipeline / grid search, the U-Net, the pretrained U-Net.
    assert len(_python_blocks()) == 3


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the U-Net block writes unet.pt
    namespace: dict = {}
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102  (our own README)
    # The classical block: a grouped search over 6 candidates and 3-fold scores.
    assert len(namespace["search"].cv_results_["params"]) == 6
    assert 0.5 < namespace["scores"]["test_dice"].mean() <= 1.0
    # The U-Net block: masks of the input's shape, a model file that loads back.
    masks, data = namespace["masks"], namespace["data"]
    assert masks.shape == data.images.shape and masks.dtype == bool
    assert (tmp_path / "unet.pt").is_file()
    reloaded = namespace["model"].predict(data.images[:2])
    np.testing.assert_array_equal(reloaded, masks[:2])
    # The pretrained block: a confidence and flags per slice.
    quality = namespace["quality"]
    assert quality["confidence"].shape == quality["flagged"].shape == (len(data.images),)

