"""Predictions written in each benchmark's official submission format
(``tools/test.py --submission-dir``). These metrics report no number."""
import json
import logging
import os
import os.path as osp
import zipfile
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from PIL import Image

from tpo.registry import METRICS
from .utils import (TaskMetric, predicted_mask_frames, require_key,
                    to_numpy)


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
    """Result files of the single-object tracking toolkits, one ``x,y,w,h``
    line (pixels of the original frame) per predicted frame, in frame
    order. Those score every frame of a sequence: use the full-video mask
    head (or sample every frame). A sequence without ``pred_track_bboxes``
    gets an empty file (warned).

    ``layout='lasot'`` (the LaSOT toolkit's): ``<out_dir>/<sequence>.txt``.
    ``layout='got10k'`` (got10k-toolkit's, what its server reads):
    ``<out_dir>/<sequence>/<sequence>_001.txt`` and, from the per-frame
    ``pred_track_seconds``, ``<sequence>_time.txt``; the folders are also
    zipped into ``<out_dir>.zip`` for upload.

    Args:
        out_dir: folder of the result files.
        layout: ``'lasot'`` or ``'got10k'``.
        **kwargs: ``tasks`` (default ``('track',)``), ... of
            :class:`TaskMetric`.
    """

    def __init__(self, out_dir: str, layout: str = 'lasot',
                 tasks=('track', ), **kwargs) -> None:
        super().__init__(tasks=tasks, **kwargs)
        if layout not in ('lasot', 'got10k'):
            raise ValueError(f"layout must be 'lasot' or 'got10k', got "
                             f'{layout!r}.')
        self.out_dir = out_dir
        self.layout = layout
        self.missing = 0

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in self.selected(data_samples):
            if 'pred_track_bboxes' not in sample:
                self.missing += 1
            boxes = to_numpy(sample.get('pred_track_bboxes',
                                        np.zeros((0, 4))))
            seconds = sample.get('pred_track_seconds')
            self.results.append(
                (str(require_key(sample, 'sequence', self)),
                 boxes.astype(np.float64).reshape(-1, 4),
                 None if seconds is None else
                 to_numpy(seconds).astype(np.float64).reshape(-1)))

    def compute_metrics(self, results: list) -> dict:
        _warn_missing(self, self.missing, 'pred_track_bboxes')
        self.missing = 0
        os.makedirs(self.out_dir, exist_ok=True)
        for sequence, boxes, seconds in results:
            if self.layout == 'lasot':
                np.savetxt(osp.join(self.out_dir, f'{sequence}.txt'), boxes,
                           fmt='%.4f', delimiter=',')
                continue
            folder = osp.join(self.out_dir, sequence)
            os.makedirs(folder, exist_ok=True)
            np.savetxt(osp.join(folder, f'{sequence}_001.txt'), boxes,
                       fmt='%.4f', delimiter=',')
            if seconds is not None:
                np.savetxt(osp.join(folder, f'{sequence}_time.txt'),
                           seconds, fmt='%.8f')
        if self.layout == 'got10k' and results:
            zip_folder(self.out_dir, [r[0] for r in results],
                       self.out_dir.rstrip('/') + '.zip')
        return {}


@METRICS.register_module()
class MaskSubmission(TaskMetric):
    """``<out_dir>/Annotations/<vid>/<exp_id>/<frame name>.png``: one binary
    PNG (0/255) per predicted frame, and ``<out_dir>/submission.zip``
    holding that ``Annotations/`` folder: the submission of the MeViS and
    Ref-YouTube-VOS servers, which expect a PNG for every frame listed in
    ``meta_expressions.json`` (use the full-video mask head). Frames come
    from ``pred_masks`` at ``frame_inds`` or from ``pred_mask_rles`` at
    ``pred_frame_inds``; their names from ``frame_names`` (else the frame
    index, zero-padded to 5 digits). A sample without a prediction writes
    none (counted in a warning).

    Args:
        out_dir: the submission folder.
        zip_name: the archive written in ``out_dir``; None writes none.
        **kwargs: ``tasks`` (default ``('mask',)``), ... of
            :class:`TaskMetric`.
    """

    def __init__(self, out_dir: str, zip_name: Optional[str] = 'submission.zip',
                 tasks=('mask', ), **kwargs) -> None:
        super().__init__(tasks=tasks, **kwargs)
        self.out_dir = out_dir
        self.zip_name = zip_name
        self.missing = 0

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Write the PNGs at once (masks are large); keep the paths."""
        for sample in self.selected(data_samples):
            if 'pred_masks' not in sample and \
                    'pred_mask_rles' not in sample:
                self.missing += 1
                continue
            names = sample.get('frame_names')
            folder = osp.join(self.out_dir, 'Annotations',
                              str(require_key(sample, 'vid', self)),
                              str(require_key(sample, 'exp_id', self)))
            os.makedirs(folder, exist_ok=True)
            for index, mask in predicted_mask_frames(sample, self):
                name = names[index] if names else f'{index:05d}'
                path = osp.join(folder, f'{name}.png')
                Image.fromarray(mask.astype(np.uint8) * 255).save(path)
                self.results.append(path)

    def compute_metrics(self, results: list) -> dict:
        _warn_missing(self, self.missing, 'pred_masks')
        self.missing = 0
        if self.zip_name and results:  # no masks predicted: no archive
            zip_folder(self.out_dir, ['Annotations'],
                       osp.join(self.out_dir, self.zip_name))
        return {}


def zip_folder(root: str, names: Sequence[str], archive: str) -> str:
    """Zip ``root/<name>`` for each of ``names`` (files or folders, stored
    under their paths relative to ``root``) into ``archive``."""
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_DEFLATED) as out:
        for name in names:
            top = osp.join(root, name)
            if osp.isfile(top):
                out.write(top, name)
                continue
            for folder, _, files in sorted(os.walk(top)):
                for file in sorted(files):
                    path = osp.join(folder, file)
                    out.write(path, osp.relpath(path, root))
    return archive
