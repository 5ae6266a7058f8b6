from .box_coder import NormalizedBoxCoder, cxcywh_to_xyxy, xyxy_to_cxcywh

__all__ = ['NormalizedBoxCoder', 'cxcywh_to_xyxy', 'xyxy_to_cxcywh']
