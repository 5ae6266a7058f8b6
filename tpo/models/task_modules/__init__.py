from .clip_targets import (ClipTargets, clip_targets, gt_windows,
                           sample_duration, saliency_to_clips)
from .coders import (NormalizedBoxCoder, SpanCoder,
                     aligned_generalized_span_iou, cxcywh_to_xyxy,
                     generalized_span_iou, round_windows, span_cxw_to_xx,
                     span_iou, span_xx_to_cxw, xyxy_to_cxcywh)
from .matchers import HungarianSpanMatcher

__all__ = [
    'NormalizedBoxCoder', 'cxcywh_to_xyxy', 'xyxy_to_cxcywh', 'SpanCoder',
    'span_cxw_to_xx', 'span_xx_to_cxw', 'span_iou', 'generalized_span_iou',
    'aligned_generalized_span_iou', 'round_windows', 'HungarianSpanMatcher',
    'ClipTargets', 'clip_targets', 'gt_windows', 'sample_duration',
    'saliency_to_clips'
]
