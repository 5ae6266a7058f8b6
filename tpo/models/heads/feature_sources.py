"""Feature sources of the temporal heads.

A temporal grounding model reads a sequence of *clip* features and a
sequence of *word* features. Where they come from is chosen in the config:

Video (clip features, one row per clip, in time order):

* :class:`SampleClipFeatures`: cached features read by the pipeline
  (``LoadClipFeatures``): the CG-DETR / Moment-DETR release files, or the
  InternVideo2-CLIP cache of the released VideoChat-TPO
  (``tools/dataset_converters/extract_clip_features.py``).
* :class:`EncoderVideoFeatures`: a registered video encoder run online on
  the model's ``frames``.
* :class:`MLLMVideoFeatures`: the MLLM's own vision-encoder tokens
  (``visual_tokens``), averaged per frame (or per tubelet).

Text (word features):

* :class:`SampleQueryFeatures`: read by the pipeline
  (``LoadQueryFeatures``).
* :class:`EncoderTextFeatures`: a registered text encoder (with a
  tokenizer, or one that reads strings, as the release's
  ``InternVideo2CLIPText``) run online on the sample's ``query``.
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
``'in_dims'``). An online encoder may be declared frozen
(``frozen_submodules``) and, when its config names ``pretrained`` weights,
it is rebuilt from those rather than saved in the model's checkpoints
(``pretrained_submodules``).
"""
import re
import zlib
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from tpo.registry import MODELS, TOKENIZERS
from tpo.structures import TPODataSample

Features = List[torch.Tensor]


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """Row-wise L2 normalisation (CG-DETR's ``l2_normalize_np_array``)."""
    return x / x.norm(dim=-1, keepdim=True).clamp(min=1e-5)


def sample_query(sample: TPODataSample) -> str:
    """The text query of a sample (``query``, else its first question)."""
    query = sample.get('query')
    if query is None:
        conversation = sample.get('conversation') or [{}]
        query = conversation[0].get('question', '')
    return str(query)


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

    @property
    def frozen_submodules(self) -> Tuple[str, ...]:
        """Submodules that never train (a frozen online encoder)."""
        return ('encoder', ) if getattr(self, 'frozen', False) else ()

    @property
    def pretrained_submodules(self) -> Tuple[str, ...]:
        """Frozen submodules built from their own ``pretrained`` weights."""
        return ('encoder', ) if getattr(self, 'pretrained', False) and \
            self.frozen_submodules else ()

    def _finish(self, feats: torch.Tensor) -> torch.Tensor:
        if self.max_len is not None:
            feats = feats[:self.max_len]
        return _l2_normalize(feats) if self.normalize else feats


EXTRACT_TOOL = 'tools/dataset_converters/extract_clip_features.py'


@MODELS.register_module()
class SampleClipFeatures(_FeatureSource):
    """Cached clip features carried by the data sample: ``clip_features``
    ``(num_clips, dims)``, put there by the ``LoadClipFeatures`` pipeline
    step (the CG-DETR release files, or the cache that
    ``tools/dataset_converters/extract_clip_features.py`` writes).

    Args:
        dims: feature width, TEF excluded (the VideoChat-TPO release: 768).
        clip_length: seconds per clip (the release: 1; CG-DETR's
            QVHighlights features: 2); None: the video's duration split
            evenly over its clips.
        normalize: L2-normalise the features (the release does not).
        max_clips: keep at most this many clips; None keeps all.
    """

    def __init__(self,
                 dims: int,
                 clip_length: Optional[float] = None,
                 normalize: bool = False,
                 max_clips: Optional[int] = None) -> None:
        super().__init__(normalize, max_clips)
        self.out_dims = dims
        self.clip_length = clip_length

    def forward(self, inputs: dict, data_samples: Sequence[TPODataSample]
                ) -> Tuple[Features, List[Optional[float]]]:
        feats = [
            self._finish(_field(s, 'clip_features', self))
            for s in data_samples
        ]
        return feats, [self.clip_length] * len(feats)


@MODELS.register_module()
class SampleQueryFeatures(_FeatureSource):
    """Word features carried by the data sample (``LoadQueryFeatures``):
    ``query_features`` ``(num_words, dims)``.

    Args:
        dims: feature width.
    """

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.out_dims = dims

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        return [_field(s, 'query_features', self) for s in data_samples]


def _field(sample: TPODataSample, name: str,
           source: _FeatureSource) -> torch.Tensor:
    feats = sample.get(name)
    step = 'LoadClipFeatures' if name == 'clip_features' else \
        'LoadQueryFeatures'
    if feats is None:
        hint = f'cache them with `python {EXTRACT_TOOL}` and ' \
            if name == 'clip_features' else ''
        raise KeyError(
            f'{type(source).__name__} reads {name!r}, which sample '
            f'{sample.get("sample_idx")} ({sample.get("video_path")}) lacks: '
            f"{hint}add dict(type='{step}', root=...) to the pipeline")
    feats = torch.as_tensor(feats).float()
    if feats.ndim != 2 or not len(feats) or \
            feats.shape[-1] != source.out_dims:
        raise ValueError(
            f'{type(source).__name__}: {name} of shape {tuple(feats.shape)} '
            f'in sample {sample.get("sample_idx")} '
            f'({sample.get("video_path")}), expected (L >= 1, '
            f'{source.out_dims})')
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
        frozen: declare the encoder frozen (``frozen_submodules``: the
            model freezes it and keeps it in eval mode) and run it without
            gradient.
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
        self.extra_inputs = ('frames', )

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

    With a ``tokenizer`` (a ``TOKENIZERS`` config) the query is tokenized
    and the encoder called as ``encoder(input_ids=..., attention_mask=...)``,
    returning ``(B, L, D)`` features or an output with ``last_hidden_state``
    or ``hidden_states`` (the last one is used); padded words are dropped.
    Without one, the encoder reads the query strings itself and returns one
    ``(L_i, D)`` tensor per query (the release's ``InternVideo2CLIPText``).

    Args:
        encoder: config of a ``MODELS`` component; a ``pretrained`` entry
            in it makes the (frozen) encoder a ``pretrained_submodules``
            one, left out of the model's checkpoints.
        tokenizer: config of a ``TOKENIZERS`` builder, or None.
        out_dims: feature width; None reads the encoder's ``out_dims``,
            ``embed_dims`` or ``config.hidden_size``.
        max_len: truncate queries to this many tokens (with a tokenizer).
        frozen: declare the encoder frozen (as in
            :class:`EncoderVideoFeatures`).
        normalize: L2-normalise the features.
    """

    def __init__(self,
                 encoder: dict,
                 tokenizer: Optional[dict] = None,
                 out_dims: Optional[int] = None,
                 max_len: int = 32,
                 frozen: bool = True,
                 normalize: bool = True) -> None:
        super().__init__(normalize)
        self.encoder = MODELS.build(encoder)
        self.tokenizer = TOKENIZERS.build(tokenizer) if tokenizer else None
        config = getattr(self.encoder, 'config', None)
        self.out_dims = out_dims or getattr(self.encoder, 'out_dims', None) \
            or getattr(self.encoder, 'embed_dims', None) \
            or getattr(config, 'hidden_size', None)
        if self.out_dims is None:
            raise ValueError('EncoderTextFeatures: set out_dims')
        self.token_limit = max_len
        self.frozen = frozen
        self.pretrained = encoder.get('pretrained') is not None

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        queries = [sample_query(s) for s in data_samples]
        with torch.set_grad_enabled(torch.is_grad_enabled() and
                                    not self.frozen):
            if self.tokenizer is None:
                return [self._finish(f.float()) for f in self.encoder(queries)]
            device = next(self.encoder.parameters()).device
            tokens = self.tokenizer(queries, padding=True, truncation=True,
                                    max_length=self.token_limit,
                                    return_tensors='pt').to(device)
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


def source_paths(head: nn.Module, names: Sequence[str],
                 kind: str = 'frozen_submodules') -> Tuple[str, ...]:
    """The ``frozen_submodules`` (or ``pretrained_submodules``) of a head's
    feature sources (attribute ``names`` of the head; None ones skipped),
    as head-level paths."""
    sources = [(n, getattr(head, n, None)) for n in names]
    return tuple(f'{name}.{sub}' for name, source in sources
                 if source is not None for sub in getattr(source, kind))


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


__all__ = [
    'SampleClipFeatures', 'SampleQueryFeatures',
    'MLLMVideoFeatures', 'EncoderVideoFeatures', 'EncoderTextFeatures',
    'QueryHashEmbedding', 'MLLMTextFeatures', 'add_tef', 'pad_features',
    'resolve_dims', 'sample_query'
]
