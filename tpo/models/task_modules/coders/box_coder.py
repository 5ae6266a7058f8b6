"""Box coding between pixel xyxy boxes and the head's normalised targets."""
from typing import Sequence

import torch

from tpo.registry import TASK_UTILS


def xyxy_to_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1)


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)


@TASK_UTILS.register_module()
class NormalizedBoxCoder:
    """Encode pixel xyxy boxes as ``[0, 1]`` coordinates of the frame.

    Args:
        mode: ``'cxcywh'`` (centre and size) or ``'xyxy'`` (corners).
    """

    def __init__(self, mode: str = 'cxcywh') -> None:
        if mode not in ('cxcywh', 'xyxy'):
            raise ValueError(f"mode must be 'cxcywh' or 'xyxy', got {mode!r}")
        self.mode = mode

    @staticmethod
    def _scale(shape: Sequence[int], ref: torch.Tensor) -> torch.Tensor:
        h, w = shape
        return ref.new_tensor([w, h, w, h])

    def encode(self, boxes: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
        """Pixel xyxy boxes of a ``(H, W)`` frame -> normalised targets."""
        boxes = boxes / self._scale(shape, boxes)
        return xyxy_to_cxcywh(boxes) if self.mode == 'cxcywh' else boxes

    def decode(self, codes: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
        """Normalised predictions -> pixel xyxy boxes clipped to the frame."""
        boxes = cxcywh_to_xyxy(codes) if self.mode == 'cxcywh' else codes
        return boxes.clamp(0, 1) * self._scale(shape, codes)

    def to_xyxy(self, codes: torch.Tensor) -> torch.Tensor:
        """Normalised codes -> normalised xyxy (for IoU-based losses)."""
        return cxcywh_to_xyxy(codes) if self.mode == 'cxcywh' else codes
