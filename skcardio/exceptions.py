"""Exceptions and warnings raised by skcardio.

Every error subclasses :class:`ValueError` so that generic ``except ValueError``
handlers (and scikit-learn's own input checks) keep working.
"""

__all__ = [
    "SkcardioError",
    "DicomReadError",
    "ContourReadError",
    "DatasetError",
    "ExportError",
    "StudyError",
    "SkcardioWarning",
    "DegenerateModelWarning",
    "DeviceWarning",
]


class SkcardioError(ValueError):
    """Base class of every error raised by skcardio."""


class DicomReadError(SkcardioError):
    """A DICOM file could not be read as an image.

    Raised for non-DICOM files, truncated files, files without pixel data and
    compressed transfer syntaxes that no installed decoder handles. The message
    names the file and the cause.
    """


class ContourReadError(SkcardioError):
    """A contour file is malformed; the message names the file and the line."""


class DatasetError(SkcardioError):
    """A dataset folder does not follow the expected layout."""


class ExportError(SkcardioError):
    """Masks cannot be written in a standard format as asked.

    Raised, for example, for a DICOM SEG of slices from several series, or a
    NIfTI volume of slices that do not lie on one regular grid. The message
    names the files and the values concerned.
    """


class SkcardioWarning(UserWarning):
    """Warnings about data quality (skipped files, misaligned contours, ...)."""


class DegenerateModelWarning(SkcardioWarning):
    """A trained model predicts (almost) nothing or (almost) everything on its own training images.

    Raised by ``UNetSegmenter.fit`` when, on (up to 32 of) its training
    slices, the network finds no blood pool in most slices that have one, or
    marks more than half of the image: such a model is useless, typically
    after too short a training.

    Attributes
    ----------
    problem : str
        What is useless about the model, e.g. ``"finds no blood pool in 8
        of the 8 slices that have one"``.
    max_epochs : int
        The fit's ``max_epochs``, which the message advises to raise
        (``skcardio train`` and ``evaluate`` name their option ``--epochs``
        instead).
    """

    problem: str = ""
    max_epochs: int | None = None


class DeviceWarning(SkcardioWarning):
    """A model is put on another device than the one its ``device`` parameter names.

    Raised by ``UNetSegmenter.load`` and ``UNetSegmenter.pretrained`` for a
    model file saved with ``device="cuda"`` on a machine without CUDA: the
    network is loaded on the CPU (``device_ == "cpu"``) and predicts there,
    while the ``device`` parameter stays ``"cuda"``.
    """


class StudyError(SkcardioError):
    """DICOM files cannot be grouped into one cine study.

    Missing phases, duplicate images, mixed sizes, several patients...; the
    message names the files concerned.
    """
