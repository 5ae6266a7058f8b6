"""Write every test sample's predictions to a file (``tools/test.py --out``)."""
import json
import os.path as osp
from typing import Sequence

import mmengine
from mmengine.evaluator import BaseMetric

from tpo.registry import METRICS
from .utils import to_numpy

# Sample fields left out of the dump: model inputs that the metrics never
# read (the cached clip features are megabytes per video).
EXCLUDED_KEYS = ('clip_features', 'inputs')


@METRICS.register_module()
class DumpPredictions(BaseMetric):
    """Save the predictions (and ground truth) of each sample: every field
    of the data sample except :data:`EXCLUDED_KEYS`, so that
    ``tools/analysis_tools/eval_predictions.py`` can score the file with a
    config's metrics again.

    ``.json`` files hold a list of plain dicts; ``.pkl`` files the same list
    with numpy arrays (smaller and faster for masks). Reports no metric.
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
            for key, value in sample.items():
                if key in EXCLUDED_KEYS:
                    continue
                record[key] = value if isinstance(
                    value, (str, int, float, bool, list, dict, tuple,
                            type(None))) else to_numpy(value)
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
