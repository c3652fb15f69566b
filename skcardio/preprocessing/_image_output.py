"""ImageOutputMixin: ``set_output`` for transformers whose output is an image stack, never a table."""

from __future__ import annotations

__all__ = ["ImageOutputMixin"]

#: The ``transform`` values of scikit-learn's ``set_output`` that ask for a table.
_TABLES = ("pandas", "polars")


class ImageOutputMixin:
    """``set_output`` that keeps NumPy output, so that ``Pipeline.set_output`` works.

    scikit-learn's ``Pipeline.set_output`` (and ``ColumnTransformer``'s) calls
    ``set_output`` on every step that transforms, and refuses a step without
    it ("set_output is not available"). scikit-learn's own
    ``TransformerMixin`` offers it only with ``get_feature_names_out``, for
    tables; skcardio's transformers return image stacks ``(n, H, W)`` or
    ``(n, 2, H, W)``, which have no columns. This ``set_output`` accepts
    ``"default"`` and ``None`` and refuses the table containers.
    """

    def set_output(self, *, transform=None):
        """Set the output container of ``transform``: NumPy arrays, the only one for images.

        Parameters
        ----------
        transform : {"default", None}, default=None
            ``"default"`` (NumPy arrays, what ``transform`` returns) or
            ``None`` (unchanged): both leave the transformer as it is.
            ``"pandas"`` and ``"polars"`` raise ``ValueError``: an image
            stack is not a table.

        Returns
        -------
        self : estimator instance
            This transformer, unchanged.

        Raises
        ------
        ValueError
            If ``transform`` is ``"pandas"``, ``"polars"`` or any other value.
        """
        name = type(self).__name__
        if transform is None or (isinstance(transform, str) and transform == "default"):
            return self
        if isinstance(transform, str) and transform in _TABLES:
            raise ValueError(
                f"{name}.set_output(transform={transform!r}): {name} returns image stacks (n, H, W) "
                "or (n, 2, H, W) as NumPy arrays, which are not tables; use transform='default' or None"
            )
        raise ValueError(
            f"{name}.set_output: transform must be 'default', 'pandas', 'polars' or None, got {transform!r}"
        )
