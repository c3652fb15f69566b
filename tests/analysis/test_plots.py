"""Plots: files are written, figures have the expected axes and artists."""

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from skcardio.analysis import (
    THRESHOLD_METHODS,
    plot_intensity_histograms,
    plot_overlay,
    plot_slice_scores,
    plot_threshold_grid,
)


@pytest.fixture
def slice_():
    rng = np.random.default_rng(0)
    image = rng.normal(100, 10, (48, 48))
    image[18:30, 18:30] += 150
    region = np.zeros((48, 48), bool)
    region[10:38, 10:38] = True
    true_mask = np.zeros((48, 48), bool)
    true_mask[18:30, 18:30] = True
    return image, region, true_mask


def test_histograms(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "hist.png"
    blood = rng.normal(300, 30, 400)
    myocardium = [rng.normal(150, 40, 300), [np.nan]]  # pooled, NaN left out
    figure = plot_intensity_histograms(blood, myocardium, path=path)
    assert isinstance(figure, Figure) and len(figure.axes) == 1
    assert path.stat().st_size > 1000
    ax = figure.axes[0]
    # 2 x 40 bars, two median lines, legend with the sample sizes
    assert len(ax.patches) == 80 and len(ax.lines) == 2
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0].startswith("blood pool (n=400") and labels[1].startswith("myocardium (n=300")


def test_overlay_draws_and_crops(tmp_path, slice_):
    image, region, true_mask = slice_
    path = tmp_path / "overlay.svg"
    figure = plot_overlay(image, true_mask=true_mask, pred_mask=image > 200, region=region, path=path)
    assert path.read_text().startswith("<?xml")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["prediction", "expert", "region"]
    # cropped to the region's box 10..37 plus a margin of 10 px
    assert ax.get_xlim() == pytest.approx((-0.5, 47.5))
    figure = plot_overlay(image, region=region, margin=2)
    assert figure.axes[0].get_xlim() == pytest.approx((7.5, 39.5))
    assert figure.axes[0].get_ylim() == pytest.approx((39.5, 7.5))


def test_overlay_shape_error(slice_):
    image, region, _ = slice_
    with pytest.raises(ValueError, match=r"pred_mask must have the image's shape \(48, 48\); got \(4, 4\)"):
        plot_overlay(image, pred_mask=np.zeros((4, 4), bool))


def test_threshold_grid(tmp_path, slice_):
    image, region, true_mask = slice_
    path = tmp_path / "grid.png"
    figure = plot_threshold_grid(image, region, true_mask=true_mask, path=path)
    assert path.is_file()
    assert len(figure.axes) == 1 + len(THRESHOLD_METHODS)
    titles = [ax.get_title() for ax in figure.axes[1:]]
    # the bright square is well separated: Otsu inside the region finds it
    otsu = next(t for t in titles if t.startswith("otsu"))
    assert otsu.endswith("IoU 1.00")


def test_threshold_grid_uses_region_pixels_only(slice_):
    image, region, _ = slice_
    image = image.copy()
    image[~region] = 10_000.0  # would dominate a whole-image threshold
    figure = plot_threshold_grid(image, region, methods=["otsu"], ncols=2)
    threshold = float(figure.axes[1].get_title().split(": ")[1])
    assert 110 < threshold < 240


def test_threshold_grid_reports_failures():
    image = np.full((20, 20), 5.0)  # flat: 'minimum' cannot find two peaks
    region = np.ones((20, 20), bool)
    figure = plot_threshold_grid(image, region, methods=["minimum"])
    assert figure.axes[1].get_title() == "minimum: failed"
    with pytest.raises(ValueError, match=r"unknown method\(s\) \['sauvola'\]"):
        plot_threshold_grid(image, region, methods=["sauvola"])
    with pytest.raises(ValueError, match="no finite pixel"):
        plot_threshold_grid(image, np.zeros((20, 20), bool))


def test_slice_scores(tmp_path):
    path = tmp_path / "scores.pdf"
    figure = plot_slice_scores(
        {"iou": [0.9, 0.3, 0.8], "apd_mm": [1.0, np.inf, 2.0]},
        labels=["a/1", "a/2", "b/1"],
        thresholds={"iou": 0.75},
        path=path,
    )
    assert path.read_bytes().startswith(b"%PDF")
    iou_ax, apd_ax = figure.axes
    assert len(iou_ax.patches) == 3 and len(apd_ax.patches) == 2
    assert iou_ax.lines[0].get_ydata()[0] == 0.75
    assert "(1 not finite)" in apd_ax.get_title(loc="left")
    assert [t.get_text() for t in apd_ax.get_xticklabels()] == ["a/1", "a/2", "b/1"]
    with pytest.raises(ValueError, match=r"one value per slice; got lengths \[2, 3\]"):
        plot_slice_scores({"iou": [1, 2, 3], "dice": [1, 2]})
    assert len(plot_slice_scores([0.1, 0.2]).axes) == 1


@pytest.mark.shared_data
def test_plots_on_real_slice(tmp_path, shared_data_root):
    from skcardio.datasets import load_dataset

    data = load_dataset(shared_data_root, require="o-contour")
    image, region, truth = data.images[0], data.regions[0], data.y[0]
    plot_threshold_grid(image, region, true_mask=truth, path=tmp_path / "grid.png")
    plot_overlay(image, true_mask=truth, region=region, path=tmp_path / "overlay.png")
    assert {p.name for p in tmp_path.iterdir()} == {"grid.png", "overlay.png"}


@pytest.mark.parametrize("suffix", [".pdf", ".svg"])
def test_failed_save_leaves_no_file(tmp_path, slice_, suffix):
    # A figure without a layout engine is drawn while its file is being written:
    # a drawing error must not leave a truncated file (nor a temporary one).
    image, _, _ = slice_
    path = tmp_path / f"overlay{suffix}"
    ax = Figure().add_subplot()
    with pytest.raises(ValueError):
        plot_overlay(image, ax=ax, title=r"$\nocommand$", path=path)
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(b"earlier")
    with pytest.raises(ValueError):
        plot_intensity_histograms([1.0, 2.0], [3.0], ax=Figure().add_subplot(), title=r"$\oops$", path=path)
    assert path.read_bytes() == b"earlier" and list(tmp_path.iterdir()) == [path]


def test_save_without_extension_uses_png(tmp_path):
    plot_slice_scores([0.1, 0.2], path=tmp_path / "scores")
    assert [p.name for p in tmp_path.iterdir()] == ["scores.png"]


@pytest.mark.parametrize("n_pixels", [1, 400])
def test_threshold_grid_flat_region(n_pixels):
    # One grey level: no threshold separates anything (isodata raised
    # IndexError, otsu showed "5.0, IoU 0.00", yen selected the whole region,
    # and scikit-image warned); every panel says it failed, and why.
    image = np.full((20, 20), 5.0)
    region = np.zeros((20, 20), bool)
    region.flat[:n_pixels] = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = plot_threshold_grid(image, region)
    panels = figure.axes[1:]
    assert [ax.get_title() for ax in panels] == [f"{m}: failed" for m in THRESHOLD_METHODS]
    assert all("constant intensity 5 in the region" in ax.texts[0].get_text() for ax in panels)


def test_threshold_grid_title(slice_):
    image, region, _ = slice_
    # figure.texts, not get_suptitle(): that needs matplotlib 3.8 (3.7 is supported).
    figure = plot_threshold_grid(image, region, methods="otsu", title="SCD0000101/48")
    assert [text.get_text() for text in figure.texts] == ["SCD0000101/48"]
    assert not plot_threshold_grid(image, region, methods="otsu").texts


def test_threshold_grid_ncols_error(slice_):
    image, region, _ = slice_
    with pytest.raises(ValueError, match=r"ncols must be a positive integer; got 0"):
        plot_threshold_grid(image, region, ncols=0)


def test_threshold_grid_one_method_as_string(slice_):
    image, region, _ = slice_
    figure = plot_threshold_grid(image, region, methods="otsu")
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert len(titles) == 2 and titles[1].startswith("otsu")  # the image panel, then Otsu


def test_masks_must_be_boolean(slice_):
    image, region, _ = slice_
    probabilities = np.clip(image / 300, 0, 1)  # not a mask: would be drawn as all True
    with pytest.raises(ValueError, match=r"pred_mask must be a boolean mask .*got dtype float64"):
        plot_overlay(image, pred_mask=probabilities)
    with pytest.raises(ValueError, match=r"region must be a boolean mask"):
        plot_threshold_grid(image, region * 2)
    plot_overlay(image, pred_mask=region.astype(np.uint8), true_mask=region.astype(float))


def test_slice_scores_shape_errors():
    with pytest.raises(ValueError, match=r"scores\['score'\] must be 1-D .*got shape \(3, 2\)"):
        plot_slice_scores(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"scores must hold at least one metric; got an empty mapping"):
        plot_slice_scores({})


def test_save_error_names_the_path(tmp_path):
    path = tmp_path / "missing" / "scores.png"
    with pytest.raises(FileNotFoundError, match=r"missing/scores\.png"):
        plot_slice_scores([0.1, 0.2], path=path)
    assert list(tmp_path.iterdir()) == []
