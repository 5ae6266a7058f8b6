from .base_task_head import BaseTaskHead
from .cg_detr_head import CGDETRHead
from .cg_detr_transformer import CGDETR
from .feature_sources import (EncoderTextFeatures, EncoderVideoFeatures,
                              MLLMTextFeatures, MLLMVideoFeatures,
                              QueryHashEmbedding, SampleClipFeatures,
                              SampleQueryFeatures)
from .head_router import HeadRouter
from .mlp_temporal_head import MLPTemporalHead
from .region_head import RegionHead
from .sam2_mask_head import SAM2MaskHead

__all__ = [
    'BaseTaskHead', 'HeadRouter', 'RegionHead', 'CGDETRHead', 'CGDETR',
    'MLPTemporalHead', 'SampleClipFeatures', 'SampleQueryFeatures',
    'MLLMVideoFeatures', 'MLLMTextFeatures', 'EncoderVideoFeatures',
    'EncoderTextFeatures', 'QueryHashEmbedding', 'SAM2MaskHead'
]
