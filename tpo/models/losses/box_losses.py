"""Box regression losses (boxes in normalised coordinates)."""
import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS


def generalized_box_iou(a: torch.Tensor, b: torch.Tensor,
                        eps: float = 1e-7) -> torch.Tensor:
    """Element-wise GIoU of two ``(N, 4)`` xyxy box sets."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a + area_b - inter
    iou = inter / (union + eps)
    hull = (torch.max(a[:, 2:], b[:, 2:]) -
            torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    return iou - (hull - union) / (hull + eps)


class _WeightedLoss(nn.Module):
    """A loss with a ``loss_weight`` and mean reduction."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight


@MODELS.register_module()
class MSELoss(_WeightedLoss):
    """Mean squared error (the region-head loss of the paper's appendix)."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.mse_loss(pred, target)


@MODELS.register_module()
class L1Loss(_WeightedLoss):
    """Mean absolute error."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.l1_loss(pred, target)


@MODELS.register_module()
class GIoULoss(_WeightedLoss):
    """``1 - GIoU`` on xyxy boxes.

    Args:
        loss_weight: the factor of the mean.
        valid_only: average over the predicted boxes that are well formed
            (``x1 >= x0`` and ``y1 >= y0``) only, and give the constant 2
            (the largest ``1 - GIoU``, no gradient) when there is none: the
            release's ``box_loss`` (``modeling_videochate.py``), whose region
            head regresses raw, possibly inverted, corners.
    """

    def __init__(self, loss_weight: float = 1.0,
                 valid_only: bool = False) -> None:
        super().__init__(loss_weight)
        self.valid_only = valid_only

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.valid_only:
            valid = (pred[:, 2:] >= pred[:, :2]).all(-1)
            if not valid.any():
                return pred.new_tensor(2.0 * self.loss_weight) + \
                    pred.sum() * 0
            pred, target = pred[valid], target[valid]
        return self.loss_weight * (1 - generalized_box_iou(pred, target)).mean()
