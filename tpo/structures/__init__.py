from .data_sample import TPODataSample
from .tasks import (BOX_PROMPT_TOKEN, OFFICIAL_TOKEN_ORDER, TASK_ALIASES,
                    TPO_TASKS)

__all__ = [
    'TPODataSample', 'TPO_TASKS', 'TASK_ALIASES', 'BOX_PROMPT_TOKEN',
    'OFFICIAL_TOKEN_ORDER'
]
