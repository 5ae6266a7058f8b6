"""HungarianSpanMatcher on hand-computed costs."""
import math

import pytest
import torch

from tpo.models.task_modules import HungarianSpanMatcher
from tpo.registry import TASK_UTILS


def test_matcher_cost_matrix_and_assignment_by_hand():
    matcher = TASK_UTILS.build(
        dict(type='HungarianSpanMatcher', cost_class=4, cost_span=10,
             cost_giou=1))
    # xx: q0 [0.1, 0.3], q1 [0.6, 0.8]; g0 [0.6, 0.8], g1 [0.2, 0.3]
    pred = torch.tensor([[0.2, 0.2], [0.7, 0.2]])
    gt = torch.tensor([[0.7, 0.2], [0.25, 0.1]])
    logits = torch.tensor([[0., 0.], [math.log(3), 0.]])  # p_fg .5, .75
    cost = matcher.cost_matrix(pred, gt, logits)
    # 10 * L1 - GIoU - 4 * p_fg
    expected = torch.tensor([[5 + 3 / 7 - 2, 1.5 - 0.5 - 2],
                             [0 - 1 - 3, 5.5 + 0.5 - 3]])
    assert torch.allclose(cost, expected, atol=1e-5)
    rows, cols = matcher(pred, gt, logits)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_matcher_is_globally_optimal_and_handles_no_gt():
    matcher = HungarianSpanMatcher(cost_class=0, cost_span=1, cost_giou=0)
    # L1 costs: q0 [.05, .15], q1 [.02, .08], q2 [.4, .3]; the greedy
    # choice q1->g0 (.02) then q0->g1 (.15) costs .17, the optimum .13
    pred = torch.tensor([[0.45, 0.1], [0.52, 0.1], [0.9, 0.1]])
    gt = torch.tensor([[0.5, 0.1], [0.6, 0.1]])
    rows, cols = matcher(pred, gt)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    rows, cols = matcher(pred, torch.zeros(0, 2))
    assert rows.numel() == 0 and cols.numel() == 0
    with pytest.raises(ValueError):
        HungarianSpanMatcher(cost_class=0, cost_span=0, cost_giou=0)
