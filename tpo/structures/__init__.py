from .data_sample import TPODataSample
from .tasks import BOX_PROMPT_TOKEN, OFFICIAL_TOKEN_ORDER, TPO_TASKS

__all__ = [
    'TPODataSample', 'TPO_TASKS', 'BOX_PROMPT_TOKEN', 'OFFICIAL_TOKEN_ORDER'
]
