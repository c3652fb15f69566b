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


def _reference_batches(n, batch_size, n_epochs, seed, shuffle=True, drop_last=False):
    """Index batches as BatchIterator defines them: one permutation of the seed's generator per epoch, cut in order."""
    rng = np.random.RandomState(seed)
    stop = n - n % batch_size if drop_last else n
    batches = []
    for _ in range(n_epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        batches += [order[i : i + batch_size] for i in range(0, stop, batch_size)]
    return batches


@pytest.mark.parametrize(
    "n, batch_size, shuffle, drop_last",
    [(10, 3, True, False), (10, 3, True, True), (12, 4, True, False), (7, 7, True, True), (5, 1, False, False), (9, 20, True, False)],
)
def test_batches_are_the_seeds_permutations_cut_in_order(n, batch_size, shuffle, drop_last):
    X = np.arange(n) * 10
    it = BatchIterator(X, X + 1, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, random_state=3)
    expected = _reference_batches(n, batch_size, 3, 3, shuffle, drop_last)
    got = [it.next_batch() for _ in range(len(expected))]
    assert it.epoch == 3
    assert all(np.array_equal(xb, X[e]) and np.array_equal(yb, X[e] + 1) for (xb, yb), e in zip(got, expected))
    # for loops and next_batch share one position: half an epoch, then the rest of it in a loop.
    it = BatchIterator(X, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, random_state=3)
    first = [it.next_batch() for _ in range(len(it) // 2)]
    rest = list(it)
    assert it.epoch == 1 and len(first) + len(rest) == len(it)
    assert all(np.array_equal(b, X[e]) for b, e in zip(first + rest, expected))


def test_same_seed_same_batches_as_before():
    """The batches of seed 0, as the list of batches gave them before it became an index into the order."""
    batches = [b.tolist() for b in iter_batches(np.arange(7), batch_size=3, n_epochs=2, random_state=0)]
    assert batches == [[6, 2, 1], [3, 0, 5], [4], [1, 0, 6], [3, 4, 2], [5]]


def test_next_batch_takes_the_same_time_whatever_the_number_of_samples():
    """A batch is a slice of the epoch's order: its cost does not grow with the samples left in the epoch.

    list.pop(0) on the epoch's batches moved all the others: 2,000 batches
    of 4 took hundreds of times longer from 1 M samples than from 10,000.
    """
    import time

    def seconds_per_batch(n):
        best = np.inf
        for _ in range(3):  # the best of three: another process may take the CPU for a while
            it = BatchIterator(np.arange(n), batch_size=4, random_state=0)
            it.next_batch()  # the epoch's order is drawn here, outside the measure
            start = time.perf_counter()
            for _ in range(2000):
                it.next_batch()
            best = min(best, time.perf_counter() - start)
        return best

    small, large = seconds_per_batch(10_000), seconds_per_batch(1_000_000)
    assert large < 5 * small, large / small
