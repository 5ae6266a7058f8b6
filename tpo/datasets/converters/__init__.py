"""Converters of public annotation formats into the formats the readers of
:mod:`tpo.datasets` read."""
from .temporal import (SOURCES, Converted, convert_activitynet,
                       convert_didemo, convert_ego4d_nlq, convert_hirest,
                       convert_queryd, convert_tacos, write_qvh_jsonl)

__all__ = [
    'SOURCES', 'Converted', 'convert_didemo', 'convert_activitynet',
    'convert_tacos', 'convert_queryd', 'convert_hirest', 'convert_ego4d_nlq',
    'write_qvh_jsonl'
]
