"""The benchmarks compare like with like, and time what they say they time.

``benchmarks/bench_classical.py`` times ``GridSearchCV`` against a bare loop of
scikit-image / scipy calls; the ratio only means something if both compute
the same masks and scores. These tests hold the script to that, and check
``benchmarks/bench_unet.py``'s epoch timing on tiny data and
``benchmarks/bench_clinical.py``'s probe of the network's time.
"""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

from skcardio.datasets import get_sample_path, load_dataset
from skcardio.preprocessing import RegionSelector
from skcardio.segment import ThresholdSegmenter

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_script(name: str):
    """``benchmarks/<name>.py`` loaded as a fresh module.

    The scripts are no package: each puts benchmarks/ on sys.path for what it imports from another script.
    """
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_script("bench_classical")


def _timing_configs(bench):
    for values in itertools.product(*bench.TIMING_GRID.values()):
        yield dict(zip(bench.TIMING_GRID, values))


def test_bare_segment_matches_threshold_segmenter(bench):
    rng = np.random.default_rng(0)
    rows, cols = np.indices((48, 48))
    distance = np.hypot(rows - 22, cols - 25)
    region = distance < 15
    # Bright pool with noise and a dark "papillary muscle", in a darker ring.
    image = np.where(distance < 8, 200.0, 80.0) + rng.normal(0, 25, region.shape)
    image[20:23, 22:25] = 60.0
    nan_image = np.where(region, image, np.nan)[np.newaxis]
    compared, distinct = 0, set()
    for params in _timing_configs(bench):
        expected = ThresholdSegmenter(**bench.SHAPE, **params).predict(nan_image)[0]
        distinct.add(expected.tobytes())
        for crop in (True, False):
            got = bench.bare_segment(image, region, **params, crop=crop)
            np.testing.assert_array_equal(got, expected, err_msg=f"{params}, crop={crop}")
            compared += 1
    assert compared == 2 * np.prod([len(v) for v in bench.TIMING_GRID.values()])
    # The test image must tell the configurations apart, or equality proves little.
    assert len(distinct) >= 8


@pytest.mark.shared_data
def test_bare_loop_and_grid_search_agree_on_shared_data(bench, shared_data_root):
    data = load_dataset(shared_data_root, require="o-contour")
    pairs = np.stack([data.images, data.regions.astype(np.float32)], axis=1)
    bare = bench.bare_grid_search(pairs[:, 0].astype(np.float64), pairs[:, 1] > 0.5,
                                  data.y, data.groups)
    pipeline = bench.sklearn_grid_search(pairs, data.y, data.groups)
    selected = bench.sklearn_grid_search(RegionSelector().fit_transform(pairs), data.y,
                                         data.groups)
    assert set(bare) == set(pipeline) == set(selected)
    assert len(bare) == np.prod([len(v) for v in bench.TIMING_GRID.values()])
    for key, score in bare.items():
        assert pipeline[key] == pytest.approx(score, abs=1e-12), key
        assert selected[key] == pytest.approx(score, abs=1e-12), key
    # Sanity: the configurations differ (a constant score would hide a broken loop).
    assert 0.5 < min(bare.values()) < max(bare.values()) < 1.0


def test_epicardium_benchmark_apd_is_to_the_contour_file_where_there_is_one(tmp_path):
    """bench_epicardium scores APD to the expert's contour points (the MICCAI rule), to the mask without a file."""
    from skcardio.metrics import average_perpendicular_distance

    bench = load_script("bench_epicardium")
    points = np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]])  # x y, a square
    contour = tmp_path / "IM-0001-0001-ocontour-manual.txt"
    contour.write_text("\n".join(f"{x} {y}" for x, y in points))
    truth = np.zeros((2, 32, 32), bool)
    truth[:, 10:21, 10:21] = True
    masks = np.zeros_like(truth)
    masks[:, 11:22, 10:21] = True  # one row lower
    spacing = np.ones((2, 2))
    apd = bench.slice_apd(truth, masks, np.array([str(contour), ""]), spacing)
    to_file = average_perpendicular_distance([points], masks[:1], spacing=spacing[:1], per_slice=True)
    to_mask = average_perpendicular_distance(truth[1:], masks[1:], spacing=spacing[1:], per_slice=True)
    np.testing.assert_allclose(apd, [to_file[0], to_mask[0]])
    assert apd[0] != apd[1]  # the traced mask outline is not the drawn polygon


def test_epicardium_benchmark_labels(shared_data_root):
    """bench_epicardium trains on other patients only, with epicardial labels only where QC trusts them."""
    bench = load_script("bench_epicardium")
    dicom, clean_o, *pngs = bench.load_all(shared_data_root, "none")
    groups = np.asarray(dicom.groups)
    assert clean_o.sum() == 37 and not clean_o[groups == "SCD0000501"].any()
    images, labels, train_groups = bench.training_set(dicom, clean_o, *pngs, "SCD0000101", 2)
    keep = groups != "SCD0000101"
    assert "SCD0000101" not in set(train_groups)
    assert len(images) == keep.sum() + clean_o[keep].sum()  # epicardial slices twice
    known = (labels[:, 1] >= 0).all(axis=(1, 2))
    assert known.sum() == 2 * clean_o[keep].sum()
    assert ((labels[:, 1] == -1).all(axis=(1, 2)) | known).all()
    np.testing.assert_array_equal(labels[: keep.sum(), 0], dicom.y[keep])
    np.testing.assert_array_equal(labels[: keep.sum()][clean_o[keep], 1], dicom.regions[keep][clean_o[keep]])


def test_unet_benchmark_times_epochs_and_extrapolates_the_full_fit():
    """bench_unet --train-epochs: one duration per epoch; the full fit is max_epochs x the median epoch."""
    pytest.importorskip("torch")
    module = load_script("bench_unet")
    rng = np.random.default_rng(0)
    masks = np.zeros((4, 32, 32), bool)
    masks[:, 10:20, 12:22] = True
    images = (100 * masks + rng.normal(0, 5, masks.shape)).astype(np.float32)
    params = dict(depth=2, base_channels=4, crop_size=32, batch_size=4, max_epochs=50)
    timed = module.train_epochs(images, masks, params, 2)
    assert timed["epochs"] == 2 and len(timed["epoch_s"]) == 2 and all(d > 0 for d in timed["epoch_s"])
    assert timed["max_epochs"] == 50
    assert timed["extrapolated_fit_s"] == pytest.approx(50 * np.median(timed["epoch_s"]))
    assert timed["fit_s"] >= sum(timed["epoch_s"]) and timed["fit_cpu_s"] > 0


def test_clinical_benchmark_times_the_network_prediction_runs():
    """bench_clinical's probe counts the network passes prediction makes (network_proba), only inside its block."""
    pytest.importorskip("torch")
    from skcardio.segment import UNetSegmenter, _unet

    module = load_script("bench_clinical")
    model = UNetSegmenter.pretrained().set_params(tta=True)  # four passes per image
    images = load_dataset(get_sample_path()).images[:1]
    run = _unet.network_proba
    with module.timing_network() as spent:
        start = module.time.perf_counter()
        model.predict(images)
        total = module.time.perf_counter() - start
    assert 0 < spent[0] <= total and spent[1] > 0
    assert _unet.network_proba is run  # the probe is off after the block
    before = list(spent)
    model.predict(images)
    assert spent == before


@pytest.fixture(scope="module")
def bench_unet():
    pytest.importorskip("torch")
    return load_script("bench_unet")


def test_unet_benchmark_hold_out_makes_one_fold_per_listed_patient(bench_unet):
    """--hold-out: fold k holds out the k-th listed patient's slices; the others (listed or not) train it."""
    groups = np.array(["a", "c", "b", "a", "c", "c"])
    pathology = np.array(["x", "y", "x", "x", "y", "y"])
    folds = bench_unet.make_folds(groups, pathology, 3, ["c", "a"])
    assert folds == [{"fold": 0, "held_out": ["c"], "test_index": [1, 4, 5]},
                     {"fold": 1, "held_out": ["a"], "test_index": [0, 3]}]
    assert bench_unet.leave_one_patient_out(folds)
    with pytest.raises(ValueError, match=r"unknown patients \['d'\]"):
        bench_unet.make_folds(groups, pathology, 3, ["a", "d"])
    with pytest.raises(ValueError, match="listed twice"):
        bench_unet.make_folds(groups, pathology, 3, ["a", "a"])
    stratified = bench_unet.make_folds(groups, pathology, 2)
    assert sorted(i for fold in stratified for i in fold["test_index"]) == list(range(6))
    assert not bench_unet.leave_one_patient_out(stratified)


def test_unet_benchmark_dicom_repeat_repeats_training_dicom_slices_only(bench_unet):
    """--dicom-repeat K: the training patients' DICOM slices K times, PNG slices once, test slices never."""
    icontour = np.array(["a.txt", "b.txt", "", "c.txt", "", ""])
    test = np.array([1, 4])
    assert bench_unet.training_index(6, test, icontour).tolist() == [0, 2, 3, 5]
    assert sorted(bench_unet.training_index(6, test, icontour, 3).tolist()) == [0, 0, 0, 2, 3, 3, 3, 5]


def test_unet_benchmark_patient_subset_is_stratified_and_nested(bench_unet):
    """--patient-fraction: ceil(F * n) patients of each group, a smaller share inside a larger one."""
    groups = np.repeat(["a1", "a2", "a3", "b1", "b2", "c1"], 2)  # 3 patients of group a, 2 of b, 1 of c
    pathology = np.array([g[0] for g in groups])
    train = np.arange(len(groups))
    third = bench_unet.patient_subset(train, groups, pathology, 0.333)
    two_thirds = bench_unet.patient_subset(train, groups, pathology, 0.666)
    assert sorted(set(pathology[third])) == ["a", "b", "c"]  # every group kept
    assert [len(set(groups[third][pathology[third] == g])) for g in "abc"] == [1, 1, 1]
    assert [len(set(groups[two_thirds][pathology[two_thirds] == g])) for g in "abc"] == [2, 2, 1]
    assert set(third) <= set(two_thirds)  # nested
    assert all((groups[i] in set(groups[third])) == (i in third) for i in train)  # whole patients
    np.testing.assert_array_equal(bench_unet.patient_subset(train, groups, pathology, 1.0), train)


def test_unet_benchmark_balance_gives_each_label_the_same_total_weight(bench_unet):
    labels = np.array(["HYP", "N", "HYP", "HF", "HF", "HF"])
    weights = bench_unet.balance_weights(labels)
    np.testing.assert_allclose(weights, [1 / 2, 1, 1 / 2, 1 / 3, 1 / 3, 1 / 3])
    totals = {label: weights[labels == label].sum() for label in set(labels)}
    np.testing.assert_allclose(list(totals.values()), 1.0)


def test_unet_benchmark_merge_gathers_one_fold_per_part(bench_unet, tmp_path):
    import json

    settings = {"params": {"random_state": 1}, "png_labels": "as-given", "dicom_repeat": 1, "balance": "group"}
    for k in (0, 1):
        part = tmp_path / f"f{k}"
        part.mkdir()
        (part / f"fold_{k}.pt").write_bytes(f"model {k}".encode())
        folds = [{"fold": j, "held_out": [f"p{j}"], **({"fit_s": 1.0} if j == k else {})} for j in (0, 1)]
        (part / "folds.json").write_text(json.dumps({**settings, "folds": folds}))
    merged = bench_unet.merge_folds([tmp_path / "f1", tmp_path / "f0"], tmp_path / "all")
    saved = json.loads((tmp_path / "all" / "folds.json").read_text())
    assert saved == merged and [fold["fold"] for fold in saved["folds"]] == [0, 1]
    assert {key: saved[key] for key in settings} == settings
    assert [(tmp_path / "all" / f"fold_{k}.pt").read_bytes() for k in (0, 1)] == [b"model 0", b"model 1"]
    with pytest.raises(ValueError, match="a fold is in several parts"):
        bench_unet.merge_folds([tmp_path / "f0", tmp_path / "f0"], tmp_path / "again")
    # Parts whose folds name the same model file: each still lands in its own fold_<k>.pt.
    for k in (0, 1):
        (tmp_path / f"f{k}" / "best.pt").write_bytes(f"best {k}".encode())
        record = json.loads((tmp_path / f"f{k}" / "folds.json").read_text())
        record["folds"] = [{**fold, "model": "best.pt"} for fold in record["folds"]]
        (tmp_path / f"f{k}" / "folds.json").write_text(json.dumps(record))
    merged = bench_unet.merge_folds([tmp_path / "f0", tmp_path / "f1"], tmp_path / "named")
    assert [(tmp_path / "named" / f"fold_{k}.pt").read_bytes() for k in (0, 1)] == [b"best 0", b"best 1"]
    assert not (tmp_path / "named" / "best.pt").exists() and all("model" not in fold for fold in merged["folds"])
    other = json.loads((tmp_path / "f1" / "folds.json").read_text())
    (tmp_path / "f1" / "folds.json").write_text(json.dumps({**other, "balance": "none"}))
    with pytest.raises(ValueError, match="expected the same settings in every part"):
        bench_unet.merge_folds([tmp_path / "f0", tmp_path / "f1"], tmp_path / "again")


def test_unet_benchmark_score_only_reads_hold_out_folds(bench_unet, tmp_path):
    """--score-only DIR on --hold-out's folds.json scores the held-out patients only; other folds must cover all."""
    import json
    import warnings

    from skcardio.exceptions import DegenerateModelWarning
    from skcardio.segment import UNetSegmenter

    rng = np.random.default_rng(0)
    masks = np.zeros((6, 32, 32), bool)
    masks[:, 10:20, 12:22] = True
    images = (100 * masks + rng.normal(0, 5, masks.shape)).astype(np.float32)
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    data = {"images": images, "y": masks, "groups": groups, "icontour": np.array([""] * 6),
            "spacing": np.ones(6), "pathology": np.array(["x"] * 6)}
    model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, batch_size=4, max_epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateModelWarning)  # one epoch: not a useful model, not the point
        model.fit(images[groups != "b"], masks[groups != "b"])
    model.save(tmp_path / "fold_0.pt")
    # As grouped_cv writes it for --hold-out b (the running jobs' format: no marker of the scheme).
    folds = [{"fold": 0, "held_out": ["b"], "test_index": [2, 3], "fit_s": 1.0}]
    (tmp_path / "folds.json").write_text(json.dumps({"params": {}, "folds": folds}))
    scored = bench_unet.score_only(data, tmp_path)
    dice = np.asarray(scored["dice"])
    assert np.isfinite(dice[groups == "b"]).all() and np.isnan(dice[groups != "b"]).all()
    part, scores = bench_unet.scored_part(data, scored)
    assert list(part["groups"]) == ["b", "b"] and len(part["images"]) == 2
    assert all(len(scores[m]) == 2 for m in bench_unet.PER_SLICE) and scores["folds"] == scored["folds"]
    # Folds that are not leave-one-patient-out must hold out every slice once (a stale folds.json).
    (tmp_path / "folds.json").write_text(json.dumps({"folds": [{"fold": 0, "held_out": ["a", "b"]}]}))
    with pytest.raises(ValueError, match="2 of 6 slices are in no fold's held_out patients"):
        bench_unet.score_only(data, tmp_path)
    # --fold K scores that fold alone (two trainings of one fold compared on its patients).
    only = bench_unet.score_only(data, tmp_path, only=0)
    assert np.isfinite(np.asarray(only["dice"])[groups != "c"]).all()
    assert np.isnan(np.asarray(only["dice"])[groups == "c"]).all()
    with pytest.raises(ValueError, match="no fold 1"):
        bench_unet.score_only(data, tmp_path, only=1)


@pytest.mark.shared_data
def test_training_data_png_labels_redrawn_only_for_png(shared_data_root, shared_png_root):
    """--png-labels polygon redraws the 204 PNG labels only, a few per cent smaller on average."""
    load_training_data = load_script("train_pretrained").load_training_data
    root = shared_data_root.parent
    given, polygon = load_training_data(root), load_training_data(root, "polygon")
    dicom = given["icontour"] != ""
    assert dicom.sum() == 96 and (~dicom).sum() == 204
    np.testing.assert_array_equal(given["y"][dicom], polygon["y"][dicom])
    np.testing.assert_array_equal(given["images"], polygon["images"])
    ratio = polygon["y"][~dicom].sum(axis=(1, 2)) / given["y"][~dicom].sum(axis=(1, 2))
    # 0.944 measured (smallest 0.6): small hearts lose a larger share of their area than the DICOMs (3.7 %).
    assert 0.93 < ratio.mean() < 0.98 and ratio.min() > 0.5
    with pytest.raises(ValueError, match="png_labels must be one of"):
        load_training_data(root, "floor")



def test_unet_benchmark_refuses_set_with_score_only(bench_unet, tmp_path, monkeypatch, capsys):
    """--score-only scores saved models with their own parameters: a --set beside it would be ignored, so refused."""
    monkeypatch.setattr("sys.argv", ["bench_unet.py", str(tmp_path), "--score-only", str(tmp_path),
                                     "--set", "max_epochs=160"])
    with pytest.raises(SystemExit) as exit_info:
        bench_unet.main()  # refused before any data is read
    assert exit_info.value.code == 2
    assert "--set changes the training; --score-only scores saved models with their own parameters" in (
        capsys.readouterr().err)


def test_unet_benchmark_score_only_averages_several_trainings_of_the_same_folds(bench_unet, tmp_path):
    """--score-only DIR1,DIR2: each fold predicted by the mean of the folders' fold models' probabilities."""
    import json
    import shutil
    import warnings

    from skcardio.exceptions import DegenerateModelWarning
    from skcardio.segment import UNetSegmenter

    rng = np.random.default_rng(0)
    masks = np.zeros((4, 32, 32), bool)
    masks[:, 10:20, 12:22] = True
    images = (100 * masks + rng.normal(0, 5, masks.shape)).astype(np.float32)
    groups = np.array(["a", "a", "b", "b"])
    data = {"images": images, "y": masks, "groups": groups, "icontour": np.array([""] * 4),
            "spacing": np.ones(4), "pathology": np.array(["x"] * 4)}
    folds = [{"fold": 0, "held_out": ["b"]}, {"fold": 1, "held_out": ["a"]}]
    members = {}
    for seed in (0, 1):
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        for fold in folds:
            model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, batch_size=4, max_epochs=3,
                                  random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateModelWarning)
                model.fit(images[groups != fold["held_out"][0]], masks[groups != fold["held_out"][0]])
            model.save(folder / f"fold_{fold['fold']}.pt")
            members[seed, fold["fold"]] = model
        (folder / "folds.json").write_text(json.dumps({"folds": folds}))
    both = bench_unet.score_only(data, [tmp_path / "seed0", tmp_path / "seed1"])
    test = groups == "b"
    proba = (members[0, 0].predict_proba(images[test]) + members[1, 0].predict_proba(images[test])) / 2
    kept = np.array([bench_unet.keep_main_component(p > 0.5, p) for p in proba])  # as predict post-processes
    expected = bench_unet.dice_score(masks[test], kept, per_slice=True)
    assert [member["models"] for member in both["members"]] == [str(tmp_path / "seed0"), str(tmp_path / "seed1")]
    np.testing.assert_allclose(np.asarray(both["dice"])[test], expected)
    single = bench_unet.score_only(data, tmp_path / "seed0")
    np.testing.assert_allclose(np.asarray(single["dice"])[test],
                               bench_unet.dice_score(masks[test], members[0, 0].predict(images[test]), per_slice=True))
    # Trainings of other folds cannot be averaged.
    shutil.copytree(tmp_path / "seed1", tmp_path / "other")
    (tmp_path / "other" / "folds.json").write_text(json.dumps({"folds": folds[::-1]}))
    with pytest.raises(ValueError, match="an ensemble needs the same folds"):
        bench_unet.score_only(data, [tmp_path / "seed0", tmp_path / "other"])


def _rimmed_slices(n=6, size=32):
    """Bright discs fading into a dark wall over 4 px; expert masks drawn at contrast 0.3, and masks a pixel wider."""
    from _ramp_discs import ramp_disc

    images, pools, wide = [], [], []
    for i in range(n):
        image, r = ramp_disc(0.3, size=size, radius=9, centre=(16, 15 + i % 3))
        images.append(image)
        pools.append(r <= 9)
        wide.append(r <= 10)
    return np.array(images, np.float32), np.array(pools), np.array(wide)


def ndi_erode(mask):
    from scipy import ndimage as ndi

    return ndi.binary_erosion(mask)


def test_unet_benchmark_score_only_trims_at_the_level_of_the_fold_training_labels(bench_unet, tmp_path, monkeypatch):
    """--trim-boundary: each fold's level from its training slices' labels (DICOM ones or all), then trimmed masks."""
    import json

    from skcardio.segment import calibrate_boundary_level

    images, pools, wide = _rimmed_slices()
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    # b, held out, has DICOM slices too: their contour files are read for the APD.
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    for i in (2, 3):  # (x, y) of slice i's pool outline
        points = [(15 + i % 3 + 9 * np.cos(t), 16 + 9 * np.sin(t)) for t in angles]
        (tmp_path / f"b{i}.txt").write_text("".join(f"{x:.2f} {y:.2f}\n" for x, y in points))
    icontour = np.array(["x.txt", "", str(tmp_path / "b2.txt"), str(tmp_path / "b3.txt"), "z.txt", ""])
    # The expert of the DICOM slices drew one pixel inside the pool: their level differs from the PNGs';
    # b's expert drew two pixels outside it, so a level that saw b's labels would differ again.
    from scipy import ndimage as ndi

    y = pools.copy()
    y[icontour != ""] = [ndi_erode(p) for p in pools[icontour != ""]]
    y[groups == "b"] = [ndi.binary_dilation(p, iterations=2) for p in pools[groups == "b"]]
    data = {"images": images, "y": y, "groups": groups, "icontour": icontour,
            "spacing": np.ones(6), "pathology": np.array(["x"] * 6)}

    class Stub:
        tta = refine = False
        postprocess = True

    monkeypatch.setattr(bench_unet.UNetSegmenter, "load", classmethod(lambda cls, path: Stub()))
    monkeypatch.setattr(bench_unet, "ensemble_predict", lambda models, x: (wide[groups == "b"], np.zeros(x.shape)))
    (tmp_path / "folds.json").write_text(json.dumps({"folds": [{"fold": 0, "held_out": ["b"]}]}))
    untrimmed = bench_unet.score_only(data, tmp_path)
    for source, train in (("dicom", (groups != "b") & (icontour != "")), ("all", groups != "b")):
        scored = bench_unet.score_only(data, tmp_path, trim_boundary=source)
        level = scored["folds"][0]["boundary_level"]
        assert level == calibrate_boundary_level(images[train], y[train])
        leaked = train | (groups == "b")
        assert level != calibrate_boundary_level(images[leaked], y[leaked])  # b's labels are left out
        assert scored["trim_boundary"] == source
        held = groups == "b"
        # Against b's wide labels the masks are too small already: trimming lowers the Dice.
        assert (np.asarray(scored["dice"])[held] < np.asarray(untrimmed["dice"])[held]).all()
    assert scored["folds"][0]["boundary_level"] != bench_unet.score_only(
        data, tmp_path, trim_boundary="dicom")["folds"][0]["boundary_level"]


def test_clinical_benchmark_calibrates_each_patient_without_its_fold(monkeypatch):
    """bench_clinical --trim-boundary: a patient's level comes from the other patients' labels only."""
    from skcardio.segment import calibrate_boundary_level

    module = load_script("bench_clinical")
    images, pools, _ = _rimmed_slices()
    y = pools.copy()
    y[:2] = [ndi_erode(p) for p in pools[:2]]  # patient A's expert draws tighter
    groups = np.array(["A", "A", "B", "B", "C", "C"])
    icontour = np.array(["a", "a", "b", "b", "", ""])
    monkeypatch.setattr(module, "load_training_data", lambda root, png_labels: {
        "images": images, "y": y, "groups": groups, "icontour": icontour})
    held_out = {"P1": ["A"], "P2": ["B"]}
    levels = module.trim_levels("dicom", ["P1", "P2"], held_out, module.DEFAULT_ROOT, "as-given")
    assert levels["P1"] == calibrate_boundary_level(images[2:4], y[2:4])
    assert levels["P2"] == calibrate_boundary_level(images[:2], y[:2])
    assert levels["P1"] != levels["P2"]
    every = module.trim_levels("all", ["P1"], held_out, module.DEFAULT_ROOT, "as-given")
    assert every["P1"] == calibrate_boundary_level(images[2:], y[2:])
    assert module.trim_levels(0.2, ["P1", "P2"], held_out, module.DEFAULT_ROOT, "as-given") == {"P1": 0.2, "P2": 0.2}
    assert module.trim_levels(None, ["P1"], held_out, module.DEFAULT_ROOT, "as-given") == {}
    # A patient of no fold is not segmented (no level); the shipped model's level sees every patient.
    assert set(module.trim_levels("dicom", ["P1", "P3"], held_out, module.DEFAULT_ROOT, "as-given")) == {"P1"}
    shipped = module.trim_levels("dicom", ["P3"], None, module.DEFAULT_ROOT, "as-given")
    assert shipped["P3"] == calibrate_boundary_level(images[:4], y[:4])
    # Held-out names that match no training patient (another spelling) would leak: refused.
    with pytest.raises(ValueError, match=r"P1: its fold holds out \['SC-A'\], which name none"):
        module.trim_levels("dicom", ["P1"], {"P1": ["SC-A"]}, module.DEFAULT_ROOT, "as-given")
    # ...also when a fold-mate's name matches and only the patient's own is spelled otherwise.
    with pytest.raises(ValueError, match=r"P1: its fold holds out \['SC-A'\], which name none"):
        module.trim_levels("dicom", ["P1"], {"P1": ["SC-A", "B"]}, module.DEFAULT_ROOT, "as-given")


def test_clinical_benchmark_trim_boundary_is_a_source_or_a_level_from_0_to_1(monkeypatch, capsys):
    """bench_clinical --trim-boundary: dicom, all, or a level checked as the other benchmarks' (unit_interval)."""
    import sys

    module = load_script("bench_clinical")
    choices = [module.trim_boundary_choice(text) for text in ("dicom", "all", "0", "0.145", "1")]
    assert choices == ["dicom", "all", 0, 0.145, 1]
    for level in ("1.5", "-0.1", "nan", "inf", "wide"):
        monkeypatch.setattr(sys, "argv", ["bench_clinical.py", "--pretrained", "--trim-boundary", level])
        with pytest.raises(SystemExit) as exit_info:
            module.main()  # refused while parsing: nothing is read or loaded
        assert exit_info.value.code == 2
        expected = f"expected dicom or all, or a level between 0 and 1 (inclusive), got {level}"
        assert f"argument --trim-boundary: {expected}" in capsys.readouterr().err


def test_clinical_benchmark_maps_held_out_ids_to_dicom_patients(tmp_path):
    """read_folds: folds.json's original ids (link.csv) -> the DICOM patient ids, with each fold's held-out list."""
    import json

    module = load_script("bench_clinical")
    (tmp_path / "link.csv").write_text("patient_id,original_id\nSCD1,SC-A-1\nSCD2,SC-A-2\n")
    folds = [{"fold": 0, "held_out": ["SC-A-1", "SC-B-9"]}, {"fold": 1, "held_out": ["SC-A-2"]}]
    (tmp_path / "folds.json").write_text(json.dumps({"png_labels": "polygon", "folds": folds}))
    models, held_out, png_labels = module.read_folds(tmp_path, tmp_path)
    assert models == {"SCD1": tmp_path / "fold_0.pt", "SC-B-9": tmp_path / "fold_0.pt", "SCD2": tmp_path / "fold_1.pt"}
    assert held_out["SCD1"] == ["SC-A-1", "SC-B-9"] and held_out["SCD2"] == ["SC-A-2"]
    assert png_labels == "polygon"


def test_clinical_benchmark_trims_each_study_at_its_level(tmp_path, make_dicom, monkeypatch):
    """bench_clinical --trim-boundary LEVEL: every mask of the held-out study trimmed; the rows say at which level."""
    import json
    import sys

    from scipy import ndimage as ndi

    from _cine_studies import write_study

    from skcardio.segment import UNetSegmenter

    module = load_script("bench_clinical")
    root = tmp_path / "data"
    write_study(make_dicom, root / "dicoms" / "P1", n_phases=4, n_slices=3, shape=(48, 48))
    (root / "link.csv").write_text("patient_id,original_id\nP1,O1\n")
    folder = root / "contourfiles" / "O1" / "i-contours"
    folder.mkdir(parents=True)
    for s in range(3):  # the expert's squares on phases 0 and 2
        for p, half in ((0, 6), (2, 4)):
            points = [(24 - half, 24 - half), (24 + half, 24 - half), (24 + half, 24 + half), (24 - half, 24 + half)]
            (folder / f"IM-0001-{s * 4 + p + 1:04d}-icontour-manual.txt").write_text(
                "".join(f"{x} {y}\n" for x, y in points))
    cv = tmp_path / "cv"
    cv.mkdir()
    (cv / "fold_0.pt").write_bytes(b"stub")
    (cv / "folds.json").write_text(json.dumps({"folds": [{"fold": 0, "held_out": ["O1"]}]}))

    class Wide:
        tta = refine = False
        threshold = 0.5

        def predict(self, images):
            return np.array([ndi.binary_dilation(image > 500) for image in images])

    monkeypatch.setattr(UNetSegmenter, "load", classmethod(lambda cls, path, device="cpu": Wide()))
    rows = {}
    for flags in ([], ["--trim-boundary", "0.5"]):
        out = tmp_path / f"rows{len(rows)}.json"
        argv = ["bench_clinical.py", str(root), "--cv-dir", str(cv), "--threads", "1", "--out", str(out), *flags]
        monkeypatch.setattr(sys, "argv", argv)
        module.main()
        (rows[len(flags)],) = json.loads(out.read_text())
    assert rows[0]["boundary_level"] is None and rows[2]["boundary_level"] == 0.5
    # The stand-in's masks reach one pixel into the wall; trimmed, they are the bright pools again.
    from _cine_studies import expected_volumes

    truth = expected_volumes(4, 3, shape=(48, 48))
    assert rows[0]["edv_ml"] > truth.max() + 0.1
    assert rows[2]["edv_ml"] == pytest.approx(truth.max(), abs=1e-6)
    assert rows[2]["model_on_expert_edv_ml"] < rows[0]["model_on_expert_edv_ml"]


def test_area_bias_ratios_per_group_and_for_the_small_pools():
    bench = load_script("bench_area_bias")
    labels = np.zeros((4, 10, 10), bool)
    labels[0, :2, :5] = True  # 10 px
    labels[1, :4, :5] = True  # 20 px
    labels[2, :3, :10] = True  # 30 px
    labels[3, :4, :10] = True  # 40 px
    pred = labels.copy()
    pred[0, 2, :5] = True  # the small pool of group A drawn 5 px too large
    pred[3, 3] = False  # group B's large pool 10 px too small
    ratios = bench.area_ratios(pred, labels, np.array(["A", "A", "B", "B"]))
    assert ratios["A"] == {"all": 35 / 30, "small": 15 / 10, "large": 1.0}
    assert ratios["B"] == {"all": 60 / 70, "small": 1.0, "large": 30 / 40}
    assert ratios["all"] == {"all": 95 / 100, "small": 35 / 30, "large": 60 / 70}
    with pytest.raises(ValueError, match="expected masks"):
        bench.area_ratios(pred[:3], labels, np.array(["A", "A", "B", "B"]))


def test_train_pretrained_epochs_reach_the_fit(monkeypatch, tmp_path):
    """--epochs N trains with max_epochs=N; without it, the estimator's default."""
    script = load_script("train_pretrained")
    from skcardio.segment import UNetSegmenter

    class Fitted(Exception):
        pass

    def fit(self, X, y, groups=None):
        raise Fitted(self.max_epochs)

    tiny = {"images": np.zeros((2, 8, 8), np.float32), "y": np.zeros((2, 8, 8), bool), "groups": np.array(["a", "b"]),
            "pathology": np.array(["N", "N"]), "files": []}
    monkeypatch.setattr(script, "load_training_data", lambda root, png_labels: tiny)
    monkeypatch.setattr(UNetSegmenter, "fit", fit)
    import torch

    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # the test process keeps its threads
    for argv, expected in ((["--epochs", "160"], 160), ([], UNetSegmenter().max_epochs)):
        with pytest.raises(Fitted) as fitted:
            script.main([str(tmp_path), "--threads", "1", "--out", str(tmp_path / "m.pt"), *argv])
        assert fitted.value.args == (expected,)


def test_train_pretrained_fold_paths_are_the_grouped_cv_layout(tmp_path):
    """fold_model_path, folds_path, load_folds: the one layout the CV benchmarks write and read."""
    import json

    script = load_script("train_pretrained")
    assert script.fold_model_path(tmp_path, 3) == tmp_path / "fold_3.pt"
    assert script.fold_model_path(tmp_path, {"fold": 1, "held_out": ["A"]}) == tmp_path / "fold_1.pt"
    assert script.fold_model_path(tmp_path, {"fold": 1, "model": "other.pt"}) == tmp_path / "other.pt"
    assert script.folds_path(tmp_path) == tmp_path / "folds.json"
    record = {"png_labels": "as-given", "folds": [{"fold": 0, "held_out": ["A"]}]}
    script.folds_path(tmp_path).write_text(json.dumps(record))
    assert script.load_folds(tmp_path) == record
    assert script.fold_model_path(tmp_path, np.int64(2)) == tmp_path / "fold_2.pt"
    with pytest.raises(ValueError, match="a fold entry without 'fold' or 'model'"):
        script.fold_model_path(tmp_path, {"held_out": ["A"]})


def test_unet_groupnorm_benchmark_swaps_every_batch_norm_and_keeps_the_weight_count(monkeypatch):
    from torch import nn

    from skcardio.segment import _unet_net

    script = load_script("bench_unet_groupnorm")
    monkeypatch.setattr(_unet_net, "_conv_block", _unet_net._conv_block)  # undone after the test
    script.use_group_norm()
    net = _unet_net.UNet(base_channels=16, depth=4)
    kinds = {type(m) for m in net.modules()}
    assert nn.GroupNorm in kinds and nn.BatchNorm2d not in kinds
    norms = [m for m in net.modules() if isinstance(m, nn.GroupNorm)]
    assert [m.num_groups for m in norms[:2]] == [8, 8] and len(norms) == 2 * (4 + 3)
    assert sum(p.numel() for p in net.parameters()) == _unet_net.n_parameters(1, 16, 4)


def test_unet_benchmark_set_reads_numbers_tuples_booleans_and_plain_strings(bench_unet):
    params = bench_unet.parse_set(["max_epochs=3", "zoom_range=1,1", "flip=False", "precision=bfloat16", "loss=\"dice\""])
    assert params == {"max_epochs": 3, "zoom_range": (1.0, 1.0), "flip": False, "precision": "bfloat16", "loss": "dice"}


def test_clinical_benchmark_smoothed_ef_keeps_a_smooth_curve_and_removes_a_spike():
    """--curve-harmonics: a curve of one harmonic keeps its EF; a one-phase dip is mostly smoothed away."""
    module = load_script("bench_clinical")
    phases = np.arange(20)
    curve = 150 + 50 * np.cos(2 * np.pi * phases / 20)  # EDV 200, ESV 100: EF 50 %
    row = module.smoothed_ef(curve, 3, 45.0)
    assert row["ef_pct_harmonics_3"] == pytest.approx(50.0)
    assert row["auto_ef_diff_points_harmonics_3"] == pytest.approx(5.0)
    spiked = np.full(20, 200.0)
    spiked[7] = 100.0  # one phase's segmentation lost half the pool: EF 50 % raw
    assert module.smoothed_ef(spiked, 3, 0.0)["ef_pct_harmonics_3"] < 25
    gap = curve.copy()
    gap[3] = np.nan
    assert np.isnan(module.smoothed_ef(gap, 3, 45.0)["ef_pct_harmonics_3"])
