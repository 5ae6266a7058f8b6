"""Tasks as data: one registered :class:`TaskSpec` per task (tokens,
question phrasing, text form), read by the formatting and textualizing
transforms, the model and the text-answer metric. A new task is a new
module with a registered spec."""
from .base_task import (BOX_PROMPT_TOKEN, NO_TASK, OFFICIAL_TOKEN_ORDER,
                        TPO_TASKS, TaskSpec, get_task, register_task,
                        registered_tasks, serving_task, task_table)
from .conversation import ChatTask, MultipleChoiceTask
from .mask import MaskTask
from .region import RegionTask
from .temporal import TemporalTask
from .text_forms import MalformedAnswerError
from .track import TrackTask

__all__ = [
    'BOX_PROMPT_TOKEN', 'NO_TASK', 'OFFICIAL_TOKEN_ORDER', 'TPO_TASKS',
    'TaskSpec',
    'get_task', 'register_task', 'registered_tasks', 'serving_task',
    'task_table',
    'ChatTask', 'MultipleChoiceTask', 'MaskTask', 'RegionTask',
    'TemporalTask', 'TrackTask', 'MalformedAnswerError'
]
