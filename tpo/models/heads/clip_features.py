"""The released VideoChat-TPO's temporal-head inputs as feature sources
(see :mod:`tpo.models.heads.temporal_features`): InternVideo2-CLIP clip
features cached per video (one 768-d row per second, TEF added by the head)
and the word features of InternVideo2-CLIP's LLaMA text encoder."""
from typing import List, Optional, Sequence, Tuple

import torch

from tpo.registry import MODELS
from tpo.structures import TPODataSample
from .temporal_features import Features, _FeatureSource, sample_query

EXTRACT_TOOL = 'tools/dataset_converters/extract_clip_features.py'


@MODELS.register_module()
class SampleClipFeatures(_FeatureSource):
    """Clip features carried by the data sample (``clip_features`` ``(L,
    D)``, put there by the ``LoadClipFeatures`` pipeline step from the cache
    that ``tools/dataset_converters/extract_clip_features.py`` writes).

    Args:
        dims: feature width (the release: 768).
        clip_length: seconds per clip (the release: 1).
        normalize: L2-normalise the features (the release does not).
        max_clips: keep at most this many clips; None keeps all.
    """

    def __init__(self,
                 dims: int = 768,
                 clip_length: float = 1.0,
                 normalize: bool = False,
                 max_clips: Optional[int] = None) -> None:
        super().__init__(normalize, max_clips)
        self.out_dims = dims
        self.clip_length = clip_length

    def forward(self, inputs: dict, data_samples: Sequence[TPODataSample]
                ) -> Tuple[Features, List[Optional[float]]]:
        feats = []
        for sample in data_samples:
            value = sample.get('clip_features')
            if value is None:
                raise KeyError(
                    f'{sample.get("video_path")}: no clip_features. Cache '
                    f'them with `python {EXTRACT_TOOL}` and add '
                    "dict(type='LoadClipFeatures', root=...) to the pipeline.")
            value = torch.as_tensor(value, dtype=torch.float32)
            if value.ndim != 2 or value.shape[-1] != self.out_dims or \
                    not len(value):
                raise ValueError(
                    f'{sample.get("video_path")}: clip_features of shape '
                    f'{tuple(value.shape)}, expected (L >= 1, '
                    f'{self.out_dims})')
            feats.append(self._finish(value))
        return feats, [self.clip_length] * len(feats)


@MODELS.register_module()
class InternVideo2QueryFeatures(_FeatureSource):
    """Word features of the query from InternVideo2-CLIP's LLaMA text
    encoder (``InternVideo2CLIPText``), run online and frozen, as the
    release's ``app.py`` ``extract_text``.

    Args:
        encoder: an ``InternVideo2CLIPText`` config.
        normalize: L2-normalise the features (the release does not).
    """

    def __init__(self, encoder: dict, normalize: bool = False) -> None:
        super().__init__(normalize)
        self.encoder = MODELS.build(encoder)
        self.encoder.requires_grad_(False)
        self.out_dims = self.encoder.out_dims
        # Its weights come from its own checkpoint (TPOModel leaves them
        # out of its checkpoints, see CGDETRHead.pretrained_submodules).
        self.pretrained = encoder.get('pretrained') is not None

    def train(self, mode: bool = True) -> 'InternVideo2QueryFeatures':
        super().train(mode)
        self.encoder.eval()
        return self

    def forward(self, inputs: dict,
                data_samples: Sequence[TPODataSample]) -> Features:
        return [self._finish(f) for f in
                self.encoder([sample_query(s) for s in data_samples])]
