"""Shuffled mini-batches over epochs (the original analysis's ``next_batch``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.utils import check_random_state

from .._numbers import check_bool, is_int, is_nonnegative_int

__all__ = ["BatchIterator", "iter_batches"]


class BatchIterator:
    """Endless, reproducible shuffled batches of ``(X, y)``.

    Each epoch visits every sample once in a new random order; ``next_batch``
    crosses epoch boundaries, like the original analysis's ``next_batch``.
    Batches never mix two epochs: the last batch of an epoch may be smaller
    unless ``drop_last=True``. As a PyTorch ``DataLoader``, ``len()`` is the
    number of batches in an epoch and a ``for`` loop runs to the end of the
    current epoch (a whole epoch on a fresh iterator).

    Parameters
    ----------
    X : array-like of shape (n, ...)
        Samples (e.g. images ``(n, H, W)``).
    y : array-like of shape (n, ...), default=None
        Targets (e.g. masks); ``None`` yields ``X`` batches only.
    batch_size : int, default=8
        Samples per batch.
    shuffle : bool, default=True
        Visit the samples of each epoch in a new random order (else in order).
    drop_last : bool, default=False
        Drop the last, smaller batch of each epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling: the same seed gives the same batches.

    Attributes
    ----------
    epoch : int
        Number of the epoch the next batch comes from (starting at 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.datasets import BatchIterator
    >>> X, y = np.arange(5), np.arange(5) * 10
    >>> batches = BatchIterator(X, y, batch_size=2, random_state=0)
    >>> xb, yb = batches.next_batch()
    >>> bool((yb == xb * 10).all()), len(xb)
    (True, 2)
    >>> len(batches), [len(xb) for xb, yb in BatchIterator(X, y, batch_size=2)]  # an epoch: 3 batches
    (3, [2, 2, 1])
    >>> [len(xb) for xb, yb in batches]  # a loop ends the current epoch (one batch was taken)
    [2, 1]
    """

    def __init__(self, X, y=None, *, batch_size=8, shuffle=True, drop_last=False, random_state=None):
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        for name, array in (("X", self.X), ("y", self.y)):
            if array is not None and array.ndim == 0:
                raise ValueError(f"{name} must be an array of samples (n, ...), got a scalar {array!r}")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"X and y must have the same length, got {len(self.X)} and {len(self.y)}")
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        # Truthiness is not enough: shuffle="no" would shuffle.
        check_bool("shuffle", shuffle)
        check_bool("drop_last", drop_last)
        if len(self.X) == 0:
            raise ValueError("X is empty: there is nothing to batch")
        if drop_last and batch_size > len(self.X):
            raise ValueError(f"drop_last=True with batch_size={batch_size} > {len(self.X)} samples yields nothing")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = check_random_state(random_state)
        self.epoch = 0
        # The current epoch's order and where its next batch starts: a list of
        # batches emptied with pop(0) moved the rest at every batch (quadratic
        # in the samples: 0.93 s an epoch of 1 M samples).
        self._order = np.arange(0)
        self._start = 0

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.X)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator:
        """The batches left in the current epoch (``epochs(1)``)."""
        return self.epochs(1)

    def _new_epoch(self) -> None:
        n = len(self.X)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        self._order, self._start = order[:stop], 0

    def next_batch(self):
        """Return the next batch, starting a new epoch when the current one is done.

        Returns
        -------
        tuple of (ndarray, ndarray) or ndarray
            ``(X_batch, y_batch)``, or ``X_batch`` if ``y`` is None.
        """
        if self._start >= len(self._order):
            self._new_epoch()
        index = self._order[self._start : self._start + self.batch_size]
        self._start += self.batch_size
        if self._start >= len(self._order):
            self.epoch += 1
        if self.y is None:
            return self.X[index]
        return self.X[index], self.y[index]

    def epochs(self, n_epochs: int) -> Iterator:
        """Iterate over every batch of the next ``n_epochs`` epochs.

        Parameters
        ----------
        n_epochs : int
            Number of epochs (>= 0).

        Returns
        -------
        iterator
            Of what :meth:`next_batch` returns.
        """
        # Validate now, not when the first batch is asked for.
        if not is_nonnegative_int(n_epochs):
            raise ValueError(f"n_epochs must be a non-negative integer, got {n_epochs!r}")
        return self._epochs(int(n_epochs))

    def _epochs(self, n_epochs: int) -> Iterator:
        stop = self.epoch + n_epochs
        while self.epoch < stop:
            yield self.next_batch()


def iter_batches(X, y=None, *, batch_size=8, n_epochs=1, shuffle=True, drop_last=False, random_state=None) -> Iterator:
    """Iterate over shuffled ``(X_batch, y_batch)`` batches for ``n_epochs`` epochs.

    Parameters
    ----------
    X : array-like of shape (n, ...)
        Samples (e.g. images ``(n, H, W)``).
    y : array-like of shape (n, ...), default=None
        Targets (e.g. masks); ``None`` yields ``X`` batches only.
    batch_size : int, default=8
        Samples per batch.
    n_epochs : int, default=1
        Number of epochs (>= 0).
    shuffle : bool, default=True
        Visit the samples of each epoch in a new random order (else in order).
    drop_last : bool, default=False
        Drop the last, smaller batch of each epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling: the same seed gives the same batches.

    Returns
    -------
    iterator
        Of ``(X_batch, y_batch)`` tuples of ndarrays, or of ``X_batch`` when
        ``y`` is None (a plain function returning a generator, so that bad
        arguments raise at the call).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.datasets import iter_batches
    >>> sizes = [len(xb) for xb, yb in iter_batches(np.zeros((5, 2, 2)), np.zeros(5), batch_size=2, n_epochs=2, random_state=0)]
    >>> sizes
    [2, 2, 1, 2, 2, 1]
    """
    # A plain function returning the generator, so that bad arguments raise here.
    return BatchIterator(
        X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, random_state=random_state
    ).epochs(n_epochs)
