"""Exploration plots: histograms, overlays, a thresholds grid and per-slice scores.

Figures are built with :class:`matplotlib.figure.Figure` directly, not with
``pyplot``: no GUI backend is needed (saving uses Agg), nothing is kept in
pyplot's global figure list, and each function returns its figure. A file
given as ``path`` is written through a temporary file beside it, so a failed
save leaves no partial file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from .._files import replacing
from .._numbers import is_int
from ..metrics import iou_score
from ..segment import THRESHOLD_METHODS, threshold_region
from ..utils._validation import check_slice_image, check_slice_mask

__all__ = [
    "THRESHOLD_METHODS",
    "plot_intensity_histograms",
    "plot_overlay",
    "plot_threshold_grid",
    "plot_slice_scores",
]

_COLORS = {"true": "#2ca02c", "pred": "#d62728", "region": "#ffbf00", "blood": "#d62728", "myo": "#1f77b4"}


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def _finish(figure: Figure, path: str | os.PathLike | None) -> Figure:
    """Save to ``path`` through a temporary file: a failed save leaves no partial file."""
    if path is None:
        return figure
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1][1:].lower()
    if not fmt:  # as matplotlib does: the default format, its extension appended
        fmt = mpl.rcParams["savefig.format"]
        path = f"{path}.{fmt}"
    with replacing(path, "wb") as stream:
        figure.savefig(stream, format=fmt, dpi=100)
    return figure


def _pooled(values: ArrayLike | Sequence[ArrayLike]) -> np.ndarray:
    """A 1-D sample, or several pooled; NaN left out."""
    if isinstance(values, np.ndarray):
        values = values.ravel()
    else:
        values = np.concatenate([np.ravel(v) for v in values]) if len(values) else np.empty(0)
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


def _crop_to(ax: Axes, masks: Sequence[np.ndarray | None], margin: int) -> None:
    """Zoom on the bounding box of the given masks, plus ``margin`` pixels."""
    union = None
    for mask in masks:
        if mask is not None:
            union = mask if union is None else union | mask
    if union is None or not union.any():
        return
    rows = np.flatnonzero(union.any(axis=1))
    cols = np.flatnonzero(union.any(axis=0))
    height, width = union.shape
    ax.set_xlim(max(cols[0] - margin, 0) - 0.5, min(cols[-1] + margin, width - 1) + 0.5)
    ax.set_ylim(min(rows[-1] + margin, height - 1) + 0.5, max(rows[0] - margin, 0) - 0.5)


def _outline(ax: Axes, mask: np.ndarray, color: str, linestyle: str = "-") -> None:
    if mask.any():
        ax.contour(mask.astype(float), levels=[0.5], colors=[color], linewidths=1.5, linestyles=linestyle)


def _fill(ax: Axes, mask: np.ndarray, color: str) -> None:
    rgba = np.zeros((*mask.shape, 4))
    rgba[mask] = (*_hex_to_rgb(color), 0.35)
    ax.imshow(rgba, interpolation="nearest")


def _hex_to_rgb(color: str) -> tuple[float, float, float]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))


def plot_intensity_histograms(
    blood: ArrayLike | Sequence[ArrayLike],
    myocardium: ArrayLike | Sequence[ArrayLike],
    *,
    bins: int = 40,
    ax: Axes | None = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Overlaid histograms of blood-pool and myocardium intensities.

    Parameters
    ----------
    blood, myocardium : array-like or sequence of array-like
        One sample each (e.g. ``intensity_distributions(...).blood[i]``), or
        several samples that are pooled (e.g. the whole ``.blood`` list). NaN
        values are left out.
    bins : int, default=40
        Number of bins, shared by both histograms.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    path : str or path-like, default=None
        Save the figure there (format from the extension).
    title : str, default=None
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (that of ``ax`` when given).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.analysis import plot_intensity_histograms
    >>> rng = np.random.default_rng(0)
    >>> figure = plot_intensity_histograms(rng.normal(300, 30, 500), rng.normal(150, 40, 500))
    >>> len(figure.axes)
    1
    """
    blood, myocardium = _pooled(blood), _pooled(myocardium)
    figure, ax = _new_axes(ax, (6, 4))
    both = np.concatenate([blood, myocardium])
    edges = np.histogram_bin_edges(both if both.size else [0.0, 1.0], bins=bins)
    samples = ((blood, "blood pool", _COLORS["blood"]), (myocardium, "myocardium", _COLORS["myo"]))
    for values, label, color in samples:
        if values.size:
            median = np.median(values)
            ax.hist(values, bins=edges, density=True, alpha=0.45, color=color,
                    label=f"{label} (n={values.size}, median {median:.0f})")
            ax.axvline(median, color=color, linestyle="--", linewidth=1)
    ax.set_xlabel("intensity")
    ax.set_ylabel("density")
    if blood.size or myocardium.size:
        ax.legend(fontsize="small")
    ax.set_title(title or "Blood pool vs myocardium intensities")
    return _finish(figure, path)


def plot_overlay(
    image: ArrayLike,
    *,
    true_mask: ArrayLike | None = None,
    pred_mask: ArrayLike | None = None,
    region: ArrayLike | None = None,
    crop: bool = True,
    margin: int = 10,
    ax: Axes | None = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Show a slice with the expert contour, a predicted mask and the region.

    The expert mask is drawn as a green outline, the prediction as a
    translucent red fill with a red outline, the region as a dashed yellow
    outline.

    Parameters
    ----------
    image : array-like of shape (H, W)
        The slice (NaN pixels are left blank).
    true_mask, pred_mask, region : array-like of shape (H, W), default=None
        Masks to draw (bool, or numbers all 0 or 1); any may be omitted.
    crop : bool, default=True
        Zoom on the masks' bounding box plus ``margin`` pixels.
    margin : int, default=10
        Pixels kept around the masks' bounding box when cropping.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    path : str or path-like, default=None
        Save the figure there.
    title : str, default=None
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (that of ``ax`` when given).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.analysis import plot_overlay
    >>> image = np.zeros((32, 32)); image[10:20, 10:20] = 1.0
    >>> figure = plot_overlay(image, true_mask=image > 0.5, pred_mask=image > 2)
    >>> len(figure.axes)
    1
    """
    image = check_slice_image(image)
    true_mask = check_slice_mask(true_mask, image.shape, "true_mask")
    pred_mask = check_slice_mask(pred_mask, image.shape, "pred_mask")
    region = check_slice_mask(region, image.shape, "region")
    figure, ax = _new_axes(ax, (5, 5))
    ax.imshow(image, cmap="gray", interpolation="nearest")
    handles = []
    if pred_mask is not None:
        _fill(ax, pred_mask, _COLORS["pred"])
        _outline(ax, pred_mask, _COLORS["pred"])
        handles.append(Line2D([], [], color=_COLORS["pred"], label="prediction"))
    if true_mask is not None:
        _outline(ax, true_mask, _COLORS["true"])
        handles.append(Line2D([], [], color=_COLORS["true"], label="expert"))
    if region is not None:
        _outline(ax, region, _COLORS["region"], "--")
        handles.append(Line2D([], [], color=_COLORS["region"], linestyle="--", label="region"))
    if crop:
        _crop_to(ax, [true_mask, pred_mask, region], margin)
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize="small")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _finish(figure, path)


def plot_threshold_grid(
    image: ArrayLike,
    region: ArrayLike,
    *,
    methods: Sequence[str] | None = None,
    true_mask: ArrayLike | None = None,
    ncols: int = 3,
    crop: bool = True,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Try every global threshold inside a region, like ``skimage.filters.try_all_threshold``.

    Unlike scikit-image's helper, each threshold is computed from the
    region's pixels only, and pixels outside the region are never selected.
    The first panel shows the slice and region; then one panel per method
    with the selected pixels (``image > threshold`` inside the region), the
    threshold value and, when ``true_mask`` is given, the IoU. A method that
    fails on the slice (``minimum`` needs a bimodal histogram) says so in its
    panel; on a region of one intensity every panel says so (no threshold
    separates anything there).

    Parameters
    ----------
    image : array-like of shape (H, W)
        The slice.
    region : array-like of shape (H, W)
        Where to threshold (e.g. the o-contour mask); bool, or numbers all 0 or 1.
    methods : sequence of str, default=None
        Names in :data:`~skcardio.segment.THRESHOLD_METHODS`; all of them when None.
    true_mask : array-like of shape (H, W), default=None
        Expert mask: outlined in green and used for the IoU in the titles.
    ncols : int, default=3
        Panels per row.
    crop : bool, default=True
        Zoom on the region.
    title : str, default=None
        Title of the whole figure (e.g. which slice it shows).
    path : str or path-like, default=None
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
        With ``1 + len(methods)`` axes.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.analysis import plot_threshold_grid
    >>> rng = np.random.default_rng(0)
    >>> image = rng.normal(100, 10, (40, 40)); image[15:25, 15:25] += 150
    >>> region = np.zeros((40, 40), bool); region[8:32, 8:32] = True
    >>> figure = plot_threshold_grid(image, region, methods=["otsu", "li"])
    >>> len(figure.axes)
    3
    """
    image = check_slice_image(image)
    region = check_slice_mask(region, image.shape, "region")
    true_mask = check_slice_mask(true_mask, image.shape, "true_mask")
    if not is_int(ncols) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer; got {ncols!r}.")
    if isinstance(methods, str):  # one method, not its letters
        methods = [methods]
    methods = list(THRESHOLD_METHODS if methods is None else methods)
    unknown = [m for m in methods if m not in THRESHOLD_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; expected some of {list(THRESHOLD_METHODS)}.")
    inside = region & np.isfinite(image)
    if not inside.any():
        raise ValueError("region selects no finite pixel of the image; nothing to threshold.")
    n_panels = 1 + len(methods)
    nrows = -(-n_panels // ncols)
    figure = Figure(figsize=(3.2 * min(ncols, n_panels), 3.2 * nrows), layout="constrained")
    axes = figure.subplots(nrows, min(ncols, n_panels), squeeze=False).ravel()
    for extra in axes[n_panels:]:
        extra.remove()
    if title is not None:
        figure.suptitle(title)
    plot_overlay(image, true_mask=true_mask, region=region, crop=crop, margin=3, ax=axes[0], title="region")
    for ax, method in zip(axes[1:], methods):
        try:
            # ThresholdSegmenter's own step, with its defaults (multiotsu: brightest of 3 classes).
            selected, threshold = threshold_region(image, inside, method)
        except ValueError as exc:  # one grey level, or scikit-image failed (minimum: one peak)
            plot_overlay(image, region=region, crop=crop, margin=3, ax=ax)
            ax.set_title(f"{method}: failed", fontsize="small")
            ax.text(0.5, 0.5, str(exc)[:60], transform=ax.transAxes, ha="center", wrap=True,
                    color="white", fontsize="x-small")
            continue
        label = f"{method}: {threshold:.1f}"
        if true_mask is not None:
            label += f", IoU {iou_score(true_mask, selected):.2f}"
        plot_overlay(image, true_mask=true_mask, pred_mask=selected, region=region, crop=crop,
                     margin=3, ax=ax)
        ax.set_title(label, fontsize="small")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    return _finish(figure, path)


def plot_slice_scores(
    scores: Mapping[str, ArrayLike] | ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Bar chart of per-slice scores, one panel per metric.

    Parameters
    ----------
    scores : mapping of str to array-like of shape (n,), or array-like of shape (n,)
        Per-slice values by metric name (e.g. ``{"iou": ..., "apd_mm": ...}``).
        Non-finite values (an empty prediction's distance) are not drawn and
        are counted in the panel's title.
    labels : sequence of str, default=None
        One tick label per slice (e.g. ``"SCD0000101/48"``).
    thresholds : mapping of str to float, default=None
        Horizontal reference line per metric (e.g. ``{"iou": 0.75}``).
    path : str or path-like, default=None
        Save the figure there.
    title : str, default=None
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        With one axes per metric.

    Examples
    --------
    >>> from skcardio.analysis import plot_slice_scores
    >>> figure = plot_slice_scores({"iou": [0.9, 0.5, 0.8], "dice": [0.95, 0.67, 0.89]},
    ...                            thresholds={"iou": 0.75})
    >>> len(figure.axes)
    2
    """
    if not isinstance(scores, Mapping):
        scores = {"score": scores}
    if not scores:
        raise ValueError("scores must hold at least one metric; got an empty mapping.")
    series = {}
    for name, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim > 1:
            raise ValueError(
                f"scores[{name!r}] must be 1-D (one value per slice); got shape {values.shape}."
            )
        series[name] = values.ravel()
    lengths = {len(values) for values in series.values()}
    if len(lengths) != 1:
        raise ValueError(f"every metric needs one value per slice; got lengths {sorted(lengths)}.")
    (n,) = lengths
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels must have one entry per slice ({n}); got {len(labels)}.")
    thresholds = thresholds or {}
    figure = Figure(figsize=(max(6.0, 0.12 * n + 2), 2.2 * len(series) + 0.8), layout="constrained")
    axes = figure.subplots(len(series), 1, sharex=True, squeeze=False).ravel()
    x = np.arange(n)
    for ax, (name, values) in zip(axes, series.items()):
        finite = np.isfinite(values)
        ax.bar(x[finite], values[finite], width=0.8, color="#4c72b0")
        if name in thresholds:
            ax.axhline(thresholds[name], color="#d62728", linestyle="--", linewidth=1)
        missing = int((~finite).sum())
        ax.set_ylabel(name)
        heading = f"{name}: mean {values[finite].mean():.3g}" if finite.any() else f"{name}: no finite value"
        ax.set_title(heading + (f" ({missing} not finite)" if missing else ""), fontsize="small", loc="left")
    if labels is not None:
        axes[-1].set_xticks(x, labels, rotation=90, fontsize="x-small")
    axes[-1].set_xlabel("slice")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)
