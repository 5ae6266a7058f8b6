from .dump_predictions import DumpPredictions
from .mask_and_tracking import ReferringVOSMetric, TrackingMetric
from .multiple_choice_accuracy import MultipleChoiceAccuracy
from .referring_box_accuracy import ReferringBoxAccuracy
from .task_assign_accuracy import TaskAssignAccuracy
from .temporal_grounding import MomentRetrievalMetric, TemporalGroundingRecall
from .utils import TaskMetric

__all__ = [
    'DumpPredictions', 'ReferringBoxAccuracy', 'MultipleChoiceAccuracy',
    'TaskAssignAccuracy', 'TaskMetric',
    'ReferringVOSMetric', 'TrackingMetric',
    'MomentRetrievalMetric', 'TemporalGroundingRecall'
]
