"""sphinx-gallery image scraper for the figures skcardio's plot functions return.

skcardio builds :class:`matplotlib.figure.Figure` objects directly, never through
``pyplot`` (see :mod:`skcardio.analysis`), so sphinx-gallery's own matplotlib
scraper, which reads pyplot's figure list, would not see them. This one saves
every ``Figure`` that an example's variables hold and that was not shown yet.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

__all__ = ["figure_scraper"]


def figure_scraper(block, block_vars, gallery_conf):
    """Save the new figures of a code block; return their reST."""
    shown = block_vars.setdefault("skcardio_shown_figures", set())
    figures = [
        value
        for value in list(block_vars["example_globals"].values())
        if isinstance(value, Figure) and id(value) not in shown
    ]
    paths = []
    for figure, path in zip(figures, block_vars["image_path_iterator"]):
        figure.savefig(path, dpi=80)
        shown.add(id(figure))
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
