from .hungarian_span_matcher import HungarianSpanMatcher

__all__ = ['HungarianSpanMatcher']
