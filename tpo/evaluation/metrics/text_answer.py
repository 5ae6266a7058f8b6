"""Score text answers (the textualized-task baseline) with the task metrics
that score the heads' structured predictions."""
from typing import Optional, Sequence

from tpo.registry import METRICS
from tpo.tasks import MalformedAnswerError, get_task
from .utils import TaskMetric, require_key


def decode_text_answer(sample: dict) -> bool:
    """Write the structured prediction of a sample's ``pred_text`` in
    place, as the task's head would, with its task spec's
    :meth:`~tpo.tasks.TaskSpec.from_text` (e.g. region: ``pred_bboxes``
    ``(K, 4)`` xyxy pixels in the order written; temporal:
    ``pred_windows`` ``[start, end, score]``, score decreasing with the
    rank; mask: ``pred_masks`` as filled boxes; track:
    ``pred_track_bboxes`` xywh; mcq: ``pred_text`` kept when it starts with
    an option letter).

    A malformed answer gets the spec's empty prediction, which every
    metric scores as a miss (a malformed multiple-choice answer becomes
    ``'malformed'``).

    Returns:
        bool: True when the answer was malformed.
    """
    task = get_task(sample['task'])
    try:
        task.from_text(sample, sample.get('pred_text', ''))
        return False
    except MalformedAnswerError:
        task.empty_prediction(sample)
        return True


@METRICS.register_module()
class TextAnswerMetric(TaskMetric):
    """Decode each sample's text answer into the structure of its task,
    then score it with ``metric``; count the malformed answers.

    The textualized-task baseline (Table 11) answers with text such as
    ``'It is here [0.12,0.34,0.56,0.78].'``; :func:`decode_text_answer`
    turns it into the fields the task metric reads, so the same metric
    scores the text answers and the heads' predictions. A malformed answer
    is a miss. Wrapping ``MultipleChoiceAccuracy`` makes an answer without
    an option letter (e.g. an empty one) a miss.

    Reports the wrapped metric's numbers, plus ``{prefix}/malformed`` (the
    number of malformed answers) and ``{prefix}/answers`` (the number of
    answers), under the wrapped metric's prefix.

    Args:
        metric (dict): Config of the task metric, e.g.
            ``dict(type='ReferringBoxAccuracy', tasks=('region', ))``; its
            ``tasks`` select the samples.
        collect_device, collect_dir: see :class:`TaskMetric`.
    """

    def __init__(self,
                 metric: dict,
                 collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None) -> None:
        self.metric = METRICS.build(metric)
        if not isinstance(self.metric, TaskMetric):
            raise TypeError(f'TextAnswerMetric wraps a TaskMetric, got '
                            f'{type(self.metric).__name__}.')
        super().__init__(
            tasks=self.metric.tasks,
            collect_device=collect_device,
            prefix=self.metric.prefix,
            collect_dir=collect_dir)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Decode the selected samples (copies) and pass them on."""
        decoded = []
        for sample in self.selected(data_samples):
            sample = dict(sample)
            require_key(sample, 'pred_text', self)
            self.results.append(decode_text_answer(sample))
            decoded.append(sample)
        self.metric.process(data_batch, decoded)

    def compute_metrics(self, results: list) -> dict:
        """The malformed count and the number of answers."""
        return dict(malformed=int(sum(results)), answers=len(results))

    def evaluate(self, size: int) -> dict:
        """The wrapped metric's numbers and the malformed count."""
        metrics = self.metric.evaluate(size)
        metrics.update(super().evaluate(size))
        return metrics
