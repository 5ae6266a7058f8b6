from .video_vit import VideoViT

__all__ = ['VideoViT']
