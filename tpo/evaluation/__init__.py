from . import functional, metrics

__all__ = ['functional', 'metrics']
