"""QVHighlights moment retrieval and highlight detection annotations."""
from typing import List

import numpy as np

from tpo.registry import DATASETS
from .annotation import AnnotationRecord, iter_jsonl
from .base import TPOBaseDataset

GT_FIELDS = ('relevant_windows', 'relevant_clip_ids', 'saliency_scores')


@DATASETS.register_module()
class QVHighlightsDataset(TPOBaseDataset):
    """QVHighlights ``highlight_{split}_release.jsonl``: one item per query.

    Each line is ``{qid, query, vid, duration, relevant_windows,
    relevant_clip_ids, saliency_scores}`` (see the dataset's
    ``DATA_README.md``); the video is ``{data_prefix.video}/{vid}.mp4``. The
    test split has no GT fields, which are then read only when present
    (``test_mode=True``).

    Items: ``video_path``, ``task='temporal'``, ``source``, ``qid``,
    ``query``, ``vid``, ``duration`` (float, s) and, when annotated,
    ``relevant_windows`` ``(K, 2)`` float32 ``[start, end]`` seconds,
    ``relevant_clip_ids`` ``(N,)`` int64 (clip ``i`` covers ``[2i, 2i+2)`` s)
    and ``saliency_scores`` ``(N, 3)`` float32 (0-4 from three annotators).

    Files converted from other grounding datasets
    (``tools/dataset_converters/temporal_to_qvh.py``: DiDeMo, ActivityNet
    Captions, TACoS, QuerYD, HiREST, Ego4D-NLQ) have no saliency: read them
    with ``require_saliency=False``; their items then have no
    ``relevant_clip_ids`` / ``saliency_scores`` (the temporal heads fall back
    to window targets).

    Args:
        require_saliency (bool): Whether an annotated line must have
            ``relevant_clip_ids`` and ``saliency_scores``. With False, a line
            may have neither (not only one of them). Defaults to True.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'temporal'
    METAINFO = dict(dataset_name='qvhighlights')

    def __init__(self, *args, require_saliency: bool = True,
                 **kwargs) -> None:
        self.require_saliency = require_saliency
        super().__init__(*args, **kwargs)

    def parse_data_list(self) -> List[dict]:
        """One item per line of the jsonl file."""
        return self.parse_each(
            self._parse_row,
            (AnnotationRecord(self.ann_file, f'line {n}', row, 'qid')
             for n, row in iter_jsonl(self.ann_file)))

    def _parse_row(self, record: AnnotationRecord) -> dict:
        vid = record.text('vid')
        duration = float(record.fetch('duration', (int, float)))
        if duration <= 0:
            raise record.error('duration', f'must be positive, got {duration}')
        item = dict(
            video_path=self.video_path(f'{vid}.mp4'),
            qid=record.fetch('qid', (int, str)),
            query=record.text('query'),
            vid=vid,
            duration=duration)
        if self.test_mode and not any(f in record for f in GT_FIELDS):
            return item
        windows = record.array('relevant_windows', np.float32, 2)
        if len(windows) == 0:
            raise record.error('relevant_windows', 'is empty')
        # compared in float32, as the windows are stored (an end equal to a
        # non-integer duration, e.g. 55.15, is larger once widened)
        limit = float(np.float32(duration))
        for start, end in windows.tolist():
            if not 0 <= start <= end <= limit:
                raise record.error(
                    'relevant_windows',
                    f'has window [{start:g}, {end:g}], outside 0 <= start <= '
                    f'end <= duration ({duration:g})')
        item['relevant_windows'] = windows
        if not self.require_saliency and not any(
                f in record for f in GT_FIELDS[1:]):
            return item
        clip_ids = record.array('relevant_clip_ids', np.int64)
        scores = record.array('saliency_scores', np.float32, 3)
        if len(scores) != len(clip_ids):
            raise record.error(
                'saliency_scores',
                f'has {len(scores)} rows for {len(clip_ids)} '
                'relevant_clip_ids')
        item.update(relevant_clip_ids=clip_ids, saliency_scores=scores)
        return item
