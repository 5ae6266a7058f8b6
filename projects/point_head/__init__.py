"""A plugin that adds a task of its own: ``'point'`` (its spec, a transform
serving samples as that task, its head and metric), imported by a config's
``custom_imports``."""
from .point_head import PointHead, PointInBoxAccuracy
from .point_task import PointTask, SetTask

__all__ = ['PointTask', 'SetTask', 'PointHead', 'PointInBoxAccuracy']
