"""Accuracy of the multiple-choice benchmarks VideoMME, MLVU, MMIU and
SEED-Bench-2, each with its official answer extraction (see
:mod:`tpo.evaluation.functional.mcq_benchmarks`)."""
from typing import List, Optional, Sequence

from tpo.registry import METRICS
from ..functional.mcq_benchmarks import (mlvu_accuracy, mmiu_accuracy,
                                         seedbench2_accuracy,
                                         videomme_accuracy)
from .utils import TaskMetric, require_key


class _BenchmarkMetric(TaskMetric):
    """Collects ``pred_text``, ``gt_answer`` and the benchmark's category
    keys of the selected samples.

    Args:
        sources (Sequence[str], optional): Score only samples whose
            ``source`` is one of these (several multiple-choice benchmarks
            share ``task='mcq'`` in one evaluator). Defaults to every
            sample.
        **kwargs: ``tasks``, ``collect_device``, ``prefix``, ``collect_dir``
            of :class:`TaskMetric`.
    """
    # data sample keys every sample must have / may have
    required_keys: Sequence[str] = ('pred_text', 'gt_answer')
    optional_keys: Sequence[str] = ()

    def __init__(self,
                 sources: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.sources = None if sources is None else tuple(sources)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the prediction, GT letter and categories of each sample."""
        for sample in self.selected(data_samples):
            if self.sources is not None and require_key(
                    sample, 'source', self) not in self.sources:
                continue
            result = {key: require_key(sample, key, self)
                      for key in self.required_keys}
            result.update({key: sample[key] for key in self.optional_keys
                           if key in sample})
            self.results.append(result)

    def _column(self, results: List[dict], key: str,
                optional: bool = False) -> Optional[list]:
        """The values of ``key``; None for an optional key that some result
        lacks."""
        if optional and any(key not in r for r in results):
            return None
        return [r[key] for r in results]

    def _require_results(self, results: list) -> None:
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty (or were all '
                             'samples filtered out by tasks / sources)?')


@METRICS.register_module()
class VideoMMEAccuracy(_BenchmarkMetric):
    """Video-MME accuracy with the official ``extract_characters_regex``
    rule, overall and per duration, domain, sub-category (when every sample
    has ``sub_category``) and task type, in percent, plus ``unanswered``.

    Data sample keys: ``pred_text``, ``gt_answer`` (letter),
    ``duration_category``, ``domain``, ``task_type`` and optional
    ``sub_category`` (add the category keys to ``PackTPOInputs``'s
    ``meta_keys``).

    Args:
        skip_unanswered (bool): Leave outputs with no letter out of the
            denominators, as the official script (True), or count them wrong,
            as lmms-eval (False). Defaults to True.
        **kwargs: ``sources`` and :class:`TaskMetric`'s arguments;
            ``prefix`` defaults to ``'videomme'``.
    """
    default_prefix = 'videomme'
    required_keys = ('pred_text', 'gt_answer', 'duration_category', 'domain',
                     'task_type')
    optional_keys = ('sub_category', )

    def __init__(self, skip_unanswered: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.skip_unanswered = skip_unanswered

    def compute_metrics(self, results: list) -> dict:
        self._require_results(results)
        column = self._column
        return videomme_accuracy(
            column(results, 'pred_text'), column(results, 'gt_answer'),
            column(results, 'duration_category'), column(results, 'domain'),
            column(results, 'task_type'),
            column(results, 'sub_category', optional=True),
            skip_unanswered=self.skip_unanswered)


@METRICS.register_module()
class MLVUAccuracy(_BenchmarkMetric):
    """MLVU multiple-choice accuracy with the official ``check_ans`` rule:
    per task, ``M-Avg`` (mean of the tasks) and ``Avg`` (pooled), in
    percent.

    Data sample keys: ``pred_text`` (the output after ``"Best option:("``),
    ``gt_answer`` (letter) and ``task_type``.

    Args:
        **kwargs: ``sources`` and :class:`TaskMetric`'s arguments;
            ``prefix`` defaults to ``'mlvu'``.
    """
    default_prefix = 'mlvu'
    required_keys = ('pred_text', 'gt_answer', 'task_type')

    def compute_metrics(self, results: list) -> dict:
        self._require_results(results)
        return mlvu_accuracy(*(self._column(results, key)
                               for key in self.required_keys))


@METRICS.register_module()
class MMIUAccuracy(_BenchmarkMetric):
    """MMIU accuracy with the official choice extraction (a bare letter)
    and, instead of its GPT-4o-mini matching of other outputs, the offline
    :func:`~tpo.evaluation.functional.mcq_benchmarks.mmiu_match_option`:
    per task and ``Overall`` (mean of the tasks), in percent.

    Data sample keys: ``pred_text``, ``gt_answer`` (letter), ``task_type``
    and optional ``candidates`` (option texts, for matching outputs that are
    not a letter).

    Args:
        **kwargs: ``sources`` and :class:`TaskMetric`'s arguments;
            ``prefix`` defaults to ``'mmiu'``.
    """
    default_prefix = 'mmiu'
    required_keys = ('pred_text', 'gt_answer', 'task_type')
    optional_keys = ('candidates', )

    def compute_metrics(self, results: list) -> dict:
        self._require_results(results)
        options = [r.get('candidates') for r in results]
        return mmiu_accuracy(
            self._column(results, 'pred_text'),
            self._column(results, 'gt_answer'),
            self._column(results, 'task_type'),
            options=options)


@METRICS.register_module()
class SEEDBench2Accuracy(_BenchmarkMetric):
    """SEED-Bench-2 accuracy (first character of the output against the GT
    letter): per dimension, per subpart (when every sample has
    ``subpart``) and ``Overall`` (pooled), in percent.

    Data sample keys: ``pred_text``, ``gt_answer`` (letter), ``task_type``
    (the dimension name) and optional ``subpart``.

    Args:
        **kwargs: ``sources`` and :class:`TaskMetric`'s arguments;
            ``prefix`` defaults to ``'seedbench2'``.
    """
    default_prefix = 'seedbench2'
    required_keys = ('pred_text', 'gt_answer', 'task_type')
    optional_keys = ('subpart', )

    def compute_metrics(self, results: list) -> dict:
        self._require_results(results)
        return seedbench2_accuracy(
            self._column(results, 'pred_text'),
            self._column(results, 'gt_answer'),
            self._column(results, 'task_type'),
            self._column(results, 'subpart', optional=True))
