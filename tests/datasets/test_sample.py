import numpy as np

from skcardio.datasets import get_sample_path, load_sample


def test_sample_is_small_and_attributed():
    root = get_sample_path()
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    assert size < 5 * 1024 * 1024
    readme = (root / "README.md").read_text()
    assert "CC0" in readme and "Radau" in readme


def test_load_sample():
    data = load_sample()
    assert data.images.shape == (15, 256, 256)
    assert sorted(set(data.groups)) == ["SCD0000101", "SCD0000201", "SCD0000301"]
    assert int(data.has_region.sum()) == 12
    assert "Radau" in data.DESCR
    both = load_sample(require="o-contour")
    assert both.images.shape[0] == 12
    # Blood pool lies (almost) inside the epicardium on the sample.
    inside = (both.y & both.regions).sum() / both.y.sum()
    assert inside > 0.99


def test_sample_matches_shared_data(shared_data_root):
    from skcardio.datasets import load_dataset

    sample = load_sample()
    full = load_dataset(shared_data_root)
    index = {(p, i): k for k, (p, i) in enumerate(zip(full.frame.patient_id, full.frame.instance))}
    for k, (p, i) in enumerate(zip(sample.frame.patient_id, sample.frame.instance)):
        np.testing.assert_array_equal(sample.images[k], full.images[index[(p, i)]])
        np.testing.assert_array_equal(sample.y[k], full.y[index[(p, i)]])
