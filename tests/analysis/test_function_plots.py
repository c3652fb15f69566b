"""Volume curve, ED/ES sheet and Bland-Altman plots."""

from __future__ import annotations

import numpy as np
import pytest

from skcardio.analysis import plot_bland_altman, plot_ed_es_sheet, plot_volume_curve


def test_volume_curve_marks_ed_es_and_others(tmp_path):
    path = tmp_path / "curve.png"
    figure = plot_volume_curve([100, 80, 50, 70], ed_phase=0, es_phase=2,
                               others={"expert": [98, np.nan, 52, np.nan]}, title="P1", path=path)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.texts] == ["ED", "ES"]
    assert [line.get_label() for line in ax.get_lines()[:2]] == ["automatic", "expert"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [98, np.nan, 52, np.nan])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sheet_has_two_rows_of_the_slices_asked():
    images = np.random.default_rng(0).random((4, 5, 40, 40))
    masks = np.zeros(images.shape, bool)
    masks[:, :, 15:25, 15:25] = True
    figure = plot_ed_es_sheet(images, masks, ed_phase=0, es_phase=3, slices=[1, 3], slice_labels=["a", "b"])
    assert len(figure.axes) == 4
    assert [ax.get_title() for ax in figure.axes[:2]] == ["a", "b"]
    assert figure.axes[0].get_ylabel() == "ED (phase 0)" and figure.axes[2].get_ylabel() == "ES (phase 3)"
    # Every panel cropped to the masks' box plus the 12-pixel margin: rows/cols 3..36.
    assert figure.axes[0].images[0].get_array().shape == (34, 34)


def test_sheet_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        plot_ed_es_sheet(np.zeros((2, 2, 8, 8)), np.zeros((2, 1, 8, 8), bool), ed_phase=0, es_phase=1)


def test_bland_altman_lines():
    figure = plot_bland_altman([50, 30, 60, np.nan], {"auto": [52, 27, 64, 40]}, labels=["a", "b", "c", "d"])
    ax = figure.axes[0]
    diffs = np.array([2, -3, 4])
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines())
    spread = 1.96 * diffs.std(ddof=1)
    np.testing.assert_allclose(levels, sorted([0, diffs.mean(), diffs.mean() - spread, diffs.mean() + spread]))
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c"]  # the NaN pair is left out
    with pytest.raises(ValueError, match="2 value"):
        plot_bland_altman([1, 2, 3], {"x": [1, 2]})
