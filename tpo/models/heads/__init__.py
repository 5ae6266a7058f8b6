from .base_task_head import BaseTaskHead
from .cg_detr_head import CGDETRHead
from .cg_detr_transformer import CGDETR
from .clip_features import InternVideo2QueryFeatures, SampleClipFeatures
from .mlp_temporal_head import MLPTemporalHead
from .region_head import RegionHead
from .sam2_mask_head import SAM2MaskHead
from .temporal_features import (EncoderTextFeatures, EncoderVideoFeatures,
                                MLLMTextFeatures, MLLMVideoFeatures,
                                NpzTextFeatures, NpzVideoFeatures,
                                QueryHashEmbedding)

__all__ = [
    'BaseTaskHead', 'RegionHead', 'CGDETRHead', 'CGDETR', 'MLPTemporalHead',
    'NpzVideoFeatures', 'NpzTextFeatures', 'MLLMVideoFeatures',
    'MLLMTextFeatures', 'EncoderVideoFeatures', 'EncoderTextFeatures',
    'QueryHashEmbedding', 'SAM2MaskHead', 'SampleClipFeatures',
    'InternVideo2QueryFeatures'
]
