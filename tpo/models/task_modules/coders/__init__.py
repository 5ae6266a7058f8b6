from .box_coder import NormalizedBoxCoder, cxcywh_to_xyxy, xyxy_to_cxcywh
from .span_coder import (SpanCoder, aligned_generalized_span_iou,
                         generalized_span_iou, round_windows,
                         span_cxw_to_xx, span_iou, span_xx_to_cxw)

__all__ = [
    'NormalizedBoxCoder', 'cxcywh_to_xyxy', 'xyxy_to_cxcywh', 'SpanCoder',
    'span_cxw_to_xx', 'span_xx_to_cxw', 'span_iou', 'generalized_span_iou',
    'aligned_generalized_span_iou', 'round_windows'
]
