"""The "simple head" of the paper's Table 11: a two-layer MLP in place of
CG-DETR."""
import math
from typing import ClassVar, Dict, List, Optional, Tuple

import torch
from torch import nn

from tpo.registry import MODELS, TASK_UTILS
from tpo.structures import TPODataSample
from ..losses.saliency_losses import CGDETR_SALIENCY
from ..losses.span_losses import CGDETR_SPAN_GIOU, CGDETR_SPAN_L1
from ..task_modules import (clip_targets, gt_windows, round_windows,
                            sample_duration, saliency_to_clips)
from ..task_modules.matchers.hungarian_span_matcher import CGDETR_MATCHER
from .base_task_head import BaseTaskHead
from .feature_sources import pad_features, resolve_dims, source_paths


@MODELS.register_module()
class MLPTemporalHead(BaseTaskHead):
    """Two-layer MLP (Linear-ReLU-Dropout-Linear) -> sigmoid -> one
    normalised span per task token, trained with span L1 + GIoU (TPO's
    ablation "replace by simple head", Table 11; the release's
    ``temporal_embed`` is ``MLP(hidden, hidden, 2, 2, dropout=0.3)``).

    Optionally, a per-clip saliency: the dot product of projected clip
    features and the projected (mean) task embedding, trained with
    CG-DETR's saliency loss on the head's scores (no attention terms, no
    negative pairs).

    The GT window of a token is chosen by ``matcher`` on the span costs.

    Args:
        in_dims: width of the task embeddings.
        task: the task served.
        hidden_dims: MLP width; None: ``in_dims`` (as the release).
        dropout: dropout after the hidden layer.
        span_coder: a ``SpanCoder`` config; ``mode`` picks the regressed
            code, ``cxw`` (center, width) or ``xx`` (start, end).
        matcher: a ``HungarianSpanMatcher`` config (its class cost is
            unused).
        loss_span, loss_giou: span losses (L1 on the codes, GIoU).
        with_saliency: predict per-clip saliency; None: when the clip
            feature width is known (``video_features`` width, or
            ``vision_dims`` for the MLLM's tokens).
        video_features: clip feature source of the saliency.
        vision_dims: width of the MLLM's vision tokens.
        saliency_dims: width of the saliency projections.
        loss_saliency: a ``CGDETRSaliencyLoss`` config.
        saliency_gt_clip_length, saliency_clip_length, window_round: as
            :class:`CGDETRHead`.
        loss_weight: multiplies every loss of the head.
    """

    model_widths: ClassVar[Tuple[str, ...]] = ('in_dims', 'vision_dims')

    def __init__(self,
                 in_dims: int,
                 task: str = 'temporal',
                 hidden_dims: Optional[int] = None,
                 dropout: float = 0.3,
                 span_coder: dict = dict(type='SpanCoder', mode='cxw'),
                 matcher: dict = CGDETR_MATCHER,
                 loss_span: dict = CGDETR_SPAN_L1,
                 loss_giou: dict = CGDETR_SPAN_GIOU,
                 with_saliency: Optional[bool] = None,
                 video_features: dict = dict(type='MLLMVideoFeatures'),
                 vision_dims: Optional[int] = None,
                 saliency_dims: int = 256,
                 loss_saliency: Optional[dict] = CGDETR_SALIENCY,
                 saliency_gt_clip_length: float = 2.0,
                 saliency_clip_length: Optional[float] = 2.0,
                 window_round: Optional[float] = None,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        source = MODELS.build(video_features) \
            if with_saliency is not False else None
        video_dims = None
        if source is not None:
            try:
                video_dims = resolve_dims(source, vision_dims=vision_dims,
                                          in_dims=in_dims)
            except ValueError:
                if with_saliency:
                    raise
                source = None
        super().__init__(
            task=task,
            in_dims=in_dims,
            extra_inputs=source.extra_inputs if source is not None else (),
            loss_weight=loss_weight,
            init_cfg=init_cfg)
        hidden_dims = hidden_dims or in_dims
        self.temporal_embed = nn.Sequential(
            nn.Linear(in_dims, hidden_dims), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden_dims, 2))
        self.span_coder = TASK_UTILS.build(span_coder)
        self.matcher = TASK_UTILS.build(
            dict(matcher, span_mode=self.span_coder.mode))
        self.loss_span = MODELS.build(loss_span)
        self.loss_giou = MODELS.build(loss_giou)
        self.with_saliency = source is not None
        if self.with_saliency:
            self.video_features = source
            self.video_dims = video_dims
            self.saliency_proj_video = nn.Linear(video_dims, saliency_dims)
            self.saliency_proj_task = nn.Linear(in_dims, saliency_dims)
            self.loss_saliency = MODELS.build(loss_saliency) \
                if loss_saliency else None
        self.saliency_gt_clip_length = saliency_gt_clip_length
        self.saliency_clip_length = saliency_clip_length
        self.window_round = window_round

    @property
    def frozen_submodules(self) -> Tuple[str, ...]:
        return source_paths(self, ('video_features', ))

    @property
    def pretrained_submodules(self) -> Tuple[str, ...]:
        return source_paths(self, ('video_features', ),
                            'pretrained_submodules')

    def forward(self, task_embeddings: torch.Tensor) -> torch.Tensor:
        """``(N, in_dims)`` -> ``(N, 2)`` normalised span codes."""
        return self.temporal_embed(task_embeddings.float()).sigmoid()

    def _saliency(self, task_embeddings: List[torch.Tensor], inputs: dict,
                  data_samples: List[TPODataSample]) -> dict:
        device = self.saliency_proj_task.weight.device
        clips, clip_lengths = self.video_features(inputs, data_samples)
        durations = [sample_duration(s) for s in data_samples]
        clip_lengths = [
            length or duration / len(c)
            for c, length, duration in zip(clips, clip_lengths, durations)
        ]
        feats, mask = pad_features([c.float() for c in clips],
                                   self.video_dims, device)
        query = torch.stack([e.float().mean(0) for e in task_embeddings])
        scores = (self.saliency_proj_video(feats) *
                  self.saliency_proj_task(query)[:, None]).sum(-1)
        scores = scores / math.sqrt(self.saliency_proj_task.out_features)
        return dict(scores=scores, mask=mask, clip_lengths=clip_lengths,
                    durations=durations, num_clips=[len(c) for c in clips])

    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        preds, targets = [], []
        for emb, sample in zip(task_embeddings, data_samples):
            codes = self(emb)
            gt = self.span_coder.encode(
                gt_windows(sample).to(codes.device), sample_duration(sample))
            pred_inds, gt_inds = self.matcher(codes, gt)
            preds.append(codes[pred_inds])
            targets.append(gt[gt_inds])
        pred, target = torch.cat(preds), torch.cat(targets)
        losses = dict(
            loss_span=self.loss_span(pred, target),
            loss_giou=self.loss_giou(self.span_coder.to_xx(pred),
                                     self.span_coder.to_xx(target)))
        if self.with_saliency and self.loss_saliency is not None:
            sal = self._saliency(task_embeddings, inputs, data_samples)
            clips = [
                clip_targets(s, n, cl, self.saliency_gt_clip_length)
                for s, n, cl in zip(data_samples, sal['num_clips'],
                                    sal['clip_lengths'])
            ]
            scores = sal['scores']
            labels = torch.zeros_like(scores)
            for b, target in enumerate(clips):
                labels[b, :len(target.labels)] = target.labels.to(labels)
            paired = torch.tensor([len(t.pos) > 0 for t in clips],
                                  device=scores.device)
            empty = torch.zeros(0, 2, dtype=torch.long)
            pos = torch.stack([t.pos for t in clips if len(t.pos)]) \
                if paired.any() else empty
            neg = torch.stack([t.neg for t in clips if len(t.neg)]) \
                if paired.any() else empty
            losses['loss_saliency'] = self.loss_saliency(
                scores, labels, sal['mask'], pos.to(scores.device),
                neg.to(scores.device), pair_mask=paired)
        return losses

    @torch.no_grad()
    def predict(self, task_embeddings: List[torch.Tensor], inputs: dict,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        for emb, sample in zip(task_embeddings, data_samples):
            duration = sample_duration(sample)
            windows = self.span_coder.decode(self(emb), duration) \
                if len(emb) else torch.zeros(0, 2)
            windows = round_windows(windows, self.window_round, duration)
            sample.pred_windows = torch.cat(
                [windows, windows.new_ones(len(windows), 1)], 1).cpu()
        if self.with_saliency:
            called = [e if len(e) else e.new_zeros(1, self.in_dims)
                      for e in task_embeddings]
            sal = self._saliency(called, inputs, data_samples)
            for b, sample in enumerate(data_samples):
                scores = sal['scores'][b, :sal['num_clips'][b]]
                if not len(task_embeddings[b]):
                    scores = torch.zeros_like(scores)
                sample.pred_saliency = saliency_to_clips(
                    scores, sal['clip_lengths'][b], sal['durations'][b],
                    self.saliency_clip_length).cpu()
        return data_samples

