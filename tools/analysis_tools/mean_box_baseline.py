"""The trivial referring-box baseline: always predict the mean training box.

    python tools/analysis_tools/mean_box_baseline.py CONFIG

Reads the train and test referring datasets of CONFIG (the RefCOCO-style
readers in its ``train_dataloader`` / ``test_dataloader``), averages the
training boxes in normalised cxcywh, predicts that box (scaled to each test
image) for every test expression and scores it with the same Acc@0.5 as the
model.
"""
import argparse
import json
from typing import List

import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tpo.evaluation.functional import referring_accuracy
from tpo.registry import DATASETS


def region_items(dataset_cfg: dict) -> List[dict]:
    """The annotations (no pipeline run) of the region samples of a
    dataset config."""
    dataset = DATASETS.build(dataset_cfg)
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return [info for info in infos if info['task'] == 'region']


def normalised_cxcywh(item: dict) -> np.ndarray:
    x1, y1, x2, y2 = np.asarray(item['gt_bboxes'], np.float64).reshape(-1)[:4]
    h, w = item['ori_shape']
    return np.array([(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w,
                     (y2 - y1) / h])


def mean_box_accuracy(train_items: List[dict],
                      test_items: List[dict]) -> dict:
    """Acc@0.5 (percent) of the mean training box on the test items."""
    cx, cy, bw, bh = np.mean([normalised_cxcywh(i) for i in train_items], 0)
    preds, gts = [], []
    for item in test_items:
        h, w = item['ori_shape']
        preds.append(np.array([[(cx - bw / 2) * w, (cy - bh / 2) * h,
                                (cx + bw / 2) * w, (cy + bh / 2) * h]]))
        gts.append(np.asarray(item['gt_bboxes'], np.float64).reshape(-1)[:4])
    result = referring_accuracy(preds, [None] * len(preds), gts, thr=0.5)
    return {
        'Acc@0.5': result['accuracy'],
        'mean_box_cxcywh': [cx, cy, bw, bh],
        'num_train': len(train_items),
        'num_test': len(test_items)
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'tpo'))
    result = mean_box_accuracy(
        region_items(cfg.train_dataloader.dataset),
        region_items(cfg.test_dataloader.dataset))
    print(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
