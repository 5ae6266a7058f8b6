"""LaSOT cases where the order of operations of the official MATLAB toolkit
(calcSeqErrRobust) decides the score: a centre error exactly on a
normalized-precision threshold, and results longer than the GT."""
import numpy as np
import pytest

from tpo.evaluation.functional.tracking import (LASOT_NORM_ERROR_THRS,
                                                lasot_eval,
                                                lasot_sequence_curves)

GT = np.array([[10, 10, 5, 5], [10, 10, 5, 5]], dtype=float)


def test_norm_precision_tie_divides_centres_before_subtracting():
    # Centre 1 px right of a 5-px-wide GT: (c_p - c_g) / w is exactly 0.2,
    # c_p / w - c_g / w is 0.20000000000000018 (the toolkit's order): a miss
    # at the 0.20 threshold, a hit at 0.21.
    pred = np.array([[0, 0, 1, 1], [11, 10, 5, 5]], dtype=float)
    _, _, norm = lasot_sequence_curves(pred, GT)
    at = {round(t, 2): v for t, v in zip(LASOT_NORM_ERROR_THRS, norm)}
    assert at[0.2] == 0.5  # frame 0 (the GT itself) only
    assert at[0.21] == 1.0
    assert lasot_eval([dict(pred=pred, gt=GT)])['norm_precision'] == 0.5


def test_longer_prediction_is_cut_to_the_gt_length():
    pred = np.array([[0, 0, 1, 1], [10, 10, 5, 5], [99, 99, 1, 1]],
                    dtype=float)
    success, precision, norm = lasot_sequence_curves(pred, GT)
    # The extra row is ignored: both frames are perfect.
    assert success[0] == 1.0 and precision[0] == 1.0 and norm[0] == 1.0
    assert lasot_eval([dict(pred=pred, gt=GT)])['success_auc'] == \
        pytest.approx(20 / 21)


def test_shorter_prediction_is_an_error():
    with pytest.raises(ValueError, match='1 predicted and 2 GT'):
        lasot_sequence_curves(GT[:1], GT)


def test_tracking_metric_scores_an_over_long_prediction():
    from tpo.evaluation.metrics.mask_and_tracking import TrackingMetric
    metric = TrackingMetric(protocol='lasot')
    pred = np.concatenate([GT, [[99, 99, 1, 1]]])
    metric.process(None, [dict(task='track', pred_track_bboxes=pred,
                               gt_track_bboxes=GT)])
    out = metric.compute_metrics(metric.results)
    assert out['P@20'] == 100.0 and out['P_norm'] == 100.0
