"""Feature sources of the temporal heads and their clip-level targets.

A temporal grounding model reads a sequence of *clip* features and a
sequence of *word* features. Where they come from is chosen in the config:

Video (clip features, one row per clip, in time order):

* :class:`NpzVideoFeatures`: precomputed, CG-DETR / Moment-DETR layout
  ``<root>/<vid>.npz`` with key ``features`` ``(num_clips, D)``; several
  roots are concatenated along channels (e.g. SlowFast + CLIP).
* :class:`EncoderVideoFeatures`: a registered video encoder run online on
  the model's ``frames``.
* :class:`MLLMVideoFeatures`: the MLLM's own vision-encoder tokens
  (``visual_tokens``), averaged per frame (or per tubelet).

Text (word features):

* :class:`NpzTextFeatures`: precomputed, ``<root>/qid<qid>.npz`` with key
  ``last_hidden_state`` ``(num_words, D)``.
* :class:`EncoderTextFeatures`: a registered tokenizer + text encoder run
  online on the sample's ``query``.
* :class:`QueryHashEmbedding`: a small learnable embedding of the query's
  words (hashed into buckets: no tokenizer needed); the default of the tiny
  configs.
* :class:`MLLMTextFeatures`: LLM-width tokens of the MLLM (by default the
  connector output ``visual_embeds``, which an instruction-aware Q-Former
  computes from the question).

Each source returns one ``(L_i, D)`` tensor per sample; video sources also
return each sample's clip length in seconds (None: the video's duration
split evenly over its clips). ``extra_inputs`` names the model inputs a
source needs (the head declares their union), ``out_dims`` its width, or
``dims_from`` the head argument that gives it (``'vision_dims'`` /
``'in_dims'``).

The second half of the module turns a sample's annotations into clip-level
targets (saliency levels and hinge pairs) and the head's per-clip saliency
back into the 2-s clips of the QVHighlights evaluation.
"""
import math
import os.path as osp
import re
import zlib
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from tpo.registry import MODELS, TOKENIZERS
from tpo.structures import TPODataSample

Features = List[torch.Tensor]


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """Row-wise L2 normalisation (CG-DETR's ``l2_normalize_np_array``)."""
    return x / x.norm(dim=-1, keepdim=True).clamp(min=1e-5)


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


def sample_query(sample: TPODataSample) -> str:
    """The text query of a sample (``query``, else its first question)."""
    query = sample.get('query')
    if query is None:
        conversation = sample.get('conversation') or [{}]
        query = conversation[0].get('question', '')
    return str(query)


def sample_duration(sample: TPODataSample) -> float:
    duration = sample.get('duration')
    if duration is None or not float(duration) > 0:
        raise ValueError(
            f'a temporal sample needs a positive duration (s), got '
            f'{duration!r} for {sample.get("video_path")}')
    return float(duration)


class _FeatureSource(nn.Module):
    """Base of the feature sources."""

    extra_inputs: Tuple[str, ...] = ()
    out_dims: Optional[int] = None
    dims_from: Optional[str] = None

    def __init__(self, normalize: bool = False,
                 max_len: Optional[int] = None) -> None:
        super().__init__()
        self.normalize = normalize
        self.max_len = max_len

    def _finish(self, feats: torch.Tensor) -> torch.Tensor:
        if self.max_len is not None:
            feats = feats[:self.max_len]
        return _l2_normalize(feats) if self.normalize else feats


class _NpzSource(_FeatureSource):

    def __init__(self, roots, key: str, normalize: bool,
                 max_len: Optional[int], dims: int) -> None:
        super().__init__(normalize, max_len)
        self.roots = [roots] if isinstance(roots, str) else list(roots)
        if not self.roots:
            raise ValueError(f'{type(self).__name__} needs a root folder')
        self.key = key
        self.out_dims = dims

    def _load(self, root: str, name: str) -> np.ndarray:
        path = osp.join(root, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{type(self).__name__}: no {path}')
        with np.load(path) as archive:
            if self.key not in archive:
                raise KeyError(f'{path} has no key {self.key!r} '
                               f'(keys: {sorted(archive.files)})')
            return archive[self.key].astype(np.float32)

    def _check(self, feats: torch.Tensor, path: str) -> torch.Tensor:
        if feats.shape[-1] != self.out_dims:
            raise ValueError(f'{path}: features of width {feats.shape[-1]}, '
                             f'{type(self).__name__} expects {self.out_dims}')
        return feats


@MODELS.register_module()
class NpzVideoFeatures(_NpzSource):
    """Precomputed clip features, ``<root>/<vid>.npz`` key ``features``.

    The CG-DETR / Moment-DETR release layout (e.g. QVHighlights
    ``slowfast_features`` and ``clip_features``, 2-s clips). Features of
    several roots are cut to the shortest and concatenated along channels;
    each root's features are L2-normalised first (CG-DETR's default).

    Args:
        roots: one folder or a list of folders.
        dims: total feature width (sum over roots), TEF excluded.
        clip_length: seconds per clip (QVHighlights: 2).
        key: the array name in the npz files.
        normalize: L2-normalise each root's features.
        max_clips: keep at most this many clips (CG-DETR ``max_v_l``:
            75 on QVHighlights); None keeps all.
    """

    def __init__(self,
                 roots,
                 dims: int,
                 clip_length: float = 2.0,
                 key: str = 'features',
                 normalize: bool = True,
                 max_clips: Optional[int] = None) -> None:
        super().__init__(roots, key, normalize, max_clips, dims)
        self.clip_length = clip_length

    def forward(self, inputs: dict, data_samples: Sequence[TPODataSample]
                ) -> Tuple[Features, List[Optional[float]]]:
        feats = []
        for sample in data_samples:
            name = f'{sample_vid(sample)}.npz'
            parts = []
            for root in self.roots:
                part = torch.from_numpy(self._load(root, name))
                if self.max_len is not None:
                    part = part[:self.max_len]
                parts.append(
                    _l2_normalize(part) if self.normalize else part)
            length = min(len(p) for p in parts)
            if length == 0:
                raise ValueError(f'{name}: no clip features')
            feats.append(
                self._check(torch.cat([p[:length] for p in parts], -1),
                            name))
        return feats, [self.clip_length] * len(feats)


@MODELS.register_module()
class NpzTextFeatures(_NpzSource):
    """Precomputed word features, ``<root>/qid<qid>.npz`` key
    ``last_hidden_state`` (the CG-DETR / Moment-DETR release layout).

    Args:
        root: the folder.
        dims: feature width.
        key: the array name (``last_hidden_state``, or ``pooler_output``
            for one vector per query).
        prefix: file name prefix before the qid.
        normalize: L2-normalise the features (CG-DETR's default).
        max_len: keep at most this many words (CG-DETR ``max_q_l``: 32 on
            QVHighlights); None keeps all.
    """

    def __init__(self,
                 root: str,
                 dims: int,
                 key: str = 'last_hidden_state',
                 prefix: str = 'qid',
                 normalize: bool = True,
                 max_len: Optional[int] = 32) -> None:
        super().__init__(root, key, normalize, max_len, dims)
        self.prefix = prefix

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        feats = []
        for sample in data_samples:
            qid = sample.get('qid')
            if qid is None:
                raise KeyError('NpzTextFeatures needs the sample qid')
            name = f'{self.prefix}{qid}.npz'
            arr = torch.from_numpy(self._load(self.roots[0], name))
            feats.append(self._check(self._finish(arr.reshape(
                -1, arr.shape[-1])), name))
        return feats


def _pool_clips(tokens: torch.Tensor, num_clips: int) -> torch.Tensor:
    """``(B, M, D)`` time-major tokens -> ``(B, num_clips, D)`` means."""
    bsz, num, dims = tokens.shape
    if num % num_clips:
        raise ValueError(f'{num} tokens cannot be split into {num_clips} '
                         'clips of equal size')
    return tokens.reshape(bsz, num_clips, num // num_clips, dims).mean(2)


@MODELS.register_module()
class MLLMVideoFeatures(_FeatureSource):
    """Clip features pooled from the MLLM's vision tokens.

    ``visual_tokens`` ``(B, T' * N, D)`` (time-major, ``T' = T /
    tubelet_size`` for ``T`` frames) are averaged per frame, or into
    ``num_clips`` groups of consecutive frames. Each clip covers an equal
    share of the video's duration. The width is the vision encoder's
    (``vision_dims`` of the head).

    Args:
        source: the model input to pool (``visual_tokens``).
        tubelet_size: frames per token group of the encoder.
        num_clips: clips per video; None: one per frame / tubelet.
        normalize: L2-normalise the pooled features.
        detach: stop the head's gradient into the vision encoder.
    """

    dims_from = 'vision_dims'

    def __init__(self,
                 source: str = 'visual_tokens',
                 tubelet_size: int = 1,
                 num_clips: Optional[int] = None,
                 normalize: bool = True,
                 detach: bool = False) -> None:
        super().__init__(normalize)
        self.source = source
        self.tubelet_size = tubelet_size
        self.num_clips = num_clips
        self.detach = detach
        self.extra_inputs = (source, ) if num_clips else (source, 'frames')

    def forward(self, inputs: dict, data_samples: Sequence[TPODataSample]
                ) -> Tuple[Features, List[Optional[float]]]:
        tokens = inputs[self.source].float()
        if self.detach:
            tokens = tokens.detach()
        num_clips = self.num_clips or \
            inputs['frames'].shape[1] // self.tubelet_size
        clips = self._finish(_pool_clips(tokens, num_clips))
        return list(clips), [None] * len(clips)


def _freeze(module: nn.Module) -> None:
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)


@MODELS.register_module()
class EncoderVideoFeatures(_FeatureSource):
    """Clip features of a registered video encoder run on ``frames``.

    The encoder maps ``(B, T, C, H, W)`` frames to ``(B, M, D)`` time-major
    tokens (as ``VideoViT`` / ``SigLIPVisionEncoder``); they are averaged
    into ``num_clips`` clips (default: one per frame / tubelet).

    Args:
        encoder: config of a ``MODELS`` component.
        out_dims: feature width; None reads ``encoder.embed_dims``.
        tubelet_size: frames per token group of the encoder.
        num_clips: clips per video; None: one per frame / tubelet.
        frozen: keep the encoder frozen and in eval mode (it is then run
            without gradient).
        normalize: L2-normalise the pooled features.
    """

    def __init__(self,
                 encoder: dict,
                 out_dims: Optional[int] = None,
                 tubelet_size: int = 1,
                 num_clips: Optional[int] = None,
                 frozen: bool = True,
                 normalize: bool = True) -> None:
        super().__init__(normalize)
        self.encoder = MODELS.build(encoder)
        self.out_dims = out_dims or getattr(self.encoder, 'embed_dims', None)
        if self.out_dims is None:
            raise ValueError('EncoderVideoFeatures: set out_dims (the '
                             'encoder has no embed_dims)')
        self.tubelet_size = tubelet_size
        self.num_clips = num_clips
        self.frozen = frozen
        if frozen:
            _freeze(self.encoder)
        self.extra_inputs = ('frames', )

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def forward(self, inputs: dict, data_samples: Sequence[TPODataSample]
                ) -> Tuple[Features, List[Optional[float]]]:
        frames = inputs['frames']
        with torch.set_grad_enabled(torch.is_grad_enabled() and
                                    not self.frozen):
            tokens = self.encoder(frames).float()
        num_clips = self.num_clips or frames.shape[1] // self.tubelet_size
        clips = self._finish(_pool_clips(tokens, num_clips))
        return list(clips), [None] * len(clips)


@MODELS.register_module()
class EncoderTextFeatures(_FeatureSource):
    """Word features of a registered text encoder run on the query.

    The tokenizer (a ``TOKENIZERS`` config) encodes the query; the encoder
    is called as ``encoder(input_ids=..., attention_mask=...)`` and returns
    ``(B, L, D)`` features, or an output with ``last_hidden_state`` or
    ``hidden_states`` (the last one is used). Padded words are dropped.

    Args:
        encoder: config of a ``MODELS`` component.
        tokenizer: config of a ``TOKENIZERS`` builder.
        out_dims: feature width; None reads the encoder's ``embed_dims`` or
            ``config.hidden_size``.
        max_len: truncate queries to this many tokens.
        frozen: keep the encoder frozen and in eval mode.
        normalize: L2-normalise the features.
    """

    def __init__(self,
                 encoder: dict,
                 tokenizer: dict,
                 out_dims: Optional[int] = None,
                 max_len: int = 32,
                 frozen: bool = True,
                 normalize: bool = True) -> None:
        super().__init__(normalize)
        self.encoder = MODELS.build(encoder)
        self.tokenizer = TOKENIZERS.build(tokenizer)
        config = getattr(self.encoder, 'config', None)
        self.out_dims = out_dims or getattr(self.encoder, 'embed_dims', None) \
            or getattr(config, 'hidden_size', None)
        if self.out_dims is None:
            raise ValueError('EncoderTextFeatures: set out_dims')
        self.token_limit = max_len
        self.frozen = frozen
        if frozen:
            _freeze(self.encoder)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        device = next(self.encoder.parameters()).device
        tokens = self.tokenizer([sample_query(s) for s in data_samples],
                                padding=True, truncation=True,
                                max_length=self.token_limit,
                                return_tensors='pt').to(device)
        with torch.set_grad_enabled(torch.is_grad_enabled() and
                                    not self.frozen):
            out = self.encoder(input_ids=tokens['input_ids'],
                               attention_mask=tokens['attention_mask'])
        if not torch.is_tensor(out):
            hidden = getattr(out, 'last_hidden_state', None)
            out = hidden if hidden is not None else out.hidden_states[-1]
        mask = tokens['attention_mask'].bool()
        return [self._finish(o[m].float()) for o, m in zip(out, mask)]


@MODELS.register_module()
class QueryHashEmbedding(_FeatureSource):
    """A learnable embedding of the query's words.

    Words (lower-cased runs of letters and digits) are hashed (CRC-32,
    stable across processes) into ``num_buckets`` rows of an embedding
    table: no tokenizer or pre-trained text encoder is needed, which suits
    the tiny configs. A query without words gives no features (the head
    then reads the task embeddings only).

    Args:
        embed_dims: feature width.
        num_buckets: rows of the table.
        max_len: keep at most this many words.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 num_buckets: int = 4096,
                 max_len: Optional[int] = 32) -> None:
        super().__init__(False, max_len)
        self.embedding = nn.Embedding(num_buckets, embed_dims)
        self.num_buckets = num_buckets
        self.out_dims = embed_dims

    def word_ids(self, query: str) -> List[int]:
        words = re.findall(r'[a-z0-9]+', query.lower())[:self.max_len]
        return [zlib.crc32(w.encode()) % self.num_buckets for w in words]

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        device = self.embedding.weight.device
        return [
            self.embedding(
                torch.tensor(self.word_ids(sample_query(s)),
                             dtype=torch.long, device=device))
            for s in data_samples
        ]


@MODELS.register_module()
class MLLMTextFeatures(_FeatureSource):
    """LLM-width tokens of the MLLM used as the head's word features.

    By default the connector output ``visual_embeds`` ``(B, Q, D_llm)``: an
    instruction-aware Q-Former (VideoChat2) computes it from the question,
    so it carries the query, in the LLM's space. Its width is the LLM's
    (``in_dims`` of the head).

    Args:
        source: the model input to use.
        normalize: L2-normalise the tokens.
        detach: stop the head's gradient into the connector.
    """

    dims_from = 'in_dims'

    def __init__(self, source: str = 'visual_embeds', normalize: bool = False,
                 detach: bool = False) -> None:
        super().__init__(normalize)
        self.source = source
        self.detach = detach
        self.extra_inputs = (source, )

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        tokens = inputs[self.source].float()
        if self.detach:
            tokens = tokens.detach()
        return [self._finish(t) for t in tokens]


def resolve_dims(source: Optional[nn.Module], **dims) -> Optional[int]:
    """The width of a source: its ``out_dims``, else the head argument its
    ``dims_from`` names (an error when that is None)."""
    if source is None:
        return None
    if source.out_dims is not None:
        return source.out_dims
    name = source.dims_from
    value = dims.get(name)
    if value is None:
        raise ValueError(
            f'{type(source).__name__} takes its width from the head argument '
            f'{name!r}, which is not set: set it in the head config (e.g. '
            f'{name}=<vision encoder embed_dims>)')
    return value


def add_tef(clips: torch.Tensor) -> torch.Tensor:
    """Append temporal endpoint features ``[i / L, (i + 1) / L]`` to the
    ``(L, D)`` clips of one video."""
    num = len(clips)
    start = torch.arange(num, device=clips.device, dtype=clips.dtype) / num
    return torch.cat([clips, torch.stack([start, start + 1 / num], 1)], 1)


def pad_features(feats: Sequence[torch.Tensor], dims: int,
                 device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-sample ``(L_i, D)`` -> ``(B, max L, D)`` and a ``(B, max L)``
    bool mask (at least one column, all padding for empty samples)."""
    length = max([len(f) for f in feats] + [1])
    out = torch.zeros(len(feats), length, dims, device=device)
    mask = torch.zeros(len(feats), length, dtype=torch.bool, device=device)
    for i, f in enumerate(feats):
        if f.shape[-1] != dims:
            raise ValueError(f'features of width {f.shape[-1]}, expected '
                             f'{dims}')
        out[i, :len(f)] = f.to(device)
        mask[i, :len(f)] = True
    return out, mask


# ---------------------------------------------------------------- targets
def gt_windows(sample: TPODataSample) -> torch.Tensor:
    """``(K, 2)`` GT windows in seconds (``gt_windows``, packed from
    ``relevant_windows``); empty when the sample has none."""
    windows = sample.get('gt_windows')
    if windows is None:
        windows = sample.get('relevant_windows')
    if windows is None:
        return torch.zeros(0, 2)
    if torch.is_tensor(windows):
        return windows.detach().float().cpu().reshape(-1, 2)
    return torch.as_tensor(np.asarray(windows, dtype=np.float32)).reshape(
        -1, 2)


class ClipTargets:
    """Clip-level saliency targets of one sample.

    Attributes:
        labels: ``(L,)`` saliency level per clip (0 = not relevant).
        pos, neg: ``(P,)`` clip indices of the hinge pairs (empty without
            GT).
    """

    def __init__(self, labels: torch.Tensor, pos: torch.Tensor,
                 neg: torch.Tensor) -> None:
        self.labels, self.pos, self.neg = labels, pos, neg


def _choice(pool: torch.Tensor, k: int) -> torch.Tensor:
    return pool[torch.randperm(len(pool))[:k]]


def clip_targets(sample: TPODataSample, num_clips: int, clip_length: float,
                 gt_clip_length: float = 2.0) -> ClipTargets:
    """Saliency targets on the head's clips, as CG-DETR builds them.

    * With ``relevant_clip_ids`` and ``saliency_scores`` (QVHighlights,
      clips of ``gt_clip_length`` s): a clip's level is the sum of the
      annotators' scores of the GT clip at its center (0-12). Pairs: the
      highest- and lowest-scored relevant clips, plus a random relevant
      clip and a random irrelevant one (the hard pair is reused when every
      clip is relevant).
    * Otherwise, from the first GT window (Charades-style, clips of
      ``duration / num_clips`` s): its clips are level 1; two random clips
      inside it (the start clip twice for a one-clip window) against two
      random clips outside (the positives are reused when fewer than two
      are outside).
    * Without GT: no relevant clip and no pairs.
    """
    labels = torch.zeros(num_clips)
    empty = torch.zeros(0, dtype=torch.long)
    ids, scores = sample.get('relevant_clip_ids'), sample.get(
        'saliency_scores')
    windows = gt_windows(sample)
    if ids is not None and scores is not None and len(ids):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        agg = np.asarray(scores, dtype=np.float32).reshape(len(ids),
                                                           -1).sum(1)
        dense = np.zeros(int(ids.max()) + 1, dtype=np.float32)
        dense[ids] = agg
        centers = (np.arange(num_clips) + 0.5) * clip_length
        src = np.floor(centers / gt_clip_length).astype(np.int64)
        inside = src < len(dense)
        labels[torch.from_numpy(inside)] = torch.from_numpy(
            dense[src[inside]])
        relevant = torch.nonzero(labels > 0).flatten()
        if len(relevant) == 0:
            return ClipTargets(labels, empty, empty)
        order = relevant[torch.argsort(labels[relevant], stable=True)]
        hard_pos, hard_neg = order[-1:], order[:1]
        irrelevant = torch.nonzero(labels == 0).flatten()
        if len(irrelevant):
            pos = torch.cat([hard_pos, _choice(relevant, 1)])
            neg = torch.cat([hard_neg, _choice(irrelevant, 1)])
        else:
            pos, neg = hard_pos.repeat(2), hard_neg.repeat(2)
        return ClipTargets(labels, pos, neg)
    if len(windows) == 0:
        return ClipTargets(labels, empty, empty)
    # as CG-DETR, window clips are the duration split evenly over the clips
    window_clip = sample_duration(sample) / num_clips
    start, end = windows[0].tolist()
    first = int(start / window_clip)
    last = max(0, min(int(end / window_clip), num_clips) - 1)
    first = min(first, last)
    labels[first:last + 1] = 1
    if first != last:
        pos = _choice(torch.arange(first, last + 1), 2)
    else:
        pos = torch.tensor([first, first])
    outside = torch.cat(
        [torch.arange(0, first),
         torch.arange(last + 1, num_clips)])
    neg = _choice(outside, 2) if len(outside) >= 2 else pos.clone()
    return ClipTargets(labels, pos, neg)


def saliency_to_clips(saliency: torch.Tensor, clip_length: float,
                      duration: float,
                      out_clip_length: Optional[float]) -> torch.Tensor:
    """Per-clip saliency of the head -> one score per ``out_clip_length``
    clip of the video (the score of the head's clip at each output clip's
    center); unchanged when ``out_clip_length`` is None or equal."""
    if out_clip_length is None or math.isclose(clip_length,
                                               out_clip_length):
        return saliency
    num = max(1, math.ceil(duration / out_clip_length - 1e-6))
    centers = (torch.arange(num, dtype=torch.float64) + 0.5) * \
        out_clip_length
    idx = (centers / clip_length).floor().long().clamp(0, len(saliency) - 1)
    return saliency[idx.to(saliency.device)]


def round_windows(windows: torch.Tensor, step: Optional[float],
                  duration: float) -> torch.Tensor:
    """Round ``[start, end]`` seconds to multiples of ``step`` (CG-DETR's
    ``round_multiple`` post-processing), kept inside the video."""
    if not step:
        return windows
    return (torch.round(windows / step) * step).clamp(0, duration)


__all__ = [
    'NpzVideoFeatures', 'NpzTextFeatures', 'MLLMVideoFeatures',
    'EncoderVideoFeatures', 'EncoderTextFeatures', 'QueryHashEmbedding',
    'MLLMTextFeatures', 'add_tef', 'pad_features', 'clip_targets',
    'gt_windows', 'saliency_to_clips', 'round_windows', 'resolve_dims',
    'sample_vid', 'sample_query', 'sample_duration'
]
