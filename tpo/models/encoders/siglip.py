"""LLaVA-OneVision's SigLIP frame encoder (transformers' SiglipVisionModel)."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import SiglipVisionConfig, SiglipVisionModel

from tpo.registry import MODELS
from tpo.utils.local_files import require_hf_model_folder
from ..llms.causal_lm import hf_model_kwargs


@MODELS.register_module()
class SigLIPVisionEncoder(BaseModule):
    """Encode every frame of a clip with a SigLIP vision tower.

    The features are the hidden states of one encoder layer, *before*
    SigLIP's ``post_layernorm``, with every patch token kept (SigLIP has no
    CLS token: LLaVA-OneVision's ``vision_feature_select_strategy='full'``).
    LLaVA-OneVision takes the second-to-last layer of the 27-layer
    ``siglip-so400m-patch14-384``; transformers' converted LLaVA-OneVision
    towers already have that last layer removed (26 layers,
    ``vision_feature_layer=-1``). Hence ``feature_layer=-2`` for the original
    SigLIP checkpoint and ``-1`` for a tower taken from a LLaVA-OneVision
    checkpoint give the same 26-layer computation.

    Layers after the selected one, ``post_layernorm`` and the attention
    pooling head never contribute to the output, so they are removed
    (as LLaVA-NeXT's SigLIP tower does): no compute, no unused parameters.

    Frames ``(B, T, C, H, W)`` are encoded independently and returned as
    ``(B, T * h * w, D)`` tokens, frame-major then row-major, where
    ``grid = (h, w)`` is the per-frame patch grid a projector pools over
    (:class:`tpo.models.connectors.MLPProjector`'s ``frame_grid``).

    Args:
        pretrained: a local folder holding a SigLIP ``config.json`` (a full
            ``SiglipModel`` config or a vision-only one) and its weights.
            Nothing is downloaded. Takes precedence over ``config``.
        config: keyword arguments of ``SiglipVisionConfig`` for a randomly
            initialised tower (tiny test configs).
        feature_layer: index into the tower's hidden states (0: the patch
            embeddings, ``i``: the output of layer ``i``, negative indices
            count from the end as in transformers), or a list of indices
            whose states are concatenated along channels.
        select_strategy: ``'full'`` keeps every token; ``'default'`` drops
            the first one (for towers with a CLS token).
        torch_dtype: e.g. ``'bfloat16'``.
        attn_implementation: ``'sdpa'``, ``'eager'`` or
            ``'flash_attention_2'``.
        with_cp: recompute each layer in the backward pass (gradient
            checkpointing; `TPOModel(gradient_checkpointing=True)` sets it).
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 config: Optional[dict] = None,
                 feature_layer: Union[int, Sequence[int]] = -2,
                 select_strategy: str = 'full',
                 torch_dtype: Optional[str] = None,
                 attn_implementation: Optional[str] = None,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if select_strategy not in ('full', 'default'):
            raise ValueError("select_strategy must be 'full' or 'default', "
                             f'got {select_strategy!r}')
        kwargs = hf_model_kwargs(torch_dtype, attn_implementation)
        if pretrained is not None:
            require_hf_model_folder(
                pretrained, 'SigLIPVisionEncoder',
                'the model card on the Hugging Face hub (e.g. '
                '`huggingface-cli download google/siglip-so400m-patch14-384 '
                '--local-dir checkpoints/siglip-so400m-patch14-384`)')
            tower = SiglipVisionModel.from_pretrained(
                pretrained, local_files_only=True, **kwargs)
        elif config is not None:
            tower = SiglipVisionModel._from_config(
                SiglipVisionConfig(**config), **kwargs)
        else:
            raise ValueError(
                'SigLIPVisionEncoder needs `pretrained` (a local folder) or '
                '`config` (keyword arguments of SiglipVisionConfig).')

        num_layers = len(tower.encoder.layers)
        layers = [feature_layer] if isinstance(feature_layer, int) \
            else list(feature_layer)
        if not layers:
            raise ValueError('feature_layer must name at least one layer')
        for index in layers:
            if not -(num_layers + 1) <= index <= num_layers:
                raise IndexError(
                    f'feature_layer {index} is out of range for a tower of '
                    f'{num_layers} layers (hidden states 0..{num_layers})')
        # Positive indices into the hidden states (0 = embeddings).
        self.feature_layers = [i % (num_layers + 1) for i in layers]
        # Drop what never reaches the output.
        keep = max(self.feature_layers)
        tower.encoder.layers = tower.encoder.layers[:keep]
        tower.config.num_hidden_layers = keep
        tower.post_layernorm = None
        if getattr(tower, 'head', None) is not None:
            del tower.head
        tower.use_head = False
        tower.config.vision_use_head = False
        self.vision_tower = tower

        vision_config = tower.config
        self.select_strategy = select_strategy
        self.with_cp = with_cp
        self.embed_dims = vision_config.hidden_size * len(self.feature_layers)
        self.patch_size = vision_config.patch_size
        self.image_size = vision_config.image_size
        side = vision_config.image_size // vision_config.patch_size
        self.grid: Tuple[int, int] = (side, side)

    def _layer(self, layer: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
        if self.with_cp and self.training and \
                torch.is_grad_enabled():
            return checkpoint(layer, hidden, None, use_reentrant=False)
        return layer(hidden, None)

    def encode_frames(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` images -> ``(N, h * w, embed_dims)`` features."""
        tower = self.vision_tower
        dtype = tower.embeddings.patch_embedding.weight.dtype
        hidden = tower.embeddings(pixel_values.to(dtype))
        states = {0: hidden}
        for i, layer in enumerate(tower.encoder.layers, start=1):
            hidden = self._layer(layer, hidden)
            states[i] = hidden
        features = torch.cat([states[i] for i in self.feature_layers], -1)
        if self.select_strategy == 'default':
            features = features[:, 1:]
        return features

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Encode ``(B, T, C, H, W)`` frames into ``(B, T * h * w, D)``."""
        if frames.dim() != 5:
            raise ValueError('SigLIPVisionEncoder expects frames of shape '
                             f'(B, T, C, H, W), got {tuple(frames.shape)}')
        b, t = frames.shape[:2]
        if tuple(frames.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(
                f'SigLIPVisionEncoder was built for {self.image_size}x'
                f'{self.image_size} frames (grid {self.grid}), got '
                f'{tuple(frames.shape[-2:])}: resize frames to image_size in '
                'the pipeline')
        features = self.encode_frames(frames.flatten(0, 1))
        return features.reshape(b, t * features.shape[1], -1)
