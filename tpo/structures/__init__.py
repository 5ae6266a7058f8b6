from .data_sample import TPODataSample
from .tasks import TPO_TASKS

__all__ = ['TPODataSample', 'TPO_TASKS']
