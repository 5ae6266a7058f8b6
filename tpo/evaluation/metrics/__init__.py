from .dump_predictions import DumpPredictions
from .mask_and_tracking import ReferringVOSMetric, TrackingMetric
from .mcq_benchmarks import (MLVUAccuracy, MMIUAccuracy, SEEDBench2Accuracy,
                             VideoMMEAccuracy)
from .multiple_choice_accuracy import MultipleChoiceAccuracy
from .nextgqa import NExTGQAMetric
from .referring_box_accuracy import ReferringBoxAccuracy
from .submissions import (MaskSubmission, QVHighlightsSubmission,
                          TrackingSubmission)
from .task_assign_accuracy import TaskAssignAccuracy
from .temporal_grounding import MomentRetrievalMetric, TemporalGroundingRecall
from .text_answer import TextAnswerMetric, decode_text_answer
from .utils import TaskMetric

__all__ = [
    'TaskMetric', 'DumpPredictions', 'ReferringBoxAccuracy',
    'MultipleChoiceAccuracy', 'TaskAssignAccuracy', 'ReferringVOSMetric',
    'TrackingMetric', 'MomentRetrievalMetric', 'TemporalGroundingRecall',
    'VideoMMEAccuracy', 'MLVUAccuracy', 'MMIUAccuracy', 'SEEDBench2Accuracy',
    'NExTGQAMetric', 'QVHighlightsSubmission', 'TrackingSubmission',
    'MaskSubmission', 'TextAnswerMetric', 'decode_text_answer'
]
