from .inferencer import TPOInferencer

__all__ = ['TPOInferencer']
