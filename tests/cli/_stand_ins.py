"""Stand-in segmenters shared by the ``skcardio report`` tests: what they find is known, and no model is trained."""


class PoolsOfEighty:
    """A stand-in segmenter: the phantom's bright disc where it covers at least 80 pixels, else nothing.

    The apical slice's small discs are never found, so the selection leaves
    that slice out: the series files must hold it empty.
    """

    def predict(self, images):
        import numpy as np

        masks = np.asarray(images) > 500
        masks[masks.sum(axis=(1, 2)) < 80] = False
        return masks

    def predict_with_proba(self, images):  # as predict asks it
        masks = self.predict(images)
        return masks, masks.astype("float32")
