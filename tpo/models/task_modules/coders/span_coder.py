"""Span coding between ``[start, end]`` seconds and the normalised codes of
the temporal heads, and the 1-D IoU geometry they are trained with.

A *span* is a temporal window. Heads predict it normalised by the video
duration, either as ``(center, width)`` (``cxw``, CG-DETR / Moment-DETR) or
as ``(start, end)`` (``xx``).
"""
from typing import Optional, Tuple

import torch

from tpo.registry import TASK_UTILS


def span_xx_to_cxw(spans: torch.Tensor) -> torch.Tensor:
    """``(..., 2)`` ``(start, end)`` -> ``(center, width)``."""
    start, end = spans.unbind(-1)
    return torch.stack([(start + end) / 2, end - start], -1)


def span_cxw_to_xx(spans: torch.Tensor) -> torch.Tensor:
    """``(..., 2)`` ``(center, width)`` -> ``(start, end)``."""
    center, width = spans.unbind(-1)
    return torch.stack([center - width / 2, center + width / 2], -1)


def span_iou(a: torch.Tensor, b: torch.Tensor,
             eps: float = 1e-7) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pairwise IoU and union of ``(N, 2)`` and ``(M, 2)`` xx spans.

    Returns:
        ``(N, M)`` IoU (overlap / union) and ``(N, M)`` union lengths.
    """
    len_a = (a[:, 1] - a[:, 0])[:, None]
    len_b = (b[:, 1] - b[:, 0])[None]
    inter = (torch.min(a[:, None, 1], b[None, :, 1]) -
             torch.max(a[:, None, 0], b[None, :, 0])).clamp(min=0)
    union = len_a + len_b - inter
    return inter / union.clamp(min=eps), union


def generalized_span_iou(a: torch.Tensor, b: torch.Tensor,
                         eps: float = 1e-7) -> torch.Tensor:
    """Pairwise generalized IoU of ``(N, 2)`` and ``(M, 2)`` xx spans:
    ``IoU - (hull - union) / hull``, in ``[-1, 1]``."""
    iou, union = span_iou(a, b, eps)
    hull = (torch.max(a[:, None, 1], b[None, :, 1]) -
            torch.min(a[:, None, 0], b[None, :, 0])).clamp(min=0)
    return iou - (hull - union) / hull.clamp(min=eps)


def aligned_generalized_span_iou(a: torch.Tensor, b: torch.Tensor,
                                 eps: float = 1e-7) -> torch.Tensor:
    """Element-wise generalized IoU of two ``(N, 2)`` xx span sets (the
    diagonal of :func:`generalized_span_iou`)."""
    inter = (torch.min(a[:, 1], b[:, 1]) -
             torch.max(a[:, 0], b[:, 0])).clamp(min=0)
    union = (a[:, 1] - a[:, 0]) + (b[:, 1] - b[:, 0]) - inter
    hull = (torch.max(a[:, 1], b[:, 1]) -
            torch.min(a[:, 0], b[:, 0])).clamp(min=0)
    return inter / union.clamp(min=eps) - (hull - union) / hull.clamp(min=eps)


@TASK_UTILS.register_module()
class SpanCoder:
    """Encode ``[start, end]`` windows in seconds as codes in ``[0, 1]`` of
    the video duration, and decode predictions back to seconds.

    Args:
        mode: ``'cxw'`` (center and width, CG-DETR) or ``'xx'`` (start and
            end).
    """

    def __init__(self, mode: str = 'cxw') -> None:
        if mode not in ('cxw', 'xx'):
            raise ValueError(f"mode must be 'cxw' or 'xx', got {mode!r}")
        self.mode = mode

    def encode(self, windows: torch.Tensor, duration: float) -> torch.Tensor:
        """``(K, 2)`` seconds -> ``(K, 2)`` normalised codes; windows are
        clipped to the video first."""
        spans = (windows / float(duration)).clamp(0, 1)
        return span_xx_to_cxw(spans) if self.mode == 'cxw' else spans

    def decode(self, codes: torch.Tensor, duration: float) -> torch.Tensor:
        """Normalised codes -> ``(K, 2)`` seconds inside ``[0, duration]``
        with ``start <= end``."""
        spans = self.to_xx(codes).clamp(0, 1)
        spans = torch.stack(
            [spans.min(-1).values, spans.max(-1).values], -1)
        return spans * float(duration)

    def to_xx(self, codes: torch.Tensor) -> torch.Tensor:
        """Normalised codes -> normalised ``(start, end)`` (for IoU
        losses)."""
        return span_cxw_to_xx(codes) if self.mode == 'cxw' else codes

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mode={self.mode!r})'


def round_windows(windows: torch.Tensor, step: Optional[float],
                  duration: float) -> torch.Tensor:
    """Round ``[start, end]`` seconds to multiples of ``step`` (CG-DETR's
    ``round_multiple`` post-processing), kept inside the video."""
    if not step:
        return windows
    return (torch.round(windows / step) * step).clamp(0, duration)
