"""StatelessMixin: estimators that learn nothing and work without ``fit``."""

from __future__ import annotations

__all__ = ["StatelessMixin"]


class StatelessMixin:
    """For estimators that learn nothing: usable without ``fit``, like scikit-image functions.

    Mirrors scikit-learn's stateless transformers (``FunctionTransformer``):
    the ``requires_fit`` tag is False and ``check_is_fitted`` passes, so an
    unfitted pipeline of stateless steps can transform or predict.
    """

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
