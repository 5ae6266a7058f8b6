"""NExT-GQA grounded video QA metric."""
import logging
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from tpo.registry import METRICS
from tpo.utils import describe_sample
from ..functional.nextgqa import nextgqa_eval, nextgqa_parse_option
from .utils import TaskMetric, require_key, to_numpy


def _gt_index(gt_answer: str, num_options: int, sample: dict) -> int:
    """The option index of a GT answer ``"(X) text"``."""
    index = nextgqa_parse_option(gt_answer, num_options)
    if index is None:
        raise ValueError(f'NExTGQAMetric cannot read the option of gt_answer '
                         f'{gt_answer!r} in {describe_sample(sample)}.')
    return index


@METRICS.register_module()
class NExTGQAMetric(TaskMetric):
    """NExT-GQA Acc@QA, Acc@GQA, mIoP, IoP@0.3/0.5, mIoU, IoU@0.3/0.5 and
    the accuracy per question type, in percent, as the official
    ``eval_ground.py`` / ``eval_next.py`` compute them (see
    :mod:`tpo.evaluation.functional.nextgqa`).

    Data sample keys (as :class:`~tpo.datasets.NExTGQADataset` and the
    model give them):

    * ``qid``: ``'{video_id}_{qid}'``, the key of the official scripts.
    * The answer: ``pred_answer`` (the option index) or ``pred_text`` (the
      output after ``'Best option:('``, read by
      :func:`~tpo.evaluation.functional.nextgqa.nextgqa_parse_option`);
      ``candidates`` and ``gt_answer`` (``"(X) text"``). It is right when
      the picked option's text is the answer's (one test question lists its
      answer twice).
    * ``pred_windows``: ``(K, 2)`` or ``(K, 3)`` spans, best first; the first
      is scored (``K = 0`` is a miss; so is a sample without the field,
      and such samples are counted in a warning). Seconds, or fractions of
      the video with ``normalized=True``.
    * Without ``gsub_file``: ``gt_windows`` ``(M, 2)`` seconds (all GT
      segments of the question) and, with ``normalized``, ``duration``.
    * ``task_type`` (the question type) when ``per_type``.

    Args:
        gsub_file (str, optional): The ``gsub_{val,test}.json`` of the split.
            GT segments and durations are then read from it by ``qid``, in
            double precision as the official script reads them (the
            ``gt_windows`` of a packed sample are float32). Defaults to None.
        normalized (bool): The predicted spans are fractions of the video
            (``eval_ground(..., gs=True)``). Defaults to False.
        per_type (bool): Also report ``Acc@QA/{Why,How,Bef&Aft,When,Acc_C,
            Acc_T}``. Defaults to True.
        **kwargs: ``tasks``, ``collect_device``, ``prefix``,
            ``collect_dir`` of :class:`TaskMetric`.
    """
    default_prefix = 'nextgqa'

    def __init__(self,
                 gsub_file: Optional[str] = None,
                 normalized: bool = False,
                 per_type: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.gsub_file = gsub_file
        self.normalized = normalized
        self.per_type = per_type
        self._gsub = None

    def _ground_truth(self, sample: dict, qid: str):
        """``(segments (M, 2) float64, duration or None)`` of a question."""
        if self.gsub_file is None:
            segments = to_numpy(require_key(sample, 'gt_windows', self))
            segments = segments.astype(np.float64).reshape(-1, 2)
            if len(segments) == 0:
                raise ValueError(f'NExTGQAMetric got empty gt_windows in '
                                 f'{describe_sample(sample)}.')
            duration = (float(require_key(sample, 'duration', self))
                        if self.normalized else None)
            return segments, duration
        if self._gsub is None:
            from tpo.datasets.nextgqa import load_gsub
            self._gsub = load_gsub(self.gsub_file)
        video_id, _, question_id = str(qid).rpartition('_')
        entry = self._gsub.get(video_id)
        if entry is None or question_id not in entry['location']:
            raise KeyError(f'NExTGQAMetric: qid {qid!r} of '
                           f'{describe_sample(sample)} has no segment in '
                           f'{self.gsub_file}.')
        return entry['location'][question_id], entry['duration']

    def _correct(self, sample: dict) -> bool:
        """Whether the sample's answer picks the GT option's text."""
        candidates = list(require_key(sample, 'candidates', self))
        gt = _gt_index(require_key(sample, 'gt_answer', self),
                       len(candidates), sample)
        if sample.get('pred_answer') is not None:
            pred = int(to_numpy(sample['pred_answer']).reshape(-1)[0])
            if not 0 <= pred < len(candidates):
                return False
        else:
            pred = nextgqa_parse_option(
                require_key(sample, 'pred_text', self), len(candidates))
            if pred is None:
                return False
        return candidates[pred] == candidates[gt]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the span, the GT segments and the answer's correctness of
        each sample."""
        for sample in self.selected(data_samples):
            qid = require_key(sample, 'qid', self)
            windows = sample.get('pred_windows')
            windows = np.zeros((0, 2)) if windows is None else \
                to_numpy(windows).astype(np.float64)
            windows = windows.reshape(-1, windows.shape[-1]
                                      if windows.ndim else 2)
            segments, duration = self._ground_truth(sample, qid)
            self.results.append(
                dict(
                    qid=str(qid),
                    span=windows[0, :2] if len(windows) else None,
                    no_window='pred_windows' not in sample,
                    segments=segments,
                    duration=duration,
                    correct=self._correct(sample),
                    task_type=(require_key(sample, 'task_type', self)
                               if self.per_type else None)))

    def compute_metrics(self, results: list) -> dict:
        """The official numbers, in percent."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        qids = [r['qid'] for r in results]
        if len(set(qids)) != len(qids):
            raise ValueError(f'{type(self).__name__} got duplicate qids.')
        no_window = [r['qid'] for r in results if r.get('no_window')]
        if no_window:
            print_log(
                f'{type(self).__name__}: {len(no_window)} of {len(results)} '
                f'questions have no pred_windows (scored as misses), e.g. '
                f'{no_window[:3]}; does the model have a temporal head and '
                'do the samples carry grounding_question?', 'current',
                level=logging.WARNING)
        return nextgqa_eval([r['span'] for r in results],
                            [r['segments'] for r in results],
                            [r['correct'] for r in results],
                            task_types=([r['task_type'] for r in results]
                                        if self.per_type else None),
                            durations=[r['duration'] for r in results],
                            normalized=self.normalized)
