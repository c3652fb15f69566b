"""The Python examples of ``docs/*.md`` run as written.

Blocks of one page run in order in one namespace (later blocks use earlier
names), in a temporary directory (some save plots). Pages that read the shared
data (``../shared/data/final_data``, ``../shared/data/sunnybrook_train_png``)
get its real path and are skipped without it.
"""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
SHARED_IN_DOCS = "../shared/data/"

# Pages whose examples are not run here, and why.
NOT_RUN = {
    "unet.md": "its examples train full U-Nets (minutes to hours on CPU); "
    "tests/segment/test_unet.py covers the same calls on small data",
}


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def test_every_page_is_run_or_listed():
    pages = {page.name for page in DOCS.glob("*.md") if _python_blocks(page)}
    assert set(NOT_RUN) <= pages
    assert len(pages - set(NOT_RUN)) >= 4  # analysis, data, metrics, segmentation


@pytest.mark.parametrize(
    "name", sorted(p.name for p in DOCS.glob("*.md") if p.name not in NOT_RUN and _python_blocks(p))
)
def test_doc_examples_run(name, tmp_path, monkeypatch, request):
    page = DOCS / name
    blocks = _python_blocks(page)
    if any(SHARED_IN_DOCS in block for block in blocks):
        shared = request.getfixturevalue("shared_data_root")  # skips when absent
        blocks = [block.replace(SHARED_IN_DOCS, f"{shared.parent}/") for block in blocks]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page}[block {number}]", "exec"), namespace)  # noqa: S102
        except Exception as error:
            pytest.fail(f"{name}, Python block {number} failed: {error!r}\n{block}")
    # The blocks ran to the end and defined what they show.
    assert len([k for k in namespace if not k.startswith("__")]) >= len(blocks)
