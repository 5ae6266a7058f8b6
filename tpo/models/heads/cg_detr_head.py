"""TPO's temporal head: CG-DETR fed with the LLM's temporal task embedding.

Sec. 3.1 / appendix of the paper: "the original video and text query are
input to the video and text encoder for their features respectively. Then
we append the temporal task embedding after the text features"; CG-DETR
then predicts the moments (start, end, score) and a highlight (saliency)
score per clip, with CG-DETR's losses.
"""
import os.path as osp
import random
from typing import ClassVar, Dict, List, Optional, Sequence, Tuple

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
from .feature_sources import (add_tef, pad_features, resolve_dims,
                              source_paths)

#: The head's feature sources (attributes).
SOURCES = ('video_features', 'text_features')


def sample_vid(sample: TPODataSample) -> str:
    """The video id of a sample: ``vid``, else the file name of
    ``video_path`` without extension."""
    vid = sample.get('vid')
    if vid is None:
        path = sample.get('video_path')
        if path is None:
            raise KeyError('the sample has neither vid nor video_path')
        vid = osp.splitext(osp.basename(str(path)))[0]
    return str(vid)


def _union(*names: Sequence[str]) -> Tuple[str, ...]:
    out: List[str] = []
    for group in names:
        out += [n for n in group if n not in out]
    return tuple(out)


@MODELS.register_module()
class CGDETRHead(BaseTaskHead):
    """CG-DETR temporal grounding head (moment retrieval + highlight
    detection) conditioned on the temporal task embedding.

    Clip features (plus TEF, the temporal endpoint features ``[i/L,
    (i+1)/L]``) and word features come from configurable sources (see
    :mod:`tpo.models.heads.feature_sources`); the task embeddings of a
    sample, projected to the word width by ``project_down``, are appended
    after its words. The network (``cg_model``, :class:`CGDETR`) keeps the
    official module names. Defaults are the official CG-DETR / TPO
    settings.

    Training (``loss``): each decoder layer's spans are matched to the GT
    windows (Hungarian, span L1 + GIoU + class costs) and get ``loss_span``,
    ``loss_giou``, ``loss_label`` (the first ``dec_layers - 1`` layers as
    ``d{i}.loss_*``); the last layer's outputs also get ``loss_saliency``,
    ``loss_ms_align``, ``loss_distill`` and ``loss_orthogonal_dummy``.
    TPO's release weights the sum by 0.05 (``loss_weight=0.05``).

    Prediction (``predict``): ``pred_windows`` ``(num_queries, 3)``
    ``[start, end, score]`` seconds inside ``[0, duration]``, sorted by the
    foreground probability, and ``pred_saliency`` (one score per
    ``saliency_clip_length`` s; per feature clip when None). A sample whose
    answer called no task token gets no window and zero saliency.

    Args:
        in_dims: width of the task embeddings (the LLM's hidden size).
        task: the task served.
        video_features: config of a video feature source.
        text_features: config of a text feature source; None: the task
            embeddings are the whole query.
        vision_dims: width of the MLLM's vision tokens (for sources that
            read them, e.g. ``MLLMVideoFeatures``).
        project_task_embedding: map the task embeddings to the word width
            with a linear layer (``project_down``); False appends them as
            they are (TPO's release: LLM and word features are both 4096-d)
            and needs equal widths.
        use_tef: append TEF to the clip features (CG-DETR ``video_tef``).
        transformer: config of the network, :class:`CGDETR` (its defaults
            are the official sizes); ``txt_dims`` and ``vid_dims`` are
            filled in from the feature sources.
        max_windows: at most this many GT windows per sample (a random
            subset, as CG-DETR).
        span_coder: a ``SpanCoder`` config (``cxw``: CG-DETR predicts
            center and width).
        matcher: a ``HungarianSpanMatcher`` config.
        loss_span, loss_giou, loss_label, loss_saliency, loss_ms_align,
        loss_distill, loss_orthogonal: loss configs; the last four may be
            None to drop the term.
        use_negative_pairs: pair each video with the next sample's query
            in training (saliency negatives), as CG-DETR.
        saliency_gt_clip_length: clip length (s) of ``relevant_clip_ids``
            (QVHighlights: 2).
        saliency_clip_length: clip length (s) of ``pred_saliency``
            (QVHighlights evaluation: 2); None: one per feature clip.
        window_round: round predicted windows to multiples of this many
            seconds (CG-DETR's ``round_multiple`` post-processing; the
            official QVHighlights evaluation uses 2); None: no rounding.
    """

    model_widths: ClassVar[Tuple[str, ...]] = ('in_dims', 'vision_dims')

    def __init__(self,
                 in_dims: int,
                 task: str = 'temporal',
                 video_features: dict = dict(type='MLLMVideoFeatures'),
                 text_features: Optional[dict] = dict(
                     type='QueryHashEmbedding'),
                 vision_dims: Optional[int] = None,
                 project_task_embedding: bool = True,
                 use_tef: bool = True,
                 transformer: dict = dict(type='CGDETR'),
                 max_windows: int = 5,
                 span_coder: dict = dict(type='SpanCoder', mode='cxw'),
                 matcher: dict = CGDETR_MATCHER,
                 loss_span: dict = CGDETR_SPAN_L1,
                 loss_giou: dict = CGDETR_SPAN_GIOU,
                 loss_label: dict = dict(
                     type='SpanClassificationLoss', eos_coef=0.1,
                     loss_weight=4.0),
                 loss_saliency: Optional[dict] = CGDETR_SALIENCY,
                 loss_ms_align: Optional[dict] = dict(
                     type='MomentSentenceAlignLoss', loss_weight=1.0),
                 loss_distill: Optional[dict] = dict(
                     type='MomentTextDistillLoss', loss_weight=1.0),
                 loss_orthogonal: Optional[dict] = dict(
                     type='OrthogonalDummyLoss', loss_weight=1.0),
                 use_negative_pairs: bool = True,
                 saliency_gt_clip_length: float = 2.0,
                 saliency_clip_length: Optional[float] = 2.0,
                 window_round: Optional[float] = None,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        video_source = MODELS.build(video_features)
        text_source = MODELS.build(text_features) if text_features else None
        super().__init__(
            task=task,
            in_dims=in_dims,
            extra_inputs=_union(video_source.extra_inputs,
                                getattr(text_source, 'extra_inputs', ())),
            loss_weight=loss_weight,
            init_cfg=init_cfg)
        self.video_features = video_source
        self.text_features = text_source
        self.use_tef = use_tef
        self.vid_dims = resolve_dims(
            video_source, vision_dims=vision_dims, in_dims=in_dims) + \
            (2 if use_tef else 0)
        self.txt_dims = resolve_dims(
            text_source, vision_dims=vision_dims,
            in_dims=in_dims) if text_source is not None else in_dims
        if project_task_embedding:
            self.project_down = nn.Linear(in_dims, self.txt_dims)
        elif in_dims != self.txt_dims:
            raise ValueError(
                f'project_task_embedding=False needs task embeddings as wide '
                f'as the word features ({in_dims} != {self.txt_dims})')
        else:
            self.project_down = nn.Identity()
        self.cg_model = MODELS.build(
            dict(transformer, txt_dims=self.txt_dims,
                 vid_dims=self.vid_dims))
        self.span_coder = TASK_UTILS.build(span_coder)
        if self.span_coder.mode != 'cxw':
            raise ValueError('CGDETRHead predicts (center, width): use '
                             "SpanCoder(mode='cxw')")
        self.matcher = TASK_UTILS.build(matcher)
        self.max_windows = max_windows
        self.loss_span = MODELS.build(loss_span)
        self.loss_giou = MODELS.build(loss_giou)
        self.loss_label = MODELS.build(loss_label)
        self.loss_saliency = MODELS.build(loss_saliency) \
            if loss_saliency else None
        self.loss_ms_align = MODELS.build(loss_ms_align) \
            if loss_ms_align else None
        self.loss_distill = MODELS.build(loss_distill) \
            if loss_distill else None
        self.loss_orthogonal = MODELS.build(loss_orthogonal) \
            if loss_orthogonal else None
        self.use_negative_pairs = use_negative_pairs
        self.saliency_gt_clip_length = saliency_gt_clip_length
        self.saliency_clip_length = saliency_clip_length
        self.window_round = window_round

    @property
    def frozen_submodules(self) -> Tuple[str, ...]:
        return source_paths(self, SOURCES)

    @property
    def pretrained_submodules(self) -> Tuple[str, ...]:
        # e.g. the release's InternVideo2-CLIP text encoder
        return source_paths(self, SOURCES, 'pretrained_submodules')

    # ------------------------------------------------------------ inputs
    def _features(self, inputs: dict, data_samples: List[TPODataSample],
                  device: torch.device) -> dict:
        clips, clip_lengths = self.video_features(inputs, data_samples)
        durations = [sample_duration(s) for s in data_samples]
        clip_lengths = [
            length or duration / len(c)
            for c, length, duration in zip(clips, clip_lengths, durations)
        ]
        clips = [c.float().to(device) for c in clips]
        if self.use_tef:
            clips = [add_tef(c) for c in clips]
        vid, vid_mask = pad_features(clips, self.vid_dims, device)
        if self.text_features is not None:
            words = self.text_features(inputs, data_samples)
        else:
            words = [torch.zeros(0, self.txt_dims)] * len(data_samples)
        txt, txt_mask = pad_features([w.float() for w in words],
                                     self.txt_dims, device)
        return dict(src_txt=txt, src_txt_mask=txt_mask, src_vid=vid,
                    src_vid_mask=vid_mask, clip_lengths=clip_lengths,
                    durations=durations,
                    num_clips=[len(c) for c in clips])

    def _prompts(self, task_embeddings: List[torch.Tensor]
                 ) -> List[torch.Tensor]:
        return [self.project_down(e.float()) for e in task_embeddings]

    def _run(self, feats: dict, prompts: List[torch.Tensor],
             **kwargs) -> dict:
        return self.cg_model(feats['src_txt'], feats['src_txt_mask'],
                             feats['src_vid'], feats['src_vid_mask'],
                             prompts, **kwargs)

    # ------------------------------------------------------------ training
    def _span_targets(self, data_samples: List[TPODataSample],
                      durations: List[float],
                      device: torch.device) -> List[torch.Tensor]:
        targets = []
        for sample, duration in zip(data_samples, durations):
            windows = gt_windows(sample)
            if len(windows) > self.max_windows:
                keep = random.sample(range(len(windows)), self.max_windows)
                windows = windows[keep]
            targets.append(
                self.span_coder.encode(windows.to(device), duration))
        return targets

    def _matching_losses(self, outputs: dict, targets: List[torch.Tensor]
                         ) -> Dict[str, torch.Tensor]:
        logits, spans = outputs['pred_logits'], outputs['pred_spans']
        foreground = torch.zeros(logits.shape[:2], dtype=torch.bool,
                                 device=logits.device)
        matched_pred, matched_gt = [], []
        for b, gt in enumerate(targets):
            pred_inds, gt_inds = self.matcher(spans[b], gt, logits[b])
            foreground[b, pred_inds] = True
            matched_pred.append(spans[b][pred_inds])
            matched_gt.append(gt[gt_inds])
        pred, gt = torch.cat(matched_pred), torch.cat(matched_gt)
        return dict(
            loss_span=self.loss_span(pred, gt),
            loss_giou=self.loss_giou(self.span_coder.to_xx(pred),
                                     self.span_coder.to_xx(gt)),
            loss_label=self.loss_label(logits, foreground))

    @staticmethod
    def _video_ids(data_samples: List[TPODataSample]) -> List[str]:
        """Video ids for the negative pairs; a sample without ``vid`` or
        ``video_path`` counts as a video of its own."""
        vids = []
        for i, sample in enumerate(data_samples):
            try:
                vids.append(sample_vid(sample))
            except KeyError:
                vids.append(f'<sample {i}>')
        return vids

    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        device = task_embeddings[0].device
        feats = self._features(inputs, data_samples, device)
        num_clips = feats['src_vid'].shape[1]
        clips = [
            clip_targets(s, n, cl, self.saliency_gt_clip_length)
            for s, n, cl in zip(data_samples, feats['num_clips'],
                                feats['clip_lengths'])
        ]
        labels = torch.zeros(len(clips), num_clips, device=device)
        for b, target in enumerate(clips):
            labels[b, :len(target.labels)] = target.labels.to(device)
        vids = self._video_ids(data_samples) \
            if self.use_negative_pairs else None
        out = self._run(feats, self._prompts(task_embeddings),
                        relevant_clips=labels, vids=vids)

        span_targets = self._span_targets(data_samples, feats['durations'],
                                          device)
        losses = self._matching_losses(out, span_targets)
        for i, aux in enumerate(out.get('aux_outputs', [])):
            for key, value in self._matching_losses(aux,
                                                    span_targets).items():
                losses[f'd{i}.{key}'] = value
        vid_mask = feats['src_vid_mask']
        if self.loss_saliency is not None:
            paired = torch.tensor([len(t.pos) > 0 for t in clips],
                                  device=device)
            pos = [t.pos for t in clips if len(t.pos)]
            neg = [t.neg for t in clips if len(t.neg)]
            empty = torch.zeros(0, 2, dtype=torch.long, device=device)
            losses['loss_saliency'] = self.loss_saliency(
                out['saliency_scores'], labels, vid_mask,
                torch.stack(pos).to(device) if pos else empty,
                torch.stack(neg).to(device) if neg else empty,
                pair_mask=paired,
                attn_scores=out['t2vattnvalues'],
                neg_scores=out['saliency_scores_neg'],
                neg_attn_scores=out['t2vattnvalues_neg'],
                real_neg=out['real_neg_mask'])
        if self.loss_ms_align is not None:
            losses['loss_ms_align'] = self.loss_ms_align(
                out['memory_moment'], out['nmmemory_moment'],
                out['sentence_txt'], out['sentence_dummy'], out['src_vid'],
                out['moment_mask'], vid_mask)
        if self.loss_distill is not None:
            losses['loss_distill'] = self.loss_distill(
                out['cate_attn_weights'], out['moment2txt_similarity'],
                out['moment_mask'])
        if self.loss_orthogonal is not None:
            losses['loss_orthogonal_dummy'] = self.loss_orthogonal(
                out['dummy_tokens'], out['global_rep_tokens'])
        return losses

    # ------------------------------------------------------------ inference
    def _empty_prediction(self, sample: TPODataSample, num_clips: int,
                          clip_length: float, duration: float) -> None:
        sample.pred_windows = torch.zeros(0, 3)
        sample.pred_saliency = saliency_to_clips(
            torch.zeros(num_clips), clip_length, duration,
            self.saliency_clip_length)

    @torch.no_grad()
    def predict(self, task_embeddings: List[torch.Tensor], inputs: dict,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        device = next(self.cg_model.parameters()).device
        feats = self._features(inputs, data_samples, device)
        called = [i for i, e in enumerate(task_embeddings) if len(e)]
        for i in set(range(len(data_samples))) - set(called):
            self._empty_prediction(data_samples[i], feats['num_clips'][i],
                                   feats['clip_lengths'][i],
                                   feats['durations'][i])
        if not called:
            return data_samples
        sub = {
            key: value[called] if torch.is_tensor(value) else
            [value[i] for i in called]
            for key, value in feats.items()
        }
        out = self._run(sub, self._prompts(
            [task_embeddings[i].to(device) for i in called]))
        scores = out['pred_logits'].float().softmax(-1)[..., 0]
        for j, i in enumerate(called):
            duration = feats['durations'][i]
            windows = self.span_coder.decode(out['pred_spans'][j].float(),
                                             duration)
            windows = round_windows(windows, self.window_round, duration)
            order = torch.argsort(scores[j], descending=True, stable=True)
            sample = data_samples[i]
            sample.pred_windows = torch.cat(
                [windows[order], scores[j, order, None]], 1).cpu()
            saliency = out['saliency_scores'][j, :feats['num_clips'][i]]
            sample.pred_saliency = saliency_to_clips(
                saliency.float(), feats['clip_lengths'][i], duration,
                self.saliency_clip_length).cpu()
        return data_samples
