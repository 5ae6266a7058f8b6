"""A stand-in for SAM2's released weights in the miniature.

The paper's TPO starts from a trained SAM2 and freezes it; the miniature
cannot download one. Here the miniature's own SAM2 (the ``SAM2MaskHead``
of a config, same classes and widths) is trained on the synthetic world's
masks as SAM2 is trained: promptable segmentation from a box on the first
frame of a clip, the object then propagated through SAM2's memory over the
clip's other frames (focal + dice on the mask, IoU-prediction and object-
presence losses: the head's ``pixel`` losses). Clips of one frame train
image prompting, longer clips the memory. The result is written once,
atomically, as a safetensors file of SAM2's state dict, keyed by the
settings that made it (SAM2's config, the world's parameters and the
training settings), and reused while they hold; TPO then loads it with
``model.heads.mask.pretrained=<file>`` and freezes SAM2 as usual.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from PIL import Image

from tpo.evaluation.functional.segmentation import region_similarity_j
from tpo.models.heads.sam2_mask_head import (BOX_LABELS, IMAGENET_MEAN,
                                             IMAGENET_STD)
from tpo.models.losses.mask_losses import binary_mask_iou
from tpo.registry import MODELS
from tpo.structures.masks import mask_box_xyxy, rle_to_mask

#: Bump when the training below changes what a cached file holds.
STANDIN_VERSION = 1
#: Training steps of a stand-in (``ensure_sam2_standin``'s default).
STANDIN_ITERS = 300


class WorldMasklets:
    """The masklets of a MeViS-format split of the synthetic world (frames
    resized to SAM2's input, masks at full size), read once.

    Args:
        split_dir: e.g. ``<world>/mevis/train`` (``JPEGImages/``,
            ``meta_expressions.json``, ``mask_dict.json``).
        image_size: SAM2's input side.
        max_videos: read at most this many videos (None: all).
    """

    def __init__(self, split_dir: str, image_size: int,
                 max_videos: Optional[int] = None) -> None:
        for name in ('meta_expressions.json', 'mask_dict.json'):
            if not osp.isfile(osp.join(split_dir, name)):
                raise FileNotFoundError(
                    f'WorldMasklets: {split_dir} has no {name}; is it a '
                    'MeViS-format split of the synthetic world?')
        with open(osp.join(split_dir, 'meta_expressions.json')) as f:
            videos = json.load(f)['videos']
        with open(osp.join(split_dir, 'mask_dict.json')) as f:
            rles = json.load(f)
        self.image_size = image_size
        self.items: List[Tuple[np.ndarray, np.ndarray]] = []
        for video_id in sorted(videos)[:max_videos]:
            video = videos[video_id]
            anno_ids = sorted({str(a) for exp in video['expressions'].values()
                               for a in exp['anno_id']})
            frames = self._frames(osp.join(split_dir, 'JPEGImages', video_id),
                                  video['frames'])
            for anno_id in anno_ids:
                per_frame = rles[anno_id][:len(frames)]
                shape = per_frame_shape(per_frame)
                masks = np.stack([
                    rle_to_mask(r) if r else np.zeros(shape, bool)
                    for r in per_frame
                ])
                if masks.any():
                    self.items.append((frames, masks))

    def _frames(self, folder: str, names: Sequence[str]) -> np.ndarray:
        """``(T, S, S, 3)`` uint8 RGB frames at SAM2's input size."""
        size = (self.image_size, self.image_size)
        out = []
        for name in names:
            with Image.open(osp.join(folder, f'{name}.jpg')) as image:
                image.draft('RGB', size)  # decode JPEGs at a reduced scale
                out.append(np.asarray(image.convert('RGB').resize(
                    size, Image.BILINEAR)))
        return np.stack(out)

    def __len__(self) -> int:
        return len(self.items)

    def clip(self, index: int, start: int, length: int
             ) -> Tuple[torch.Tensor, torch.Tensor]:
        """SAM2 inputs ``(L, 3, S, S)`` (normalised as SAM2 and
        ``TPODataPreprocessor`` normalise) and masks ``(L, H, W)`` of a
        clip."""
        frames, masks = self.items[index]
        rgb = frames[start:start + length].astype(np.float32)
        rgb = (rgb - np.float32(IMAGENET_MEAN)) / np.float32(IMAGENET_STD)
        return (torch.from_numpy(rgb.transpose(0, 3, 1, 2).copy()),
                torch.from_numpy(masks[start:start + length]))

    def starts(self, index: int, length: int) -> np.ndarray:
        """First frames of the ``length``-frame clips that start on a frame
        showing the object."""
        visible = self.visible_frames(index)
        return visible[visible <= len(self.items[index][1]) - length]

    def visible_frames(self, index: int) -> np.ndarray:
        """Indices of the frames that show the object."""
        return np.flatnonzero(self.items[index][1].reshape(
            len(self.items[index][1]), -1).any(1))


def per_frame_shape(rles: Sequence[Optional[dict]]) -> Tuple[int, int]:
    """``(H, W)`` of a masklet's RLEs (``None`` marks an absent object)."""
    for rle in rles:
        if rle:
            return int(rle['size'][0]), int(rle['size'][1])
    raise ValueError('a masklet without any mask')


def click(mask: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """``(1, 2)`` normalised xy of a random pixel of a non-empty mask."""
    ys, xs = torch.nonzero(mask, as_tuple=True)
    pick = int(rng.integers(len(ys)))
    height, width = mask.shape[-2:]
    return torch.tensor([[(xs[pick] + 0.5) / width,
                          (ys[pick] + 0.5) / height]])


def box_of(mask: torch.Tensor) -> torch.Tensor:
    """Normalised xyxy box of a non-empty ``(H, W)`` mask."""
    height, width = mask.shape[-2:]
    box = torch.as_tensor(mask_box_xyxy(mask), dtype=torch.float)
    return box / box.new_tensor([width, height, width, height])


def build_head(head_cfg: dict):
    """The ``SAM2MaskHead`` of ``head_cfg`` with SAM2 trainable, its pixel
    losses on and no pretrained weights (``in_dims`` is irrelevant here:
    its adapter is not trained)."""
    cfg = copy.deepcopy(dict(head_cfg))
    cfg.update(in_dims=cfg.get('in_dims', 8), freeze_sam=False,
               pretrained=None, objectives=('pixel', ), pixel_frames='all')
    return MODELS.build(cfg)


def standin_settings(head_cfg: dict, world_meta: dict, **train: object
                     ) -> dict:
    """Everything a stand-in depends on (its cache key)."""
    sam_keys = ('type', 'model_cfg', 'image_size', 'sam_overrides',
                'loss_mask', 'loss_dice', 'loss_iou', 'loss_obj')
    return dict(
        version=STANDIN_VERSION,
        sam={k: head_cfg[k] for k in sam_keys if k in head_cfg},
        world=world_meta.get('params'),
        world_format=world_meta.get('format_version'),
        train=train)


def settings_key(settings: dict) -> str:
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def clip_losses(head, frames: torch.Tensor, masks: torch.Tensor,
                coords: torch.Tensor,
                labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    """SAM2's training losses on a batch of clips (the head's ``pixel``
    losses, batched): ``frames`` ``(B, L, 3, S, S)`` SAM2 inputs, ``masks``
    ``(B, L, H, W)`` bool; frame 0 is prompted by SAM points ``coords``
    ``(B, K, 2)`` (normalised xy) with ``labels`` ``(B, K)`` (a box: its
    corners labelled 2, 3), frames ``1..L-1`` are decoded through SAM2's
    memory of the earlier ones; each frame's mask loss takes the best of
    SAM2's mask hypotheses (three for a single click)."""
    sam = head.sam
    batch, length = frames.shape[:2]
    size = (head.image_size, head.image_size)
    target = F.interpolate(masks.flatten(0, 1)[:, None].float(), size=size,
                           mode='bilinear', align_corners=False) >= 0.5
    target = target.view(batch, length, *size).float()
    points = dict(point_coords=coords * head.image_size,
                  point_labels=labels.int())
    memory = dict(cond_frame_outputs={}, non_cond_frame_outputs={})
    binarize = sam.binarize_mask_from_pts_for_mem_enc
    sam.binarize_mask_from_pts_for_mem_enc = False  # keep the gradient
    try:
        with head._capturing() as captured:
            for t in range(length):
                backbone = sam.forward_image(frames[:, t])
                _, feats, pos, sizes = sam._prepare_backbone_features(
                    backbone)
                out = sam.track_step(
                    frame_idx=t, is_init_cond_frame=t == 0,
                    current_vision_feats=feats,
                    current_vision_pos_embeds=pos, feat_sizes=sizes,
                    point_inputs=points if t == 0 else None,
                    mask_inputs=None, output_dict=memory,
                    num_frames=length, track_in_reverse=False,
                    run_mem_encoder=length > 1)
                key = 'cond_frame_outputs' if t == 0 else \
                    'non_cond_frame_outputs'
                memory[key][t] = out
    finally:
        sam.binarize_mask_from_pts_for_mem_enc = binarize
    terms: Dict[str, list] = dict(loss_mask=[], loss_dice=[], loss_iou=[],
                                  loss_obj=[])
    for t, (logits, ious, _, obj_logits) in enumerate(captured):
        logits = F.interpolate(logits.float(), size=size, mode='bilinear',
                               align_corners=False)  # (B, M, S, S)
        present = target[:, t].flatten(1).any(1)
        terms['loss_obj'].append(
            head.loss_obj(obj_logits.view(-1), present.float()))
        for b in torch.nonzero(present).flatten().tolist():
            tgt = target[b, t].expand_as(logits[b])
            focal = head.loss_mask(logits[b], tgt, reduction_override='none')
            dice = head.loss_dice(logits[b], tgt, reduction_override='none')
            best = int(torch.argmin((focal + dice).detach()))
            terms['loss_mask'].append(focal[best])
            terms['loss_dice'].append(dice[best])
            terms['loss_iou'].append(
                head.loss_iou(ious[b], binary_mask_iou(logits[b], tgt)))
    return {k: torch.stack(v).mean() for k, v in terms.items() if v}


def train_sam2(head, data: WorldMasklets, iters: int,
               batch_size: int = 8, clip_frames: Sequence[int] = (1, 1, 3),
               lr: float = 1e-3, seed: int = 0, jitter: float = 0.05,
               log_interval: int = 50) -> List[float]:
    """Train ``head.sam`` in place for ``iters`` steps of ``batch_size``
    clips; step ``i``'s clips have ``clip_frames[i % len(clip_frames)]``
    frames and start on a frame showing the object, prompted there (as
    SAM2 is trained) on even steps by its box, jittered by ``jitter`` of the
    box's size, on odd steps by one click on the object (which trains the
    three-mask output that sam2's dynamic multimask post-processing falls
    back on). Returns the loss of every step."""
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    params = [p for p in head.sam.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        optim, max_lr=lr, total_steps=max(iters, 2), pct_start=0.1)
    head.train()
    losses = []
    tick = time.perf_counter()
    # tiny weights (e.g. the memory fuser's 1e-6 layer scales) make
    # denormal floats that slow CPU steps down as training goes on
    torch.set_flush_denormal(True)
    for step in range(iters):
        length = int(clip_frames[step % len(clip_frames)])
        clips, boxes = [], []
        while len(clips) < batch_size:
            index = int(rng.integers(len(data)))
            starts = data.starts(index, length)
            if len(starts):
                clips.append(data.clip(index, int(rng.choice(starts)),
                                       length))
                boxes.append(box_of(clips[-1][1][0]))
        masks = torch.stack([c[1] for c in clips])
        if step % 2 == 0:
            boxes = torch.stack(boxes)
            size = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
            noise = torch.randn(boxes.shape, generator=generator) * jitter
            coords = (boxes + noise * size).clamp(0, 1).view(-1, 2, 2)
            labels = torch.tensor([BOX_LABELS] * batch_size)
        else:
            coords = torch.stack([click(m[0], rng) for m in masks])
            labels = torch.ones(batch_size, 1, dtype=torch.int32)
        terms = clip_losses(head, torch.stack([c[0] for c in clips]),
                            masks, coords, labels)
        loss = sum(terms.values())
        optim.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        losses.append(loss.item())
        if log_interval and (step + 1) % log_interval == 0:
            recent = np.mean(losses[-log_interval:])
            print_log(
                f'SAM2 stand-in: step {step + 1}/{iters}, loss {recent:.3f} '
                f'({time.perf_counter() - tick:.0f} s)', 'current')
    torch.set_flush_denormal(False)
    head.eval()
    return losses


@torch.no_grad()
def box_prompt_iou(head, data: WorldMasklets, num: int = 64,
                   clip_frames: int = 4, seed: int = 1) -> Dict[str, float]:
    """Mean mask IoU of ``head``'s SAM2 prompted by ground-truth boxes on
    ``num`` masklets of ``data``: ``image`` (each of ``clip_frames``
    frames prompted by its own box) and ``video`` (the first frame's box,
    the later frames through SAM2's memory; frames without the object
    count 1 when the prediction is empty, else 0)."""
    rng = np.random.default_rng(seed)
    head.eval()
    image, video = [], []
    for index in rng.choice(len(data), min(num, len(data)), replace=False):
        start = int(rng.choice(data.visible_frames(index)))
        frames, masks = data.clip(int(index), start, clip_frames)
        shape = tuple(masks.shape[-2:])
        for t in range(len(frames)):
            if masks[t].any():
                pred = head.segment(frames[t:t + 1], shape,
                                    box_norm=box_of(masks[t]))['masks'][0]
                image.append(float(region_similarity_j(pred, masks[t])))
        preds = head.segment(frames, shape, box_norm=box_of(masks[0]))
        video += region_similarity_j(preds['masks'][1:],
                                     masks[1:]).tolist()
    return dict(image=100 * float(np.mean(image)),
                video=100 * float(np.mean(video)) if video else float('nan'))


def head_cfg_of(config: str) -> Tuple[dict, str]:
    """The mask head's config and the world's ``data_root`` of an mmengine
    config (e.g. ``configs/tpo/tiny_stage1.py``)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    head = cfg.model.get('heads', {}).get('mask')
    if head is None:
        raise ValueError(f'{config}: model.heads.mask is not set; the '
                         'SAM2 stand-in needs the config of the mask head.')
    return head.to_dict(), cfg.get('data_root')


def ensure_sam2_standin(config: str,
                        cache_dir: str = 'work_dirs/standins',
                        data_root: Optional[str] = None,
                        iters: int = STANDIN_ITERS,
                        batch_size: int = 8,
                        clip_frames: Sequence[int] = (1, 1, 3),
                        lr: float = 1e-3,
                        seed: int = 0,
                        max_videos: Optional[int] = None) -> str:
    """Path of the SAM2 stand-in of ``config``'s mask head on the world in
    ``data_root`` (the config's by default): ``cache_dir/sam2_standin-
    <key>.safetensors``, trained (see :func:`train_sam2`) and written
    atomically unless a file of the same settings exists. A ``.json``
    beside it records the settings and the training's losses."""
    from safetensors.torch import save_file
    head_cfg, cfg_root = head_cfg_of(config)
    data_root = data_root or cfg_root
    meta_path = osp.join(data_root, 'meta.json')
    if not osp.isfile(meta_path):
        raise FileNotFoundError(
            f'SAM2 stand-in: no synthetic world in {data_root} (no '
            'meta.json); generate it first (tools/generate_synthetic_world'
            '.py or the quick start).')
    with open(meta_path) as f:
        world_meta = json.load(f)
    train = dict(iters=iters, batch_size=batch_size,
                 clip_frames=list(clip_frames), lr=lr, seed=seed,
                 max_videos=max_videos)
    settings = standin_settings(head_cfg, world_meta, **train)
    path = osp.join(cache_dir,
                    f'sam2_standin-{settings_key(settings)}.safetensors')
    if osp.isfile(path):
        print_log(f'Using the SAM2 stand-in {path}.', 'current')
        return path
    print_log(f'Training the SAM2 stand-in {path} ({iters} clips).',
              'current')
    torch.manual_seed(seed)
    head = build_head(head_cfg)
    data = WorldMasklets(osp.join(data_root, 'mevis', 'train'),
                         head.image_size, max_videos)
    tick = time.perf_counter()
    losses = train_sam2(head, data, iters, batch_size, clip_frames, lr,
                        seed)
    seconds = time.perf_counter() - tick
    os.makedirs(cache_dir, exist_ok=True)
    state = {k: v.detach().contiguous()
             for k, v in head.sam.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix='.sam2_standin-', dir=cache_dir)
    os.close(fd)
    try:
        save_file(state, tmp)
        with open(osp.splitext(path)[0] + '.json', 'w') as f:
            json.dump(dict(settings=settings, train_seconds=seconds,
                           losses=losses), f, default=str)
        os.replace(tmp, path)
    finally:
        if osp.isfile(tmp):
            os.remove(tmp)
    print_log(f'SAM2 stand-in written to {path} ({seconds:.0f} s).',
              'current')
    return path
