"""Mask losses of the SAM2 mask head: dice, sigmoid focal (BCE as a special
case) and the regression of the mask decoder's IoU predictions.

Every loss takes ``(N, ...)`` predictions and targets of one shape, reduces
each of the ``N`` items over its remaining dims, then over the items:
``reduction='mean'`` (default), ``'sum'`` or ``'none'`` (the ``(N,)`` item
losses, e.g. to pick the best of several mask hypotheses), times
``loss_weight``. No item gives a zero that keeps the graph (never NaN).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS

REDUCTIONS = ('mean', 'sum', 'none')


def _reduce(item_losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == 'none':
        return item_losses
    if item_losses.numel() == 0:
        return item_losses.sum() * 0
    return item_losses.mean() if reduction == 'mean' else item_losses.sum()


def _flatten_pair(pred: torch.Tensor, target: torch.Tensor, name: str):
    if pred.shape != target.shape:
        raise ValueError(f'{name} needs predictions and targets of one '
                         f'shape, got {tuple(pred.shape)} and '
                         f'{tuple(target.shape)}.')
    if pred.dim() == 0:
        pred, target = pred[None], target[None]
    if pred.dim() == 1:  # one element per item
        pred, target = pred[:, None], target[:, None]
    return pred.flatten(1).float(), target.flatten(1).float()


def dice_loss(logits: torch.Tensor,
              target: torch.Tensor,
              smooth: float = 1.0) -> torch.Tensor:
    """Per item ``1 - (2 sum(p t) + s) / (sum(p) + sum(t) + s)`` with
    ``p = sigmoid(logits)`` (SAM / SAM2 training use ``s = 1``).

    Returns the ``(N,)`` item losses of ``(N, ...)`` inputs.
    """
    logits, target = _flatten_pair(logits, target, 'dice_loss')
    prob = logits.sigmoid()
    numerator = 2 * (prob * target).sum(1) + smooth
    denominator = prob.sum(1) + target.sum(1) + smooth
    return 1 - numerator / denominator


def sigmoid_focal_loss(logits: torch.Tensor,
                       target: torch.Tensor,
                       alpha: float = 0.25,
                       gamma: float = 2.0) -> torch.Tensor:
    """Per item mean over elements of the focal loss (Lin et al. 2017)
    ``-a_t (1 - p_t)^gamma log(p_t)``, ``a_t = alpha`` on positives and
    ``1 - alpha`` on negatives; ``alpha < 0`` drops the weighting, so
    ``alpha=-1, gamma=0`` is binary cross-entropy.

    Returns the ``(N,)`` item losses of ``(N, ...)`` inputs.
    """
    logits, target = _flatten_pair(logits, target, 'sigmoid_focal_loss')
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
    p_t = prob * target + (1 - prob) * (1 - target)
    loss = ce * (1 - p_t)**gamma if gamma != 0 else ce
    if alpha >= 0:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return loss.mean(1)


def binary_mask_iou(logits: torch.Tensor, target: torch.Tensor,
                    threshold: float = 0.0) -> torch.Tensor:
    """IoU of ``logits > threshold`` with the binary ``target`` per item
    (``(N, ...)`` -> ``(N,)``, no gradient); 1 where both are empty (the
    convention of :func:`~tpo.evaluation.functional.region_similarity_j`).
    """
    with torch.no_grad():
        logits, target = _flatten_pair(logits, target, 'binary_mask_iou')
        pred, gt = logits > threshold, target > 0.5
        inter = (pred & gt).sum(1).float()
        union = (pred | gt).sum(1).float()
        return torch.where(union > 0, inter / union.clamp(min=1),
                           torch.ones_like(union))


class _MaskLoss(nn.Module):

    def __init__(self, loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f'{type(self).__name__}: reduction must be one '
                             f'of {REDUCTIONS}, got {reduction!r}.')
        self.loss_weight = loss_weight
        self.reduction = reduction

    def _finish(self, item_losses: torch.Tensor,
                reduction_override: Optional[str]) -> torch.Tensor:
        reduction = reduction_override or self.reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f'{type(self).__name__}: reduction must be one '
                             f'of {REDUCTIONS}, got {reduction!r}.')
        return self.loss_weight * _reduce(item_losses, reduction)


@MODELS.register_module()
class DiceLoss(_MaskLoss):
    """Soft dice loss on mask logits (see :func:`dice_loss`).

    Args:
        smooth: added to numerator and denominator (1 as in SAM2).
        loss_weight, reduction: see the module docstring.
    """

    def __init__(self, smooth: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        return self._finish(dice_loss(logits, target, self.smooth),
                            reduction_override)


@MODELS.register_module()
class SigmoidFocalLoss(_MaskLoss):
    """Sigmoid focal loss on logits (see :func:`sigmoid_focal_loss`); each
    item averages its elements. ``alpha=-1, gamma=0`` gives BCE.

    Args:
        alpha, gamma: focal parameters (SAM2 masks: 0.25, 2).
        loss_weight, reduction: see the module docstring.
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.alpha = alpha
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        return self._finish(
            sigmoid_focal_loss(logits, target, self.alpha, self.gamma),
            reduction_override)


@MODELS.register_module()
class IoUPredictionLoss(_MaskLoss):
    """Regression of predicted mask IoUs onto the IoUs the masks actually
    reach (targets come from :func:`binary_mask_iou`, no gradient).

    Args:
        loss_type: ``'mse'`` (SAM) or ``'l1'`` (SAM2 training).
        loss_weight, reduction: see the module docstring.
    """

    def __init__(self, loss_type: str = 'mse', **kwargs) -> None:
        super().__init__(**kwargs)
        if loss_type not in ('mse', 'l1'):
            raise ValueError(f"IoUPredictionLoss: loss_type must be 'mse' "
                             f"or 'l1', got {loss_type!r}.")
        self.loss_type = loss_type

    def forward(self, pred_ious: torch.Tensor, target_ious: torch.Tensor,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        pred, target = _flatten_pair(pred_ious, target_ious.detach(),
                                     type(self).__name__)
        diff = pred - target
        item = (diff.abs() if self.loss_type == 'l1' else diff**2).mean(1)
        return self._finish(item, reduction_override)
