"""Internal helpers shared by the subpackages (no public API).

``skcardio.utils._validation`` holds the one set of input checks for images,
masks and slice records.
"""

__all__: list[str] = []
