"""One-to-one matching of predicted and ground-truth spans (DETR-style)."""
from typing import Optional, Tuple

import torch
from scipy.optimize import linear_sum_assignment

from tpo.registry import TASK_UTILS
from ..coders.span_coder import generalized_span_iou, span_cxw_to_xx


#: CG-DETR's matching costs (class 4, span L1 10, GIoU 1).
CGDETR_MATCHER = dict(type='HungarianSpanMatcher', cost_class=4.0,
                      cost_span=10.0, cost_giou=1.0)


@TASK_UTILS.register_module()
class HungarianSpanMatcher:
    """Hungarian matching of the queries of one video to its GT spans.

    The cost of pairing query ``i`` with GT span ``j`` is (as CG-DETR /
    Moment-DETR)::

        cost_span * |s_i - g_j|_1 - cost_giou * GIoU(s_i, g_j)
            - cost_class * p_i(foreground)

    with spans as normalised ``(center, width)`` (``span_mode='cxw'``) or
    ``(start, end)`` (``'xx'``) and ``p_i`` the softmax of the query's class
    logits. Each GT span gets exactly one query when there are at least as
    many queries as spans (otherwise each query gets one span).

    Args:
        cost_class: weight of the foreground-probability cost.
        cost_span: weight of the L1 cost of the span codes.
        cost_giou: weight of the negative GIoU cost.
        foreground_label: the class index of "foreground" in the logits
            (CG-DETR: 0).
        span_mode: the span code, ``'cxw'`` or ``'xx'``.
    """

    def __init__(self,
                 cost_class: float = 4.0,
                 cost_span: float = 10.0,
                 cost_giou: float = 1.0,
                 foreground_label: int = 0,
                 span_mode: str = 'cxw') -> None:
        if cost_class == 0 and cost_span == 0 and cost_giou == 0:
            raise ValueError('HungarianSpanMatcher: all costs are 0')
        if span_mode not in ('cxw', 'xx'):
            raise ValueError(
                f"span_mode must be 'cxw' or 'xx', got {span_mode!r}")
        self.cost_class = cost_class
        self.cost_span = cost_span
        self.cost_giou = cost_giou
        self.foreground_label = foreground_label
        self.span_mode = span_mode

    def _to_xx(self, spans: torch.Tensor) -> torch.Tensor:
        return span_cxw_to_xx(spans) if self.span_mode == 'cxw' else spans

    @torch.no_grad()
    def cost_matrix(self, pred_spans: torch.Tensor,
                    gt_spans: torch.Tensor,
                    pred_logits: Optional[torch.Tensor] = None
                    ) -> torch.Tensor:
        """The ``(num_queries, num_gt)`` matching cost."""
        pred_spans, gt_spans = pred_spans.float(), gt_spans.float()
        cost = self.cost_span * torch.cdist(pred_spans, gt_spans, p=1)
        cost = cost - self.cost_giou * generalized_span_iou(
            self._to_xx(pred_spans), self._to_xx(gt_spans))
        if pred_logits is not None and self.cost_class:
            prob = pred_logits.float().softmax(-1)[:, self.foreground_label]
            cost = cost - self.cost_class * prob[:, None]
        return cost

    @torch.no_grad()
    def __call__(self,
                 pred_spans: torch.Tensor,
                 gt_spans: torch.Tensor,
                 pred_logits: Optional[torch.Tensor] = None
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Match the queries of one sample.

        Args:
            pred_spans: ``(num_queries, 2)`` normalised span codes.
            gt_spans: ``(num_gt, 2)`` normalised span codes.
            pred_logits: ``(num_queries, num_classes)`` class logits, or
                None to match on the span costs only.

        Returns:
            ``(query_inds, gt_inds)``: int64 tensors of equal length
            ``min(num_queries, num_gt)``, ``query_inds`` increasing.
        """
        device = pred_spans.device
        if len(gt_spans) == 0 or len(pred_spans) == 0:
            empty = torch.zeros(0, dtype=torch.long, device=device)
            return empty, empty.clone()
        cost = self.cost_matrix(pred_spans, gt_spans, pred_logits)
        rows, cols = linear_sum_assignment(cost.cpu().numpy())
        return (torch.as_tensor(rows, dtype=torch.long, device=device),
                torch.as_tensor(cols, dtype=torch.long, device=device))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(cost_class={self.cost_class}, '
                f'cost_span={self.cost_span}, cost_giou={self.cost_giou}, '
                f'span_mode={self.span_mode!r})')
