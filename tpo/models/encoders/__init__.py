from .siglip import SigLIPVisionEncoder
from .video_vit import VideoViT

__all__ = ['SigLIPVisionEncoder', 'VideoViT']
