"""Accuracy of the task the model assigns (the task-begin token it emits)."""
from collections import Counter
from typing import Sequence

from mmengine.logging import print_log

from tpo.registry import METRICS
from .utils import TaskMetric, require_key


@METRICS.register_module()
class TaskAssignAccuracy(TaskMetric):
    """Whether the generated task-begin token is the expected one.

    Data sample keys: ``gt_task`` and ``pred_task``, each a task-begin token
    such as ``'<box_begin>'`` or ``'none'`` for plain chat.

    Reports ``Acc`` (percent of samples with ``pred_task == gt_task``) and
    ``{gt_task}/Recall`` (the same percentage within each GT task), and logs
    the confusion counts.

    Args (of :class:`TaskMetric`): ``tasks``, ``collect_device``,
    ``prefix`` (defaults to ``'task_assign'``), ``collect_dir``.
    """
    default_prefix = 'task_assign'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the expected and generated task of each sample."""
        for sample in self.selected(data_samples):
            self.results.append((require_key(sample, 'gt_task', self),
                                 require_key(sample, 'pred_task', self)))

    def compute_metrics(self, results: list) -> dict:
        """Overall accuracy and per-GT-task recall in percent."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        confusion = Counter(results)
        totals = Counter(gt for gt, _ in results)
        print_log(
            'Task assignment confusion (gt -> pred: count):\n' + '\n'.join(
                f'  {gt} -> {pred}: {count}'
                for (gt, pred), count in sorted(confusion.items())),
            logger='current')
        correct = sum(gt == pred for gt, pred in results)
        metrics = {'Acc': correct / len(results) * 100}
        for gt, total in totals.items():
            metrics[f'{gt}/Recall'] = confusion[gt, gt] / total * 100
        return metrics
