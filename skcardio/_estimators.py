"""The fitted estimator that predicts, inside the wrappers scikit-learn puts around it."""

from __future__ import annotations

from sklearn.frozen import FrozenEstimator

__all__ = ["predicting_estimator"]


def predicting_estimator(estimator):
    """A search's ``best_estimator_``, a ``FrozenEstimator``'s ``estimator``, unwrapped until neither.

    Pipelines are left to the caller: the scorers transform through their
    leading steps, ``PredictedRegion`` only looks at their final step.
    """
    while True:
        if hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif isinstance(estimator, FrozenEstimator):
            estimator = estimator.estimator
        else:
            return estimator
