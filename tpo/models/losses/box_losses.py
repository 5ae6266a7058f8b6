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
    """``1 - GIoU`` on xyxy boxes."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * (1 - generalized_box_iou(pred, target)).mean()
