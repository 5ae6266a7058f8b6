from .data_sample import TPODataSample

__all__ = ['TPODataSample']
