from .internvideo2_clip import (InternVideo2CLIPText, InternVideo2CLIPVision,
                               clip_frame_indices)
from .siglip import SigLIPVisionEncoder
from .video_vit import VideoViT

__all__ = [
    'InternVideo2CLIPText', 'InternVideo2CLIPVision', 'SigLIPVisionEncoder',
    'VideoViT', 'clip_frame_indices'
]
