from .box_losses import GIoULoss, L1Loss, MSELoss, generalized_box_iou
from .lm_losses import task_assignment_lm_losses
from .mask_losses import (DiceLoss, IoUPredictionLoss, SigmoidFocalLoss,
                          binary_mask_iou, dice_loss, sigmoid_focal_loss)
from .query_dependency_losses import (MomentSentenceAlignLoss,
                                      MomentTextDistillLoss,
                                      OrthogonalDummyLoss)
from .saliency_losses import (CGDETRSaliencyLoss, NegativePairLoss,
                              RankContrastiveLoss, SaliencyMarginLoss,
                              negative_pair, rank_contrastive,
                              saliency_margin)
from .span_losses import SpanClassificationLoss, SpanGIoULoss, SpanL1Loss

__all__ = [
    'GIoULoss', 'L1Loss', 'MSELoss', 'generalized_box_iou', 'SpanL1Loss',
    'SpanGIoULoss', 'SpanClassificationLoss', 'SaliencyMarginLoss',
    'RankContrastiveLoss', 'NegativePairLoss', 'CGDETRSaliencyLoss',
    'MomentSentenceAlignLoss', 'MomentTextDistillLoss',
    'OrthogonalDummyLoss', 'saliency_margin', 'rank_contrastive',
    'negative_pair', 'DiceLoss', 'IoUPredictionLoss', 'SigmoidFocalLoss',
    'binary_mask_iou', 'dice_loss', 'sigmoid_focal_loss',
    'task_assignment_lm_losses'
]
