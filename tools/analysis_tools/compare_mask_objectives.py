"""Compare the training objectives of the SAM2 mask head's adapter on the
synthetic world's MeViS-style data.

    python tools/analysis_tools/compare_mask_objectives.py \\
        [--train-videos 12] [--val-videos 4] [--steps 120] [--image-size 128]

A small synthetic world is generated (or reused with ``--world``); every
MeViS expression becomes a clip of ``--num-frames`` frames spread evenly over
its video, with the union mask of its objects. A frozen, randomly initialised
tiny SAM2 (``sam2.1_hiera_t``; no weights are available offline) is shared by
all runs. The task embedding that stands in for the LLM's hidden state at the
mask token is fixed and frozen: Fourier features, under one fixed random
projection, of the normalised box of the expression's objects on the first
frame that shows them. It thus carries where the referred object starts, as
the hidden state of a well-trained MLLM would, and nothing else. From one
initialisation, the adapter is trained with each objective for the same
number of steps and batch size (AdamW), then every val expression is
segmented (frame 0 prompted by the adapter, the rest propagated by SAM2's
memory) and scored by the repository's ``ReferringVOSMetric`` (J, F, J&F)
plus the mean J on the prompted and on the propagated frames.

Reference rows on the same val clips: the untrained adapter, SAM2 prompted
by its own encoding of the ground-truth box (what ``prompt_distill``
imitates) and the ground-truth first box filled as a static mask on every
frame. With random SAM2 weights the absolute numbers say little about a real
checkpoint; the comparison shows what each objective can make a frozen
decoder do.
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import sys
import time
from typing import Dict, List

import cv2
import numpy as np
import torch

from tpo.datasets.mevis import decode_masks
from tpo.evaluation.metrics.mask_and_tracking import ReferringVOSMetric
from tpo.models.heads.sam2_mask_head import SAM2MaskHead
from tpo.models.utils import freeze_modules, keep_in_eval
from tpo.structures.masks import mask_box_xyxy
from tpo.structures import TPODataSample

MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)


def load_clips(world: str, split: str, num_frames: int) -> List[dict]:
    """One clip per MeViS expression: frames ``(T, 3, H, W)`` normalised as
    by ``TPODataPreprocessor``, masks ``(T, H, W)`` and the normalised xyxy
    box of the first frame that shows the object(s)."""
    root = osp.join(world, 'mevis', split)
    with open(osp.join(root, 'meta_expressions.json')) as f:
        videos = json.load(f)['videos']
    with open(osp.join(root, 'mask_dict.json')) as f:
        mask_dict = json.load(f)
    clips = []
    for vid, video in sorted(videos.items()):
        names = video['frames']
        inds = np.linspace(0, len(names) - 1, num_frames).round().astype(int)
        images = []
        for ind in inds:
            bgr = cv2.imread(osp.join(root, 'JPEGImages', vid,
                                      names[ind] + '.jpg'))
            images.append(bgr[:, :, ::-1].astype(np.float32))
        frames = (np.stack(images) - MEAN) / STD
        frames = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
        shape = images[0].shape[:2]
        for exp_id, exp in sorted(video['expressions'].items()):
            rles = [mask_dict[str(a)] for a in exp['anno_id']]
            masks = torch.from_numpy(decode_masks(rles, shape, inds))
            box = None
            for frame in masks:
                box = mask_box_xyxy(frame)
                if box is not None:
                    break
            if box is None:
                continue  # not visible in any sampled frame
            h, w = shape
            clips.append(dict(
                name=f'{vid}/{exp_id}', expression=exp['exp'], frames=frames,
                masks=masks, shape=shape,
                box=box / torch.tensor([w, h, w, h], dtype=torch.float)))
    return clips


class BoxEmbedding:
    """Fixed ``(4,) -> (dims,)`` Fourier features of a normalised box under
    a fixed random projection (the frozen stand-in task embedding)."""

    def __init__(self, dims: int, seed: int, scale: float = 3.0) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.freqs = torch.randn(4, dims // 2, generator=gen) * scale

    def __call__(self, box: torch.Tensor) -> torch.Tensor:
        angles = 2 * np.pi * box.view(1, 4) @ self.freqs
        return torch.cat([angles.sin(), angles.cos()], 1)


def sample_of(clip: dict) -> TPODataSample:
    sample = TPODataSample(metainfo=dict(ori_shape=clip['shape'],
                                         sample_idx=clip['name']))
    sample.gt_masks = clip['masks']
    return sample


def train(head: SAM2MaskHead, clips: List[dict], embed: BoxEmbedding,
          objective: str, steps: int, batch_size: int, lr: float,
          seed: int) -> dict:
    head.objectives = (objective, )
    head.train()
    keep_in_eval(head, head.frozen_submodules)
    optim = torch.optim.AdamW(head.adapter.parameters(), lr=lr,
                              weight_decay=0.02)
    rng = np.random.default_rng(seed)
    start, log = time.time(), []
    for step in range(steps):
        batch = [clips[i] for i in rng.choice(len(clips), batch_size)]
        losses = head.loss([embed(c['box']) for c in batch],
                           dict(frames=torch.stack([c['frames']
                                                    for c in batch])),
                           [sample_of(c) for c in batch])
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            values = {k: round(v.item(), 4) for k, v in losses.items()}
            log.append(dict(step=step, **values))
            print(f'[{objective}] step {step}: ' + ', '.join(
                f'{k}={v:.4f}' for k, v in values.items()), flush=True)
    head.eval()
    return dict(train_seconds=round(time.time() - start, 1), log=log)


@torch.no_grad()
def evaluate(head: SAM2MaskHead, clips: List[dict], embed: BoxEmbedding,
             mode: str) -> Dict[str, float]:
    """``mode``: ``'adapter'``, ``'sam_box'`` or ``'static_box'``."""
    metric = ReferringVOSMetric()
    first, rest, token_l1 = [], [], []
    for clip in clips:
        h, w = clip['shape']
        if mode == 'static_box':
            x0, y0, x1, y1 = (clip['box'] * torch.tensor([w, h, w, h])
                              ).round().long().tolist()
            pred = torch.zeros_like(clip['masks'])
            pred[:, y0:y1, x0:x1] = True
        else:
            prompt = head(embed(clip['box'])) if mode == 'adapter' else None
            box = clip['box'] if mode == 'sam_box' else None
            pred = head.segment(clip['frames'], (h, w), prompt=prompt,
                                box_norm=box)['masks']
            if mode == 'adapter':
                token_l1.append(float(
                    (prompt - head.box_prompt(clip['box'])).abs().mean()))
        gt = clip['masks']
        inter = (pred & gt).flatten(1).sum(1).float()
        union = (pred | gt).flatten(1).sum(1).float()
        j = torch.where(union > 0, inter / union.clamp(min=1),
                        torch.ones_like(union))
        first.append(float(j[0]))
        rest.extend(j[1:].tolist())
        metric.process(None, [dict(pred_masks=pred, gt_masks=gt,
                                   expression_id=clip['name'])])
    scores = metric.compute_metrics(metric.results)
    out = {k: round(float(v), 2) for k, v in scores.items()}
    out['J_frame0'] = round(100 * float(np.mean(first)), 2)
    out['J_propagated'] = round(100 * float(np.mean(rest)), 2) \
        if rest else None
    if token_l1:
        out['token_L1_to_sam_box'] = round(float(np.mean(token_l1)), 4)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir',
                        default='work_dirs/compare_mask_objectives')
    parser.add_argument('--world', help='an existing synthetic world')
    parser.add_argument('--train-videos', type=int, default=12)
    parser.add_argument('--val-videos', type=int, default=4)
    parser.add_argument('--num-frames', type=int, default=4)
    parser.add_argument('--image-size', type=int, default=128)
    parser.add_argument('--embed-dims', type=int, default=64)
    parser.add_argument('--hidden-dims', type=int, default=256)
    parser.add_argument('--steps', type=int, default=120)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--pixel-frames', default='all',
                        choices=['all', 'cond'])
    parser.add_argument('--objectives', nargs='+',
                        default=['prompt_distill', 'pixel'])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.time()

    world = args.world or osp.join(args.work_dir, 'world')
    if not osp.exists(osp.join(world, 'meta.json')):
        from tpo.datasets.synthetic import generate_world
        print(f'generating the synthetic world in {world}', flush=True)
        generate_world(world, num_videos={'train': args.train_videos,
                                          'val': args.val_videos},
                       seed=args.seed, num_workers=0)
    train_clips = load_clips(world, 'train', args.num_frames)
    val_clips = load_clips(world, 'val', args.num_frames)
    print(f'{len(train_clips)} train / {len(val_clips)} val expressions',
          flush=True)

    torch.manual_seed(args.seed)
    head = SAM2MaskHead(
        in_dims=args.embed_dims, hidden_dims=args.hidden_dims,
        model_cfg='configs/sam2.1/sam2.1_hiera_t.yaml',
        image_size=args.image_size, pixel_frames=args.pixel_frames,
        objectives=tuple(args.objectives))
    freeze_modules(head, head.frozen_submodules)
    embed = BoxEmbedding(args.embed_dims, args.seed)
    init_adapter = copy.deepcopy(head.adapter.state_dict())

    results = dict(
        untrained_adapter=evaluate(head, val_clips, embed, 'adapter'),
        sam2_gt_box_prompt=evaluate(head, val_clips, embed, 'sam_box'),
        static_gt_first_box=evaluate(head, val_clips, embed, 'static_box'))
    training = {}
    for objective in args.objectives:
        head.adapter.load_state_dict(init_adapter)
        training[objective] = train(head, train_clips, embed, objective,
                                    args.steps, args.batch_size, args.lr,
                                    args.seed)
        results[objective] = evaluate(head, val_clips, embed, 'adapter')
        print(objective, results[objective], flush=True)

    report = dict(
        command='python tools/analysis_tools/compare_mask_objectives.py ' +
        ' '.join(argv if argv is not None else sys.argv[1:]),
        args=vars(args),
        hardware=dict(machine=platform.machine(),
                      processor=_cpu_name(), torch_threads=args.threads,
                      torch=torch.__version__),
        num_train_clips=len(train_clips),
        num_val_clips=len(val_clips),
        results=results,
        training=training,
        total_seconds=round(time.time() - start, 1))
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(report, f, indent=1)
    print('\n| run | J&F | J | F | J frame 0 | J propagated | token L1 |')
    print('|---|---|---|---|---|---|---|')
    for name, row in results.items():
        print(f"| {name} | {row['J&F']} | {row['J']} | {row['F']} | "
              f"{row['J_frame0']} | {row['J_propagated']} | "
              f"{row.get('token_L1_to_sam_box', '-')} |")
    print(f"total {report['total_seconds']} s; written to "
          f"{osp.join(args.work_dir, 'results.json')}")
    return report


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


if __name__ == '__main__':
    main()
