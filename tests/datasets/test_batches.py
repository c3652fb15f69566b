import numpy as np
import pytest

from skcardio.datasets import BatchIterator, iter_batches


def test_each_epoch_visits_every_sample_once():
    X = np.arange(10)
    batches = list(iter_batches(X, X * 2, batch_size=3, n_epochs=2, random_state=0))
    assert [len(xb) for xb, _ in batches] == [3, 3, 3, 1] * 2
    first = np.concatenate([xb for xb, _ in batches[:4]])
    second = np.concatenate([xb for xb, _ in batches[4:]])
    assert sorted(first) == sorted(second) == list(range(10))
    assert not np.array_equal(first, second)  # reshuffled between epochs
    assert all(np.array_equal(yb, xb * 2) for xb, yb in batches)


def test_same_seed_same_batches():
    X = np.random.default_rng(0).normal(size=(12, 4, 4))
    y = X > 0
    a = [xb for xb, _ in iter_batches(X, y, batch_size=5, n_epochs=3, random_state=7)]
    b = [xb for xb, _ in iter_batches(X, y, batch_size=5, n_epochs=3, random_state=7)]
    c = [xb for xb, _ in iter_batches(X, y, batch_size=5, n_epochs=3, random_state=8)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_next_batch_crosses_epochs():
    it = BatchIterator(np.arange(4), batch_size=3, shuffle=False)
    assert it.next_batch().tolist() == [0, 1, 2]
    assert it.epoch == 0
    assert it.next_batch().tolist() == [3]
    assert it.epoch == 1
    assert it.next_batch().tolist() == [0, 1, 2]


def test_drop_last():
    sizes = [len(b) for b in iter_batches(np.arange(7), batch_size=3, n_epochs=2, drop_last=True, random_state=0)]
    assert sizes == [3, 3, 3, 3]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": np.arange(3), "y": np.arange(4)}, "same length"),
        ({"X": np.arange(3), "batch_size": 0}, "positive integer"),
        ({"X": np.arange(0)}, "empty"),
        ({"X": np.arange(3), "batch_size": 5, "drop_last": True}, "yields nothing"),
        ({"X": np.arange(3), "batch_size": True}, "positive integer, got True"),  # was batches of 1
        ({"X": 5.0}, "X must be an array of samples .*got a scalar"),  # was len() TypeError
        ({"X": np.arange(3), "y": 1}, "y must be an array of samples .*got a scalar"),
        ({"X": np.arange(3), "shuffle": "no"}, "shuffle must be True or False, got 'no'"),  # was shuffled
        ({"X": np.arange(3), "drop_last": "no"}, "drop_last must be True or False, got 'no'"),
    ],
)
def test_bad_arguments(kwargs, match):
    X = kwargs.pop("X")
    y = kwargs.pop("y", None)
    with pytest.raises(ValueError, match=match):
        BatchIterator(X, y, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"batch_size": 0}, "positive integer"),
        ({"n_epochs": -1}, "n_epochs"),
        ({"n_epochs": 1.5}, "n_epochs"),
    ],
)
def test_iter_batches_validates_when_called(kwargs, match):
    # Not only once the first batch is asked for.
    with pytest.raises(ValueError, match=match):
        iter_batches(np.arange(3), **kwargs)


@pytest.mark.parametrize("n_epochs", [-1, 1.5, None])
def test_epochs_validates_when_called(n_epochs):
    with pytest.raises(ValueError, match="n_epochs must be a non-negative integer"):
        BatchIterator(np.arange(3)).epochs(n_epochs)


@pytest.mark.parametrize("drop_last, sizes", [(False, [3, 3, 1]), (True, [3, 3])])
def test_len_is_batches_per_epoch_and_a_loop_runs_one_epoch(drop_last, sizes):
    # len() and iter() raised TypeError, unlike a PyTorch DataLoader.
    batches = BatchIterator(np.arange(7), np.arange(7), batch_size=3, drop_last=drop_last, random_state=0)
    assert len(batches) == len(sizes)
    assert [len(xb) for xb, _ in batches] == sizes and batches.epoch == 1
    assert [len(xb) for xb, _ in batches] == sizes and batches.epoch == 2
