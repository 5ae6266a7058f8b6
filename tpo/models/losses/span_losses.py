"""Losses of temporal span prediction (spans normalised by the video
duration), as CG-DETR / Moment-DETR define them.

Every loss returns a zero that stays in the graph (not NaN) when it gets no
span, so a batch without ground truth trains the other terms only.
"""
import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS
from ..task_modules.coders.span_coder import aligned_generalized_span_iou
from .utils import graph_zero


#: CG-DETR's span losses: L1 on the codes (weight 10), GIoU (weight 1).
CGDETR_SPAN_L1 = dict(type='SpanL1Loss', loss_weight=10.0)
CGDETR_SPAN_GIOU = dict(type='SpanGIoULoss', loss_weight=1.0)


class _MatchedSpanLoss(nn.Module):
    """A weighted loss of matched spans; no match gives a graph-connected
    zero."""

    def __init__(self, loss_weight: float) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """``(N, 2)`` predictions and targets -> a weighted scalar."""
        if pred.numel() == 0:
            return graph_zero(pred, target)
        return self.loss_weight * self.matched_loss(pred, target.to(pred))


@MODELS.register_module()
class SpanL1Loss(_MatchedSpanLoss):
    """Mean absolute error of matched span codes (``loss_span``), over all
    ``2N`` values.

    Args:
        loss_weight: multiplier (CG-DETR ``span_loss_coef``: 10).
    """

    def __init__(self, loss_weight: float = 10.0) -> None:
        super().__init__(loss_weight)

    def matched_loss(self, pred: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(pred, target)


@MODELS.register_module()
class SpanGIoULoss(_MatchedSpanLoss):
    """``1 - GIoU`` of matched spans, given as normalised ``(start, end)``
    (``loss_giou``), averaged.

    Args:
        loss_weight: multiplier (CG-DETR ``giou_loss_coef``: 1).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)

    def matched_loss(self, pred: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
        return (1 - aligned_generalized_span_iou(pred, target)).mean()


@MODELS.register_module()
class SpanClassificationLoss(nn.Module):
    """Foreground / background cross-entropy of every query
    (``loss_label``).

    Queries matched to a GT span are foreground (class ``foreground_label``,
    0 in CG-DETR), all others background. As CG-DETR, the background class
    is weighted by ``eos_coef`` and the per-query losses are averaged over
    all queries (a plain mean of the weighted terms, not a weighted mean).

    Args:
        eos_coef: weight of the background ("no object") class.
        foreground_label: index of the foreground class (0 or 1).
        loss_weight: multiplier (CG-DETR ``label_loss_coef``: 4).
    """

    def __init__(self,
                 eos_coef: float = 0.1,
                 foreground_label: int = 0,
                 loss_weight: float = 4.0) -> None:
        super().__init__()
        if foreground_label not in (0, 1):
            raise ValueError('foreground_label must be 0 or 1')
        self.foreground_label = foreground_label
        self.loss_weight = loss_weight
        weight = torch.ones(2)
        weight[1 - foreground_label] = eos_coef
        self.register_buffer('class_weight', weight, persistent=False)

    def forward(self, logits: torch.Tensor,
                foreground: torch.Tensor) -> torch.Tensor:
        """Mean weighted CE.

        Args:
            logits: ``(..., num_queries, 2)`` class logits.
            foreground: ``(..., num_queries)`` bool, True at matched queries.
        """
        labels = torch.where(foreground.bool(), self.foreground_label,
                             1 - self.foreground_label).long()
        ce = F.cross_entropy(
            logits.reshape(-1, 2).float(), labels.reshape(-1),
            weight=self.class_weight.to(logits.device), reduction='none')
        return self.loss_weight * ce.mean()
