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
# multiple-choice benchmarks (VideoMME, MLVU, MMIU, SEED-Bench-2)
from .mcq_benchmarks import (MLVUAccuracy, MMIUAccuracy,  # noqa: E402
                             SEEDBench2Accuracy, VideoMMEAccuracy)
__all__ += ['VideoMMEAccuracy', 'MLVUAccuracy', 'MMIUAccuracy',
            'SEEDBench2Accuracy']
# NExT-GQA grounded QA
from .nextgqa import NExTGQAMetric  # noqa: E402
__all__ += ['NExTGQAMetric']
