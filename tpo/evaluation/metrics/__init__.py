from .dump_predictions import DumpPredictions
from .multiple_choice_accuracy import MultipleChoiceAccuracy
from .referring_box_accuracy import ReferringBoxAccuracy
from .task_assign_accuracy import TaskAssignAccuracy
from .utils import TaskMetric

__all__ = [
    'DumpPredictions', 'ReferringBoxAccuracy', 'MultipleChoiceAccuracy',
    'TaskAssignAccuracy', 'TaskMetric'
]
