"""Write every test sample's predictions to a file (``tools/test.py --out``)."""
import json
import os.path as osp
from typing import Sequence

import mmengine
from mmengine.evaluator import BaseMetric

from tpo.registry import METRICS
from .utils import to_numpy

PREDICTION_KEYS = ('sample_idx', 'source', 'task', 'video_path', 'task_type',
                   'gt_task', 'pred_task', 'gt_answer', 'pred_text',
                   'gt_bboxes', 'pred_bboxes', 'pred_scores')


@METRICS.register_module()
class DumpPredictions(BaseMetric):
    """Save the predictions (and ground truth) of each sample.

    ``.json`` files hold a list of plain dicts with the keys of
    ``PREDICTION_KEYS`` that a sample has; ``.pkl`` files the same list with
    numpy arrays. Reports no metric.
    """

    def __init__(self, out_file: str, collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not out_file.endswith(('.json', '.pkl')):
            raise ValueError(f'out_file {out_file!r} must end with .json or '
                             '.pkl')
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            record = {}
            for key in PREDICTION_KEYS:
                if key in sample:
                    value = sample[key]
                    record[key] = value if isinstance(
                        value, (str, int, float)) else to_numpy(value)
            self.results.append(record)

    def compute_metrics(self, results: list) -> dict:
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(self.out_file)))
        if self.out_file.endswith('.pkl'):
            mmengine.dump(results, self.out_file)
        else:
            with open(self.out_file, 'w') as f:
                json.dump([{
                    k: v.tolist() if hasattr(v, 'tolist') else v
                    for k, v in r.items()
                } for r in results], f, indent=1)
        return {}
