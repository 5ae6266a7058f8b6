"""Trivial baselines of the synthetic world's test split: predictions that
look at no video, scored by a config's own test evaluator.

    python tools/analysis_tools/trivial_baselines.py CONFIG

Each baseline fills every prediction a metric reads:

- ``blind``: the mean training box (``mean_box_baseline.py``), the whole
  video as the moment, no mask, the tracking prompt's box held still in
  every frame, option A of every multiple-choice question;
- ``full_frame``: the same with a mask covering the whole frame, and the
  whole frame as the tracking box.

``mvbench/chance`` is the expected accuracy of a uniformly random option.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from analysis_tools.mean_box_baseline import (  # noqa: E402
    normalised_cxcywh, region_items)

BASELINES = ('blind', 'full_frame')


def fill_predictions(sample, mean_box: np.ndarray, baseline: str) -> None:
    """Write ``baseline``'s predictions into a packed test sample."""
    height, width = sample.ori_shape[:2]
    cx, cy, w, h = (float(v) for v in mean_box)
    sample.pred_bboxes = torch.tensor(
        [[(cx - w / 2) * width, (cy - h / 2) * height,
          (cx + w / 2) * width, (cy + h / 2) * height]])
    sample.pred_windows = torch.tensor([[0.0, sample.get('duration', 0),
                                         1.0]])
    if 'gt_masks' in sample:
        fill = torch.ones_like if baseline == 'full_frame' else \
            torch.zeros_like
        sample.pred_masks = fill(sample.gt_masks)
    if 'prompt_bboxes' in sample:
        x1, y1, x2, y2 = sample.prompt_bboxes[0].tolist()
        box = [0.0, 0.0, width, height] if baseline == 'full_frame' else \
            [x1, y1, x2 - x1, y2 - y1]
        sample.pred_track_bboxes = torch.tensor(
            [box], dtype=torch.float32).repeat(len(sample.gt_track_bboxes), 1)
    sample.pred_text = 'A'


def trivial_metrics(cfg, baselines=BASELINES) -> Dict[str, Dict[str, float]]:
    """``{baseline: metrics}`` of ``cfg``'s test split (its evaluator
    without task assignment), plus ``{'chance': {'mvbench/Avg': ...}}``
    when the split has multiple-choice questions."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope

    from tpo.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'tpo'))
    mean_box = np.mean([
        normalised_cxcywh(item)
        for item in region_items(cfg.train_dataloader.dataset)
    ], 0)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    samples = [dataset[i]['data_samples'] for i in range(len(dataset))]
    results = {}
    for baseline in baselines:
        evaluator = Evaluator([
            m for m in cfg.test_evaluator
            if m['type'] != 'TaskAssignAccuracy'
        ])
        for sample in samples:
            fill_predictions(sample, mean_box, baseline)
            evaluator.process([sample])
        results[baseline] = evaluator.evaluate(len(samples))
    options = [len(s.candidates) for s in samples if 'candidates' in s]
    if options:
        results['chance'] = {
            'mvbench/Avg': 100 * float(np.mean([1 / n for n in options]))
        }
    return results


def main(argv=None) -> Dict[str, Dict[str, float]]:
    from mmengine.config import Config
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    args = parser.parse_args(argv)
    results = trivial_metrics(Config.fromfile(args.config))
    print(json.dumps(results, indent=1))
    return results


if __name__ == '__main__':
    main()
