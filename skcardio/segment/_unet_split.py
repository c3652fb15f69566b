"""The validation hold-out of :meth:`UNetSegmenter.fit`: whole patients where groups are known."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

from ..exceptions import SkcardioWarning

__all__ = ["validation_split"]


def validation_split(fraction: float | None, n: int, groups, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and validation indices; validation holds out whole groups.

    ``groups`` has already been checked by ``check_groups``.
    """
    everything = np.arange(n)
    if fraction is None:
        return everything, None
    if n < 2:
        warnings.warn(
            "fit() got a single slice: nothing can be held out for validation, so "
            "training uses it and keeps the last epoch.",
            SkcardioWarning,
            stacklevel=4,
        )
        return everything, None
    seed = rng.randint(np.iinfo(np.int32).max)
    if groups is None:
        warnings.warn(
            "fit() got no groups: validation slices are drawn at random and may "
            "come from the training patients, so early stopping is optimistic. "
            "Pass groups=<patient ids> (with metadata routing in GridSearchCV).",
            SkcardioWarning,
            stacklevel=4,
        )
        splitter = ShuffleSplit(1, test_size=fraction, random_state=seed)
    else:
        if len(np.unique(groups)) < 2:
            warnings.warn(
                "fit() got a single group: nothing can be held out for validation "
                "without mixing patients, so training uses all slices and keeps "
                "the last epoch.",
                SkcardioWarning,
                stacklevel=4,
            )
            return everything, None
        splitter = GroupShuffleSplit(1, test_size=fraction, random_state=seed)
    train, valid = next(splitter.split(everything, groups=groups))
    return train, valid
