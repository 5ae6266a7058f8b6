"""Train (or reuse) the miniature's SAM2 stand-in and score it.

    python tools/pretrain_sam2_standin.py configs/tpo/tiny_stage1.py \\
        [--cache-dir work_dirs/standins] [--data-root DIR] [--iters N] \\
        [--eval N] [--out results.json]

Trains the SAM2 of the config's mask head on the synthetic world's masks
from box prompts (``tpo.engine.sam2_standin``), caches it keyed by its
settings, and prints the path to load with
``--cfg-options model.heads.mask.pretrained=PATH``. With ``--eval N`` it
also scores, on ``N`` held-out masklets of the world's MeViS val split, the
mask IoU from ground-truth-box prompts of the stand-in and of the same SAM2
at its random initialisation (per frame, and through SAM2's memory from the
first frame's box).
"""
import argparse
import json
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from tpo.engine.sam2_standin import (WorldMasklets, box_prompt_iou,  # noqa
                                     build_head, ensure_sam2_standin,
                                     head_cfg_of)
from tpo.models.utils.pretrained import load_pretrained  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config with model.heads.mask')
    parser.add_argument('--cache-dir', default='work_dirs/standins')
    parser.add_argument('--data-root', help="the world (the config's)")
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--eval', type=int, default=0, metavar='N',
                        help='score the stand-in on N val masklets')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    path = ensure_sam2_standin(args.config, args.cache_dir, args.data_root,
                               iters=args.iters, batch_size=args.batch_size)
    result = dict(standin=path)
    if args.eval:
        head_cfg, data_root = head_cfg_of(args.config)
        data_root = args.data_root or data_root
        torch.manual_seed(0)
        head = build_head(head_cfg)
        val = WorldMasklets(osp.join(data_root, 'mevis', 'val'),
                            head.image_size)
        result['random'] = box_prompt_iou(head, val, args.eval)
        load_pretrained(head.sam, path, owner='SAM2 stand-in')
        result['standin_iou'] = box_prompt_iou(head, val, args.eval)
        result['num_masklets'] = args.eval
        print('| SAM2 | mask IoU, each frame from its GT box | mask IoU '
              'through memory from the first box |\n|---|---|---|')
        for name in ('random', 'standin_iou'):
            print(f"| {name} | {result[name]['image']:.1f} | "
                  f"{result[name]['video']:.1f} |")
    print(path)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
