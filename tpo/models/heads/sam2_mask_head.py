"""Mask head: SAM2 whose prompt encoder is replaced by a mask adapter
(Sec. 3.1, appendix Stage 2).

The mask task embedding (the LLM's last hidden state at the mask token) goes
through the adapter, a two-layer MLP, to ``3 x 256`` sparse prompt tokens:
the shape of SAM2's prompt-encoder output for one box (two corner tokens and
the padding token SAM appends when no box tensor is given). These tokens
condition SAM2's mask decoder on the first frame; SAM2's memory bank then
propagates the object through the clip. Image encoder, mask decoder and
memory stay those of SAM2 (frozen by default, as in the paper).
"""
import contextlib
import functools
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils
import torch
import torch.nn.functional as F

from tpo.registry import MODELS, TASK_UTILS
from tpo.structures import TPODataSample
from tpo.structures.masks import mask_box_xyxy, mask_to_rle
from tpo.utils.local_files import require_local_path
# importing the module registers the mask losses (and, via the package, the
# box losses: L1Loss)
from ..layers import MLP
from ..losses.mask_losses import binary_mask_iou
from ..utils.pretrained import load_pretrained
from .base_task_head import BaseTaskHead
from .sam2_builder import SAM2_POSTPROCESSING, build_sam2_base
from .sam2_full_video import VIDEO_PREDICTOR

OBJECTIVES = ('prompt_distill', 'pixel')
#: Mean / std (0-255 scale) of TPODataPreprocessor and of SAM2 (ImageNet).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
BOX_LABELS = (2, 3)  # SAM point labels of a box's top-left / bottom-right


def _describe(sample: TPODataSample) -> str:
    ident = ', '.join(f'{k}={sample.get(k)!r}'
                      for k in ('sample_idx', 'video_path')
                      if sample.get(k) is not None)
    return f'sample ({ident or "no sample_idx/video_path"})'


@MODELS.register_module()
class SAM2MaskHead(BaseTaskHead):
    """SAM2 prompted by the mask task embedding through a mask adapter.

    Referring segmentation and tracking share one path: the adapter turns
    the task embedding into the sparse prompt tokens of the first frame
    (frame 0 of the clip, as in the official code), SAM2's memory bank
    propagates the object over the ``T`` frames. Predictions per sample:
    ``pred_mask_rles`` (``T`` COCO RLEs at ``ori_shape``), ``pred_masks``
    (``(T, H, W)`` bool, what ``ReferringVOSMetric`` reads; off with
    ``output_bitmaps=False``), ``pred_track_bboxes`` (``(T, 4)`` xywh pixels
    of the masks' tight boxes, what ``TrackingMetric`` reads; an empty mask
    repeats the previous box, zeros before any) and ``pred_mask_scores``
    (``(T,)`` SAM2 object-presence probabilities).

    ``T`` is the number of clip frames (the MLLM's sampled frames, upsampled
    to SAM2's input size), unless the head has a ``full_video`` inference
    mode (``SAM2FullVideoInference``): SAM2 then reads every frame of the
    sample's video (the ``full_video`` key of ``AttachFullVideo``) at its
    own input size and ``T`` is the video's length; such a sample also gets
    ``pred_frame_inds`` (``0 ... T-1``) and ``pred_track_seconds`` (time
    per frame) and no ``pred_masks`` (the metrics read the RLEs).

    Training objectives (``objectives``):

    - ``'prompt_distill'`` (official): L1 between the adapter tokens and
      SAM2's own prompt-encoder tokens of the ground-truth box; needs no
      image. The box is the sample's ``prompt_bboxes[0]`` (tracking), else
      the tight box of the ground-truth mask on frame 0 (or, if the object
      is absent there, on the first frame that shows it), else
      ``gt_track_bboxes[0]`` (xywh).
    - ``'pixel'``: the adapter tokens prompt the (frozen) mask decoder;
      focal + dice on the mask hypothesis with the lowest loss, IoU-
      prediction regression on all hypotheses (frames where the object is
      present) and an object-presence loss on every frame, against
      ``gt_masks`` resized to ``image_size``. ``pixel_frames='all'``
      propagates through the memory bank over the clip (gradients through
      it); ``'cond'`` supervises frame 0 only.

    Ground-truth masks are the data sample's ``gt_masks`` (``(T, H, W)``
    bool, one per clip frame), decoded by the pipeline (``DecodeRLEMasks``,
    ``LoadMaskletMasks``, ``LoadPaletteMasks``).

    Args:
        in_dims: width of the task embeddings (the LLM hidden size).
        task: the task served (``'mask'``; tracking samples route here too).
        model_cfg: a SAM2 config of the sam2 package, e.g.
            ``'configs/sam2.1/sam2.1_hiera_t.yaml'`` (tests) or
            ``'configs/sam2/sam2_hiera_l.yaml'`` (the official TPO release:
            SAM2 Hiera-L), or a ``.yaml`` path.
        pretrained: local SAM2 weights (``.pt`` with a ``'model'`` dict as
            released by SAM2, a plain state dict, ``.safetensors``, or a
            converted TPO checkpoint with ``pretrained_prefix``), loaded by
            :func:`~tpo.models.utils.load_pretrained`; None keeps the random
            init. SAM2 is then a ``pretrained_submodules`` entry: its frozen
            weights are left out of TPO checkpoints.
        pretrained_prefix: the keys of SAM2 in ``pretrained`` (e.g.
            ``'heads.mask.sam.'`` for a converted VideoChat-TPO release).
        image_size: SAM2 input side (1024 in SAM2; a multiple of 32 >= 64,
            smaller for CPU tests).
        freeze_sam: declare SAM2 frozen (``frozen_submodules``: the model
            keeps it frozen and in eval mode; paper: frozen).
        hidden_dims: adapter hidden width (official: ``in_dims``).
        num_prompt_tokens: adapter output tokens (3 = a SAM box prompt).
        objectives: any of ``'prompt_distill'``, ``'pixel'``.
        pixel_frames: ``'all'`` or ``'cond'`` (see above).
        loss_distill, loss_mask, loss_dice, loss_iou, loss_obj: loss
            configs; ``loss_obj`` and ``loss_iou`` may be None.
        loss_aux_bbox: optional L1 loss of an auxiliary MLP regressing the
            normalised box from the embedding (official
            ``track_embed_decode2``); None builds no such MLP.
        aux_box_sigmoid: squash the auxiliary box with a sigmoid; the
            release regresses it raw (False).
        sam_overrides: SAM2 config overrides (nested dicts or dotted
            keys under ``model``, e.g. smaller widths), applied over the
            post-processing of sam2's video predictor.
        track_prompt: ``'embedding'`` (always the adapter) or ``'box'``:
            a tracking sample with ``prompt_bboxes`` is prompted with SAM2's
            own box encoding at inference (the official demo's tracking).
        input_mean, input_std: normalisation of ``frames`` (that of
            ``TPODataPreprocessor``); frames are renormalised for SAM2.
        image_batch_size: frames per image-encoder call (memory bound).
        output_bitmaps: also write ``pred_masks`` as a bool tensor.
        frames_key: the ``encode_video`` output holding the frames.
        full_video: an inference mode (``TASK_UTILS`` config, e.g.
            ``dict(type='SAM2FullVideoInference', chunk_size=16)``) that
            predicts on every frame of the video instead of the clip
            frames; None (default) predicts on the clip frames. Training
            is unchanged.
        loss_weight: multiplies every loss of the head.
    """

    def __init__(self,
                 in_dims: int,
                 task: str = 'mask',
                 model_cfg: str = 'configs/sam2.1/sam2.1_hiera_t.yaml',
                 pretrained: Optional[str] = None,
                 pretrained_prefix: str = '',
                 image_size: Optional[int] = None,
                 freeze_sam: bool = True,
                 hidden_dims: Optional[int] = None,
                 num_prompt_tokens: int = 3,
                 objectives: Sequence[str] = ('prompt_distill', ),
                 pixel_frames: str = 'all',
                 loss_distill: dict = dict(type='L1Loss', loss_weight=1.0),
                 loss_mask: dict = dict(
                     type='SigmoidFocalLoss', alpha=0.25, gamma=2.0,
                     loss_weight=20.0),
                 loss_dice: dict = dict(type='DiceLoss', loss_weight=1.0),
                 loss_iou: Optional[dict] = dict(
                     type='IoUPredictionLoss', loss_type='mse',
                     loss_weight=1.0),
                 loss_obj: Optional[dict] = dict(
                     type='SigmoidFocalLoss', alpha=-1, gamma=0.0,
                     loss_weight=1.0),
                 loss_aux_bbox: Optional[dict] = None,
                 aux_box_sigmoid: bool = True,
                 sam_overrides: Optional[dict] = None,
                 track_prompt: str = 'embedding',
                 input_mean: Sequence[float] = IMAGENET_MEAN,
                 input_std: Sequence[float] = IMAGENET_STD,
                 image_batch_size: int = 8,
                 output_bitmaps: bool = True,
                 frames_key: str = 'frames',
                 full_video: Optional[dict] = None,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(task=task, in_dims=in_dims,
                         extra_inputs=(frames_key, ),
                         loss_weight=loss_weight, init_cfg=init_cfg)
        name = type(self).__name__
        objectives = tuple(objectives)
        if not objectives or set(objectives) - set(OBJECTIVES):
            raise ValueError(f'{name}: objectives must be a non-empty subset '
                             f'of {OBJECTIVES}, got {objectives}.')
        if pixel_frames not in ('all', 'cond'):
            raise ValueError(f"{name}: pixel_frames must be 'all' or "
                             f"'cond', got {pixel_frames!r}.")
        if track_prompt not in ('embedding', 'box'):
            raise ValueError(f"{name}: track_prompt must be 'embedding' or "
                             f"'box', got {track_prompt!r}.")
        self.objectives = objectives
        self.pixel_frames = pixel_frames
        self.track_prompt = track_prompt
        self.frames_key = frames_key
        self.image_batch_size = max(1, int(image_batch_size))
        self.output_bitmaps = output_bitmaps
        self.model_cfg = model_cfg

        if pretrained is not None:  # fail before building SAM2
            self._require_checkpoint(pretrained)
        overrides = dict(SAM2_POSTPROCESSING, **(sam_overrides or {}))
        self.full_video = None
        if full_video is not None:
            self.full_video = TASK_UTILS.build(full_video)
            overrides['_target_'] = VIDEO_PREDICTOR
        self.sam = build_sam2_base(model_cfg, image_size, overrides, name)
        self.image_size = int(self.sam.image_size)
        self.prompt_dims = int(self.sam.sam_prompt_embed_dim)
        if pretrained is not None:
            load_pretrained(self.sam, pretrained, pretrained_prefix,
                            f'{name}.sam ({model_cfg})')
        self.sam_pretrained = pretrained is not None
        if num_prompt_tokens < 1:
            raise ValueError(f'{name}: num_prompt_tokens must be >= 1.')
        if 'prompt_distill' in objectives and num_prompt_tokens != 3:
            raise ValueError(
                f'{name}: prompt_distill compares with the 3 tokens of a SAM '
                f'box prompt, so num_prompt_tokens must be 3, got '
                f'{num_prompt_tokens}.')
        self.num_prompt_tokens = num_prompt_tokens
        self.adapter = MLP(in_dims, hidden_dims or in_dims,
                           num_prompt_tokens * self.prompt_dims, 2)
        self.aux_box = MLP(in_dims, hidden_dims or in_dims, 4, 2) \
            if loss_aux_bbox else None
        self.aux_box_sigmoid = aux_box_sigmoid

        self.loss_distill = MODELS.build(loss_distill)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_iou = MODELS.build(loss_iou) if loss_iou else None
        self.loss_obj = MODELS.build(loss_obj) if loss_obj else None
        self.loss_aux_bbox = MODELS.build(loss_aux_bbox) \
            if loss_aux_bbox else None

        sam_mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        sam_std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        in_mean = torch.tensor(input_mean, dtype=torch.float).view(1, 3, 1, 1)
        in_std = torch.tensor(input_std, dtype=torch.float).view(1, 3, 1, 1)
        # sam_input = frames * scale + shift
        self.register_buffer('_renorm_scale', in_std / sam_std, False)
        self.register_buffer('_renorm_shift', (in_mean - sam_mean) / sam_std,
                             False)

        self.freeze_sam = freeze_sam
        # Hooks: replace the prompt encoder's sparse output on conditioning
        # frames, and capture the mask decoder's raw (ungated) outputs.
        self._sparse_override: Optional[torch.Tensor] = None
        self._captured: Optional[list] = None
        self.sam.sam_prompt_encoder.register_forward_hook(self._prompt_hook)
        self.sam.sam_mask_decoder.register_forward_hook(self._decoder_hook)

    # ------------------------------------------------------------ building
    def _require_checkpoint(self, path: str) -> None:
        require_local_path(
            path, f'{type(self).__name__}.pretrained',
            ['a SAM2 checkpoint matching model_cfg (the official TPO '
             'release uses SAM2 Hiera-L: sam2_hiera_large.pt with '
             'configs/sam2/sam2_hiera_l.yaml)'],
            'the SAM2 release (github.com/facebookresearch/sam2, '
            'checkpoints/download_ckpts.sh)')

    @property
    def pretrained_submodules(self) -> Tuple[str, ...]:
        return ('sam', ) if self.sam_pretrained else ()

    @property
    def frozen_submodules(self) -> Tuple[str, ...]:
        return ('sam', ) if self.freeze_sam else ()

    # ------------------------------------------------------------ hooks
    def _prompt_hook(self, module, args, output):
        if self._sparse_override is None:
            return output
        sparse, dense = output
        return self._sparse_override.to(sparse), dense

    def _decoder_hook(self, module, args, output):
        if self._captured is not None:
            self._captured.append(output)
        return output

    @contextlib.contextmanager
    def _capturing(self) -> Iterator[list]:
        self._captured = []
        try:
            yield self._captured
        finally:
            self._captured = None

    @contextlib.contextmanager
    def _overriding(self, sparse: Optional[torch.Tensor]):
        self._sparse_override = sparse
        try:
            yield
        finally:
            self._sparse_override = None

    # ------------------------------------------------------------ prompts
    def forward(self, task_embeddings: torch.Tensor) -> torch.Tensor:
        """(N, in_dims) -> (N, num_prompt_tokens, prompt_dims) prompts."""
        out = self.adapter(task_embeddings.float())
        return out.view(len(task_embeddings), self.num_prompt_tokens,
                        self.prompt_dims)

    def _box_points(self, box_norm: torch.Tensor) -> dict:
        """SAM2 point inputs of a normalised xyxy box (as in the official
        ``get_prompt_embeding``: corners scaled by ``image_size``)."""
        coords = box_norm.float().view(1, 2, 2) * self.image_size
        labels = torch.tensor([BOX_LABELS], dtype=torch.int32,
                              device=coords.device)
        return dict(point_coords=coords, point_labels=labels)

    @torch.no_grad()
    def box_prompt(self, box_norm: torch.Tensor) -> torch.Tensor:
        """SAM2's own ``(1, 3, C)`` sparse embedding of a normalised xyxy
        box: the target of ``prompt_distill``."""
        points = self._box_points(box_norm)
        sparse, _ = self.sam.sam_prompt_encoder(
            points=(points['point_coords'], points['point_labels']),
            boxes=None, masks=None)
        return sparse

    # ------------------------------------------------------------ frames
    def _sam_images(self, frames: torch.Tensor) -> torch.Tensor:
        """``(T, 3, h, w)`` normalised frames -> SAM2 inputs ``(T, 3, S,
        S)``."""
        frames = frames.float() * self._renorm_scale + self._renorm_shift
        size = (self.image_size, self.image_size)
        if tuple(frames.shape[-2:]) != size:
            frames = F.interpolate(
                frames, size=size, mode='bilinear', align_corners=False,
                antialias=frames.shape[-1] > self.image_size)
        return frames

    def _frame_features(self, frames: torch.Tensor
                        ) -> Iterator[Tuple[list, list, list]]:
        """Per frame, SAM2's flattened vision features, positional
        encodings and feature sizes; the image encoder runs on chunks of
        ``image_batch_size`` frames (without gradient when frozen)."""
        grad = any(p.requires_grad
                   for p in self.sam.image_encoder.parameters())
        for start in range(0, len(frames), self.image_batch_size):
            chunk = self._sam_images(frames[start:start +
                                            self.image_batch_size])
            with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
                backbone = self.sam.forward_image(chunk)
            for i in range(len(chunk)):
                one = {
                    key: [x[i:i + 1] for x in backbone[key]]
                    for key in ('backbone_fpn', 'vision_pos_enc')
                }
                _, feats, pos, sizes = self.sam._prepare_backbone_features(one)
                yield feats, pos, sizes

    def _memory_window(self) -> int:
        """How many past non-conditioning frames SAM2 may still read."""
        stride = max(1, int(self.sam.memory_temporal_stride_for_eval))
        return max(self.sam.num_maskmem * stride + 2,
                   int(self.sam.max_obj_ptrs_in_encoder) + 1)

    def _propagate(self, frames: torch.Tensor,
                   sparse: Optional[torch.Tensor] = None,
                   box_norm: Optional[torch.Tensor] = None,
                   num_frames: Optional[int] = None,
                   keep_graph: bool = False) -> Iterator[dict]:
        """Track one object through ``frames`` (``(T, 3, h, w)``) from frame
        0, prompted there by ``sparse`` tokens (replacing the prompt
        encoder) or by SAM2's encoding of ``box_norm``. Yields per frame
        ``pred_masks`` (gated low-res logits ``(1, 1, S/4, S/4)``) and
        ``object_score_logits`` ``(1, 1)``."""
        num_frames = len(frames) if num_frames is None else num_frames
        if box_norm is not None:
            cond_points = self._box_points(box_norm.to(frames.device))
        else:
            # Two box-corner slots: SAM2 then decodes a single mask (as for
            # a box) and ``sparse`` replaces their embedding.
            cond_points = dict(
                point_coords=frames.new_zeros(1, 2, 2),
                point_labels=torch.tensor([BOX_LABELS], dtype=torch.int32,
                                          device=frames.device))
        memory = dict(cond_frame_outputs={}, non_cond_frame_outputs={})
        window = self._memory_window()
        for t, (feats, pos, sizes) in enumerate(
                self._frame_features(frames[:num_frames])):
            cond = t == 0
            with self._overriding(sparse if cond else None):
                out = self.sam.track_step(
                    frame_idx=t,
                    is_init_cond_frame=cond,
                    current_vision_feats=feats,
                    current_vision_pos_embeds=pos,
                    feat_sizes=sizes,
                    point_inputs=cond_points if cond else None,
                    mask_inputs=None,
                    output_dict=memory,
                    num_frames=num_frames,
                    track_in_reverse=False,
                    run_mem_encoder=num_frames > 1)
            kept = {
                k: out.get(k)
                for k in ('maskmem_features', 'maskmem_pos_enc', 'obj_ptr',
                          'pred_masks', 'object_score_logits')
            }
            if not keep_graph:
                kept = {
                    k: ([x.detach() for x in v] if isinstance(v, list) else
                        v.detach() if torch.is_tensor(v) else v)
                    for k, v in kept.items()
                }
            key = 'cond_frame_outputs' if cond else 'non_cond_frame_outputs'
            memory[key][t] = kept
            memory['non_cond_frame_outputs'].pop(t - window, None)
            yield out

    # ------------------------------------------------------------ targets
    def _gt_masks(self, sample: TPODataSample,
                  num_frames: int) -> Optional[torch.Tensor]:
        """``(T, H, W)`` bool ground-truth masks of a sample, or None."""
        masks = sample.get('gt_masks')
        if masks is None and sample.get('mask_rles') is not None:
            raise ValueError(
                f'{type(self).__name__}: {_describe(sample)} has mask_rles '
                'but no gt_masks: add DecodeRLEMasks to its pipeline.')
        if masks is None:
            return None
        masks = torch.as_tensor(np.asarray(masks) if not torch.is_tensor(
            masks) else masks).bool()
        if masks.dim() != 3 or len(masks) != num_frames:
            raise ValueError(
                f'{type(self).__name__}: {_describe(sample)} needs '
                f'(T={num_frames}, H, W) gt_masks (one per clip frame), got '
                f'shape {tuple(masks.shape)}.')
        return masks

    def _frame_shape(self, sample: TPODataSample,
                     frames: torch.Tensor) -> Tuple[int, int]:
        shape = sample.get('ori_shape')
        if shape is None:
            return int(frames.shape[-2]), int(frames.shape[-1])
        return int(shape[0]), int(shape[1])

    def _gt_box(self, sample: TPODataSample, masks: Optional[torch.Tensor],
                shape: Tuple[int, int]) -> Optional[torch.Tensor]:
        """The normalised xyxy box that prompts frame 0 (see the class
        docstring), or None."""
        height, width = shape
        box = None
        prompt = sample.get('prompt_bboxes')
        if prompt is not None and len(prompt):
            box = torch.as_tensor(prompt, dtype=torch.float).view(-1, 4)[0]
        elif masks is not None:
            height, width = masks.shape[-2:]
            for frame in masks:
                box = mask_box_xyxy(frame)
                if box is not None:
                    break
        elif sample.get('gt_track_bboxes') is not None:
            xywh = torch.as_tensor(sample.gt_track_bboxes,
                                   dtype=torch.float).view(-1, 4)[0]
            box = torch.cat([xywh[:2], xywh[:2] + xywh[2:]])
        if box is None:
            return None
        scale = box.new_tensor([width, height, width, height])
        return (box / scale).clamp(0, 1)

    # ------------------------------------------------------------ training
    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        """Mean over samples of each objective's losses; samples without the
        ground truth an objective needs are left out of it (all left out:
        zeros that keep the graph)."""
        all_frames = inputs.get(self.frames_key)
        terms: Dict[str, List[torch.Tensor]] = {}
        # zeros that keep every trainable parameter and embedding in the
        # graph (DDP), also when no sample has the needed ground truth
        anchor = sum((p.sum() * 0 for p in self.parameters()
                      if p.requires_grad),
                     self._renorm_scale.new_zeros(())) + \
            sum(e.sum() * 0 for e in task_embeddings)
        for i, (emb, sample) in enumerate(zip(task_embeddings, data_samples)):
            if len(emb) == 0:
                continue
            emb = emb[:1].float()
            prompt = self(emb)
            frames = all_frames[i] if all_frames is not None else None
            num_frames = len(frames) if frames is not None else None
            masks = self._gt_masks(sample, num_frames) \
                if num_frames is not None else None
            shape = self._frame_shape(sample, frames) if frames is not None \
                else tuple(sample.get('ori_shape', (1, 1))[:2])
            box = self._gt_box(sample, masks, shape)
            if box is not None:
                box = box.to(prompt.device)
                if 'prompt_distill' in self.objectives:
                    terms.setdefault('loss_distill', []).append(
                        self.loss_distill(prompt, self.box_prompt(box)))
                if self.aux_box is not None:
                    pred = self.aux_box(emb)[0]
                    pred = pred.sigmoid() if self.aux_box_sigmoid else pred
                    terms.setdefault('loss_aux_bbox', []).append(
                        self.loss_aux_bbox(pred, box))
            if 'pixel' in self.objectives and masks is not None:
                for key, value in self._pixel_losses(prompt, frames,
                                                     masks).items():
                    terms.setdefault(key, []).append(value)
        names = []
        if 'prompt_distill' in self.objectives:
            names.append('loss_distill')
        if 'pixel' in self.objectives:
            names += ['loss_mask', 'loss_dice']
            names += ['loss_iou'] if self.loss_iou is not None else []
            names += ['loss_obj'] if self.loss_obj is not None else []
        if self.aux_box is not None:
            names.append('loss_aux_bbox')
        return {
            name: torch.stack(terms[name]).mean() + anchor
            if terms.get(name) else anchor.clone()
            for name in names
        }

    def _pixel_losses(self, prompt: torch.Tensor, frames: torch.Tensor,
                      masks: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Mask losses of one sample through the mask decoder (and memory
        bank with ``pixel_frames='all'``)."""
        size = (self.image_size, self.image_size)
        num_frames = len(frames) if self.pixel_frames == 'all' else 1
        target = F.interpolate(
            masks[:num_frames, None].float().to(prompt.device), size=size,
            mode='bilinear', align_corners=False) >= 0.5
        target = target[:, 0].float()
        present = target.flatten(1).any(1)
        mask_terms, dice_terms, iou_terms, obj_terms = [], [], [], []
        binarize = getattr(self.sam, 'binarize_mask_from_pts_for_mem_enc',
                           False)
        # a hard-thresholded conditioning mask would cut the gradient
        # through the memory encoder; use SAM2's soft (training) path
        self.sam.binarize_mask_from_pts_for_mem_enc = False
        try:
            with self._capturing() as captured:
                for _ in self._propagate(frames, sparse=prompt,
                                         num_frames=num_frames,
                                         keep_graph=True):
                    pass
        finally:
            self.sam.binarize_mask_from_pts_for_mem_enc = binarize
        if len(captured) != num_frames:
            raise RuntimeError(
                f'{type(self).__name__}: expected one mask-decoder call per '
                f'frame ({num_frames}), got {len(captured)}.')
        for t, (logits, ious, _, obj_logits) in enumerate(captured):
            if self.loss_obj is not None and obj_logits is not None:
                obj_terms.append(
                    self.loss_obj(obj_logits.view(1),
                                  present[t:t + 1].float()))
            if not present[t]:
                continue
            logits = F.interpolate(
                logits.float(), size=size, mode='bilinear',
                align_corners=False)[0]  # (M, S, S)
            tgt = target[t].expand_as(logits)
            focal = self.loss_mask(logits, tgt, reduction_override='none')
            dice = self.loss_dice(logits, tgt, reduction_override='none')
            best = int(torch.argmin((focal + dice).detach()))
            mask_terms.append(focal[best])
            dice_terms.append(dice[best])
            if self.loss_iou is not None:
                iou_terms.append(
                    self.loss_iou(ious[0], binary_mask_iou(logits, tgt)))
        zero = prompt.sum() * 0

        def mean(values):
            return torch.stack(values).mean() if values else zero

        out = dict(loss_mask=mean(mask_terms), loss_dice=mean(dice_terms))
        if self.loss_iou is not None:
            out['loss_iou'] = mean(iou_terms)
        if self.loss_obj is not None:
            out['loss_obj'] = mean(obj_terms)
        return out

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def segment(self, frames: torch.Tensor, shape: Tuple[int, int],
                prompt: Optional[torch.Tensor] = None,
                box_norm: Optional[torch.Tensor] = None) -> dict:
        """Masks of one object over ``frames`` (``(T, 3, h, w)``) at the
        original frame size ``shape`` ``(H, W)``, prompted on frame 0 by
        adapter tokens ``prompt`` ``(1, K, C)`` or a normalised box.

        Returns ``rles`` (T COCO RLEs), ``bboxes`` ``(T, 4)`` xywh,
        ``scores`` ``(T,)`` and, with ``output_bitmaps``, ``masks``
        ``(T, H, W)`` bool.
        """
        height, width = shape
        rles, boxes, scores, bitmaps = [], [], [], []
        last = [0.0, 0.0, 0.0, 0.0]
        for out in self._propagate(frames, sparse=prompt, box_norm=box_norm):
            logits = F.interpolate(out['pred_masks'].float(),
                                   size=(height, width), mode='bilinear',
                                   align_corners=False)[0, 0]
            mask = (logits > 0).cpu().numpy()
            rle = mask_to_rle(mask)
            rles.append(rle)
            if mask.any():
                last = [float(v) for v in mask_utils.toBbox(
                    dict(size=rle['size'], counts=rle['counts'].encode()))]
            boxes.append(list(last))
            obj = out.get('object_score_logits')
            scores.append(float(obj.sigmoid().max()) if obj is not None
                          else float(mask.any()))
            if self.output_bitmaps:
                bitmaps.append(torch.from_numpy(mask))
        result = dict(
            rles=rles,
            bboxes=torch.tensor(boxes, dtype=torch.float32).view(-1, 4),
            scores=torch.tensor(scores, dtype=torch.float32))
        if self.output_bitmaps:
            result['masks'] = torch.stack(bitmaps) if bitmaps else \
                torch.zeros(0, height, width, dtype=torch.bool)
        return result

    def _empty(self, num_frames: int, shape: Tuple[int, int],
               bitmaps: bool) -> dict:
        empty = np.zeros(shape, dtype=bool)
        result = dict(
            rles=[mask_to_rle(empty) for _ in range(num_frames)],
            bboxes=torch.zeros(num_frames, 4),
            scores=torch.zeros(num_frames))
        if bitmaps:
            result['masks'] = torch.zeros(num_frames, *shape,
                                          dtype=torch.bool)
        return result

    def predict(self, task_embeddings: List[torch.Tensor], inputs: dict,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        frames_batch = inputs[self.frames_key]
        for emb, frames, sample in zip(task_embeddings, frames_batch,
                                       data_samples):
            video = None if self.full_video is None else \
                self.full_video.frames(self.sam, sample)
            if video is None:  # the clip frames
                shape = self._frame_shape(sample, frames)
                segment = functools.partial(self.segment, frames, shape)
                num_frames, bitmaps = len(frames), self.output_bitmaps
            else:  # every frame of the video
                shape = video.shape
                segment = functools.partial(self.full_video.segment,
                                            self.sam, video)
                num_frames, bitmaps = len(video), False
            prompt_boxes = sample.get('prompt_bboxes')
            if self.track_prompt == 'box' and prompt_boxes is not None \
                    and len(prompt_boxes):
                result = segment(box_norm=self._gt_box(sample, None, shape))
            elif len(emb):
                with torch.no_grad():
                    prompt = self(emb[:1])
                result = segment(prompt=prompt)
            else:  # the model did not call the task
                result = self._empty(num_frames, shape, bitmaps)
                if video is not None:
                    result['frame_inds'] = torch.arange(num_frames)
            self._write(sample, result)
        return data_samples

    @staticmethod
    def _write(sample: TPODataSample, result: dict) -> None:
        sample.pred_mask_rles = result['rles']
        sample.pred_track_bboxes = result['bboxes']
        sample.pred_mask_scores = result['scores']
        for key, field in (('masks', 'pred_masks'),
                           ('frame_inds', 'pred_frame_inds'),
                           ('seconds', 'pred_track_seconds')):
            if key in result:
                sample.set_field(result[key], field)
