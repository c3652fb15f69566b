"""mean_known_dice: the score of target="both" models."""

import numpy as np
import pytest

from skcardio.segment._unet_targets import mean_known_dice


def test_mean_known_dice_checks_weights_as_every_score():
    # target="both" scored with np.average on unchecked weights: -1 gave a negative mean, [0, 0] ZeroDivisionError.
    labels = np.zeros((2, 2, 4, 4), np.int8)
    labels[:, :, 1:3, 1:3] = 1
    pred = labels > 0
    pred[1] = False
    assert mean_known_dice(labels, pred, [1.0, 3.0]) == pytest.approx(0.25)
    for weights, message in (([-1, 2], "finite and >= 0"), ([0, 0], "not be all zero"), ([1], r"shape \(2,\)")):
        with pytest.raises(ValueError, match=message):
            mean_known_dice(labels, pred, weights)
