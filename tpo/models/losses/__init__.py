from .box_losses import GIoULoss, L1Loss, MSELoss, generalized_box_iou
from .mask_losses import (DiceLoss, IoUPredictionLoss, SigmoidFocalLoss,
                          binary_mask_iou, dice_loss, sigmoid_focal_loss)
from .saliency_losses import (CGDETRSaliencyLoss, MomentSentenceAlignLoss,
                              MomentTextDistillLoss, NegativePairLoss,
                              OrthogonalDummyLoss, RankContrastiveLoss,
                              SaliencyMarginLoss, negative_pair,
                              rank_contrastive, saliency_margin)
from .span_losses import SpanClassificationLoss, SpanGIoULoss, SpanL1Loss

__all__ = [
    'GIoULoss', 'L1Loss', 'MSELoss', 'generalized_box_iou', 'SpanL1Loss',
    'SpanGIoULoss', 'SpanClassificationLoss', 'SaliencyMarginLoss',
    'RankContrastiveLoss', 'NegativePairLoss', 'CGDETRSaliencyLoss',
    'MomentSentenceAlignLoss', 'MomentTextDistillLoss',
    'OrthogonalDummyLoss', 'saliency_margin', 'rank_contrastive',
    'negative_pair', 'DiceLoss', 'IoUPredictionLoss', 'SigmoidFocalLoss',
    'binary_mask_iou', 'dice_loss', 'sigmoid_focal_loss'
]
