"""Multiple-choice accuracy with the MVBench answer-matching rule."""
from typing import Sequence


from tpo.registry import METRICS
from ..functional import mvbench_accuracy, mvbench_format_prediction
from .utils import TaskMetric, require_key


@METRICS.register_module()
class MultipleChoiceAccuracy(TaskMetric):
    """MVBench-style accuracy, pooled (``Avg``) and per task, in percent.

    Data sample keys: ``pred_text`` (the raw model output after the prompt
    ``"Best option:("``), ``gt_answer`` (``"(X) answer text"``) and
    ``task_type``. See :mod:`tpo.evaluation.functional.mvbench` for the rule.

    Args (of :class:`TaskMetric`): ``tasks``, ``collect_device``,
    ``prefix`` (defaults to ``'mvbench'``), ``collect_dir``.
    """
    default_prefix = 'mvbench'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the formatted prediction, GT answer and task of each
        sample."""
        for sample in self.selected(data_samples):
            self.results.append(
                dict(
                    pred=mvbench_format_prediction(
                        require_key(sample, 'pred_text', self)),
                    gt=require_key(sample, 'gt_answer', self),
                    task_type=require_key(sample, 'task_type', self)))

    def compute_metrics(self, results: list) -> dict:
        """``Avg`` over all items and the accuracy of each task."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        return mvbench_accuracy([r['pred'] for r in results],
                                [r['gt'] for r in results],
                                [r['task_type'] for r in results])
