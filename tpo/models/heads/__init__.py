from .base_task_head import BaseTaskHead
from .region_head import RegionHead

__all__ = ['BaseTaskHead', 'RegionHead']
