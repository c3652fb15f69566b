"""The small Sunnybrook sample shipped inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sklearn.utils import Bunch

from ._dataset import load_dataset

__all__ = ["get_sample_path", "load_sample"]


def get_sample_path() -> Path:
    """Folder of the embedded sample (``link.csv`` layout).

    Returns
    -------
    pathlib.Path
        The folder holding ``link.csv``, ``dicoms/`` and ``contourfiles/``.

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> (get_sample_path() / "link.csv").is_file()
    True
    """
    return Path(str(resources.files("skcardio.datasets") / "data" / "sunnybrook_sample"))


def load_sample(*, target: str = "i-contour", require: str | None = None, as_frame: bool = False) -> Bunch:
    """Load the embedded sample: 15 contoured slices of 3 patients.

    Real, unmodified slices of the Sunnybrook Cardiac Data (CC0): 12 with
    both contours, 3 with the i-contour only. Radau et al., "Evaluation
    Framework for Algorithms Segmenting Short Axis Cardiac MRI", The MIDAS
    Journal, 2009.

    Parameters
    ----------
    target : {"i-contour", "o-contour"}, default="i-contour"
        Contour that becomes ``y``, as in :func:`load_dataset`.
    require : {None, "i-contour", "o-contour"}, default=None
        Keep only slices that also have this contour, as in
        :func:`load_dataset`.
    as_frame : bool, default=False
        If True, ``frame`` is a pandas DataFrame, as in :func:`load_dataset`.

    Returns
    -------
    Bunch
        As returned by :func:`load_dataset`.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> data = load_sample()
    >>> data.images.shape, sorted(set(data.groups))
    ((15, 256, 256), ['SCD0000101', 'SCD0000201', 'SCD0000301'])
    >>> load_sample(require="o-contour").images.shape[0]
    12
    """
    return load_dataset(get_sample_path(), target=target, require=require, as_frame=as_frame)
