"""Stochastic depth for sequence-first ``(L, B, D)`` tensors."""
import torch
from torch import nn


class SequenceDropPath(nn.Module):
    """mmcv's ``DropPath`` (one draw per sample) applied to a ``(L, B, D)``
    residual branch: the batch is the second dimension here.

    mmcv's ``mmcv.cnn`` package imports ``mmengine.runner`` (about 10 s), so
    it is imported when the first layer is built, not when ``tpo.models``
    is.
    """

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        from mmcv.cnn.bricks.drop import DropPath
        self.drop = DropPath(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(x.transpose(0, 1)).transpose(0, 1)
