"""Predictions written in each benchmark's official submission format
(``tools/test.py --submission-dir``). These metrics report no number."""
import json
import os
import os.path as osp
from typing import Sequence

import logging

import numpy as np
from mmengine.logging import print_log
from PIL import Image

from tpo.registry import METRICS
from .utils import TaskMetric, require_key, to_numpy


def _warn_missing(metric: TaskMetric, count: int, key: str) -> None:
    """Say how many samples had no prediction (no head serves their task,
    or the model did not call it)."""
    if count:
        print_log(
            f'{type(metric).__name__}: {count} sample(s) without {key!r} '
            '(no head serves their task?) written as empty predictions.',
            logger='current', level=logging.WARNING)


@METRICS.register_module()
class QVHighlightsSubmission(TaskMetric):
    """``hl_val_submission.jsonl``-style rows, one per query: ``qid``,
    ``query``, ``vid``, ``pred_relevant_windows`` ``[[start, end, score],
    ...]`` (seconds) and, when predicted, ``pred_saliency_scores`` (one per
    2-s clip), as the QVHighlights server and ``standalone_eval`` read. A
    query without ``pred_windows`` gets an empty list (a miss; counted in
    a warning).

    Args:
        out_file: the ``.jsonl`` to write.
        **kwargs: ``tasks`` (default ``('temporal',)``), ... of
            :class:`TaskMetric`.
    """

    def __init__(self, out_file: str, tasks=('temporal', ), **kwargs) -> None:
        super().__init__(tasks=tasks, **kwargs)
        if not out_file.endswith('.jsonl'):
            raise ValueError(f'out_file {out_file!r} must end with .jsonl')
        self.out_file = out_file
        self.missing = 0

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in self.selected(data_samples):
            if 'pred_windows' not in sample:
                self.missing += 1
            windows = to_numpy(sample.get('pred_windows', np.zeros((0, 3))))
            row = dict(
                qid=require_key(sample, 'qid', self),
                query=sample.get('query'),
                vid=sample.get('vid'),
                pred_relevant_windows=windows.astype(np.float64).reshape(
                    -1, 3).tolist())
            if sample.get('pred_saliency') is not None:
                row['pred_saliency_scores'] = to_numpy(
                    sample['pred_saliency']).astype(np.float64).tolist()
            self.results.append(row)

    def compute_metrics(self, results: list) -> dict:
        _warn_missing(self, self.missing, 'pred_windows')
        self.missing = 0
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        with open(self.out_file, 'w') as f:
            for row in sorted(results, key=lambda r: str(r['qid'])):
                f.write(json.dumps(row) + '\n')
        return {}


@METRICS.register_module()
class TrackingSubmission(TaskMetric):
    """``<out_dir>/<sequence>.txt`` with one ``x,y,w,h`` line (pixels of
    the original frame) per predicted frame, in frame order: the result
    files of the LaSOT / GOT-10k toolkits. Those score every frame of a
    sequence, so sample every frame in the test pipeline for them. A
    sequence without ``pred_track_bboxes`` gets an empty file (warned).

    Args:
        out_dir: folder of the result files.
        **kwargs: ``tasks`` (default ``('track',)``), ... of
            :class:`TaskMetric`.
    """

    def __init__(self, out_dir: str, tasks=('track', ), **kwargs) -> None:
        super().__init__(tasks=tasks, **kwargs)
        self.out_dir = out_dir
        self.missing = 0

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in self.selected(data_samples):
            if 'pred_track_bboxes' not in sample:
                self.missing += 1
            boxes = to_numpy(sample.get('pred_track_bboxes',
                                        np.zeros((0, 4))))
            self.results.append(
                (str(require_key(sample, 'sequence', self)),
                 boxes.astype(np.float64).reshape(-1, 4)))

    def compute_metrics(self, results: list) -> dict:
        _warn_missing(self, self.missing, 'pred_track_bboxes')
        self.missing = 0
        os.makedirs(self.out_dir, exist_ok=True)
        for sequence, boxes in results:
            path = osp.join(self.out_dir, f'{sequence}.txt')
            np.savetxt(path, boxes, fmt='%.4f', delimiter=',')
        return {}


@METRICS.register_module()
class MaskSubmission(TaskMetric):
    """``<out_dir>/Annotations/<vid>/<exp_id>/<frame name>.png``: one binary
    PNG (0/255) per predicted frame, the submission layout of MeViS and
    Ref-YouTube-VOS (a sample without ``pred_masks`` writes none; they are
    counted in a warning). Frame names come from ``frame_names`` at the sample's
    ``frame_inds`` (else the frame index, zero-padded to 5 digits).

    Args:
        out_dir: the submission folder.
        **kwargs: ``tasks`` (default ``('mask',)``), ... of
            :class:`TaskMetric`.
    """

    def __init__(self, out_dir: str, tasks=('mask', ), **kwargs) -> None:
        super().__init__(tasks=tasks, **kwargs)
        self.out_dir = out_dir
        self.missing = 0

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Write the PNGs at once (masks are large); keep the paths."""
        for sample in self.selected(data_samples):
            if 'pred_masks' not in sample:
                self.missing += 1
                continue
            masks = to_numpy(sample['pred_masks'])
            inds = sample.get('frame_inds', range(len(masks)))
            names = sample.get('frame_names')
            folder = osp.join(self.out_dir, 'Annotations',
                              str(require_key(sample, 'vid', self)),
                              str(require_key(sample, 'exp_id', self)))
            os.makedirs(folder, exist_ok=True)
            for mask, index in zip(masks, inds):
                name = names[int(index)] if names else f'{int(index):05d}'
                path = osp.join(folder, f'{name}.png')
                Image.fromarray(mask.astype(np.uint8) * 255).save(path)
                self.results.append(path)

    def compute_metrics(self, results: list) -> dict:
        _warn_missing(self, self.missing, 'pred_masks')
        self.missing = 0
        return {}
