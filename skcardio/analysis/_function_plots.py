"""Plots of LV function: volume over the cycle, ED/ES overlay sheet, Bland-Altman."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from ..utils._validation import check_cine_images_and_masks
from ._plots import _COLORS, _finish, _new_axes, _outline

__all__ = ["plot_volume_curve", "plot_ed_es_sheet", "plot_bland_altman"]


def plot_volume_curve(
    volumes: ArrayLike,
    *,
    ed_phase: int | None = None,
    es_phase: int | None = None,
    others: Mapping[str, ArrayLike] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Blood-pool volume over the cardiac cycle, with ED and ES marked.

    Parameters
    ----------
    volumes : array-like of shape (n_phases,)
        Volume of every phase in mL (the automatic curve).
    ed_phase, es_phase : int, default=None
        Phases marked as end-diastole and end-systole.
    others : mapping of str to array-like of shape (n_phases,), default=None
        Further volumes drawn as points (e.g. the expert's, NaN where not
        contoured), labelled by their key.
    title : str, default=None
        Title of the figure; none by default.
    path : str or path-like, default=None
        Save the figure there (the format from the extension); not saved by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (also saved to ``path`` when given).

    Examples
    --------
    >>> from skcardio.analysis import plot_volume_curve
    >>> figure = plot_volume_curve([120, 100, 60, 80], ed_phase=0, es_phase=2)
    >>> figure.axes[0].get_xlabel()
    'cardiac phase'
    """
    volumes = np.asarray(volumes, float)
    figure, ax = _new_axes(None, (6, 3.5))
    phases = np.arange(len(volumes))
    ax.plot(phases, volumes, "-o", color=_COLORS["pred"], markersize=3, label="automatic")
    markers = iter(["s", "^", "D", "v"])
    for label, values in (others or {}).items():
        values = np.asarray(values, float)
        ax.plot(phases, values, next(markers, "x"), linestyle="none", markersize=7, fillstyle="none", label=label)
    for phase, name in ((ed_phase, "ED"), (es_phase, "ES")):
        if phase is not None and 0 <= phase < len(volumes):
            ax.axvline(phase, color="grey", linestyle=":", linewidth=1)
            ax.annotate(name, (phase, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("cardiac phase")
    ax.set_ylabel("LV blood-pool volume (mL)")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title, pad=14)
    return _finish(figure, path)


def plot_ed_es_sheet(
    images: ArrayLike,
    masks: ArrayLike,
    *,
    ed_phase: int,
    es_phase: int,
    slices: Sequence[int] | None = None,
    slice_labels: Sequence[str] | None = None,
    margin: int = 12,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """The ED and ES images of every slice with the mask outlined (2 rows x slices).

    Every panel is cropped to the same box: the masks' bounding box over the
    slices shown, plus ``margin`` pixels.

    Parameters
    ----------
    images : array-like of shape (n_phases, n_slices, H, W)
        The study's images.
    masks : array-like of shape (n_phases, n_slices, H, W), bool
        Blood-pool masks, outlined on the images.
    ed_phase, es_phase : int
        Phases shown as end-diastole (top row) and end-systole (bottom row).
    slices : sequence of int, default=None
        Slices shown (all by default).
    slice_labels : sequence of str, default=None
        A caption per slice shown.
    margin : int, default=12
        Pixels around the masks' bounding box.
    title : str, default=None
        Title of the figure; none by default.
    path : str or path-like, default=None
        Save the figure there (the format from the extension); not saved by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (also saved to ``path`` when given).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.analysis import plot_ed_es_sheet
    >>> images = np.random.default_rng(0).random((3, 2, 32, 32))
    >>> masks = np.zeros((3, 2, 32, 32), bool); masks[:, :, 10:20, 10:20] = True
    >>> len(plot_ed_es_sheet(images, masks, ed_phase=0, es_phase=2).axes)
    4
    """
    images, masks = check_cine_images_and_masks(images, masks)
    slices = list(range(images.shape[1])) if slices is None else [int(s) for s in slices]
    if not slices:
        raise ValueError("no slice to show")
    box = _box(masks[[ed_phase, es_phase]][:, slices], margin)
    figure = Figure(figsize=(1.6 * len(slices) + 0.4, 3.6), layout="constrained")
    axes = figure.subplots(2, len(slices), squeeze=False)
    for row, (phase, name) in enumerate(((ed_phase, "ED"), (es_phase, "ES"))):
        for col, s in enumerate(slices):
            ax = axes[row, col]
            image = images[phase, s][box]
            low, high = np.nanpercentile(image, (1, 99)) if np.isfinite(image).any() else (0, 1)
            ax.imshow(image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
            _outline(ax, masks[phase, s][box], _COLORS["pred"])
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"{name} (phase {phase})")
            if row == 0:
                ax.set_title(slice_labels[col] if slice_labels else f"slice {s}", fontsize="small")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def _box(masks: np.ndarray, margin: int) -> tuple[slice, slice]:
    union = masks.reshape(-1, *masks.shape[-2:]).any(axis=0)
    height, width = union.shape
    if not union.any():
        return slice(0, height), slice(0, width)
    rows, cols = np.flatnonzero(union.any(axis=1)), np.flatnonzero(union.any(axis=0))
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, height)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, width)),
    )


def plot_bland_altman(
    reference: ArrayLike,
    measured: Mapping[str, ArrayLike],
    *,
    quantity: str = "EF (%)",
    labels: Sequence[str] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Bland-Altman plot: difference (measured - reference) against their mean.

    Each method's bias (mean difference) is a solid line and its limits of
    agreement (bias +/- 1.96 sd, the sample sd) dashed lines; NaN pairs are
    left out.

    Parameters
    ----------
    reference : array-like of shape (n,)
        The expert's values.
    measured : mapping of str to array-like of shape (n,)
        Each method's values, by name.
    quantity : str, default="EF (%)"
        Axis label.
    labels : sequence of str, default=None
        A label per case (patient ids) written beside each point.
    title : str, default=None
        Title of the figure; none by default.
    path : str or path-like, default=None
        Save the figure there (the format from the extension); not saved by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (also saved to ``path`` when given).

    Examples
    --------
    >>> from skcardio.analysis import plot_bland_altman
    >>> figure = plot_bland_altman([50, 30, 60], {"automatic": [52, 27, 61]})
    >>> figure.axes[0].get_ylabel()
    'difference, method - expert: EF (%)'
    """
    reference = np.asarray(reference, float)
    figure, ax = _new_axes(None, (6, 4))
    colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]
    for i, (name, values) in enumerate(measured.items()):
        values = np.asarray(values, float)
        if values.shape != reference.shape:
            raise ValueError(f"{name}: {values.shape[0] if values.ndim else 0} value(s), expected {len(reference)}")
        ok = np.isfinite(values) & np.isfinite(reference)
        mean, diff = (values[ok] + reference[ok]) / 2, values[ok] - reference[ok]
        colour = colours[i % len(colours)]
        ax.scatter(mean, diff, color=colour, label=name, zorder=3)
        if labels is not None:
            for x, y, text in zip(mean, diff, np.asarray(labels, object)[ok]):
                ax.annotate(str(text), (x, y), fontsize="x-small", xytext=(3, 3), textcoords="offset points")
        if ok.sum() >= 1:
            bias = diff.mean()
            ax.axhline(bias, color=colour, linewidth=1)
            if ok.sum() >= 2:
                spread = 1.96 * diff.std(ddof=1)
                for limit in (bias - spread, bias + spread):
                    ax.axhline(limit, color=colour, linewidth=1, linestyle="--")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(f"mean of method and expert: {quantity}")
    ax.set_ylabel(f"difference, method - expert: {quantity}")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return _finish(figure, path)
