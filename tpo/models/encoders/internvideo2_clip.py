"""InternVideo2-CLIP, the encoders of the released VideoChat-TPO's temporal
head inputs (OpenGVLab/TPO ``app.py`` ``temporal_head``): a video tower
giving one 768-d embedding per 8-frame clip, and its LLaMA text encoder
(Chinese-LLaMA-Alpaca 7B with LoRA) whose 4096-d token states are CG-DETR's
word features.

Module and parameter names are those of the release's
``InternVideo2_CLIP`` (``vision_encoder.*``, ``text_encoder.*``), so its
checkpoints load as they are. Real weights are local files: the vision tower
and the text encoder of ``OpenGVLab/InternVideo2-CLIP-1B-224p-f8``
(``1B_clip.pth`` holds both after InternVideo2-CLIP training; the LLaMA
config and tokenizer are ``chinese_alpaca_lora_7b``).
"""
from typing import List, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS
from tpo.utils.local_files import require_local_path
from ..layers import FeedForward
from ..utils.pretrained import load_pretrained

WEIGHTS_SOURCE = ('OpenGVLab/InternVideo2-CLIP-1B-224p-f8 (1B_clip.pth; '
                  'chinese_alpaca_lora_7b for the LLaMA config and '
                  'tokenizer)')


class RMSNorm(nn.Module):
    """LLaMA-style RMS norm (InternVideo2's block norm)."""

    def __init__(self, dims: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dims))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class LayerScale(nn.Module):

    def __init__(self, dims: int, init_value: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dims, ), init_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Attention(nn.Module):
    """Self-attention with RMS-normalised queries and keys (over all
    heads)."""

    def __init__(self, dims: int, num_heads: int, qkv_bias: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dims, dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)
        self.q_norm = RMSNorm(dims)
        self.k_norm = RMSNorm(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bsz, num, dims = x.shape
        q, k, v = self.qkv(x).view(bsz, num, 3, dims).unbind(2)
        q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = (t.view(bsz, num, self.num_heads, -1).transpose(1, 2)
                   for t in (q, k, v))
        scale = q.shape[-1]**-0.5
        attn = ((q * scale) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(bsz, num, dims))


class Block(nn.Module):

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float,
                 qkv_bias: bool, init_value: float) -> None:
        super().__init__()
        self.norm1 = RMSNorm(dims)
        self.attn = Attention(dims, num_heads, qkv_bias)
        self.ls1 = LayerScale(dims, init_value)
        self.norm2 = RMSNorm(dims)
        self.mlp = FeedForward(dims, int(dims * mlp_ratio))
        self.ls2 = LayerScale(dims, init_value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class CrossAttention(nn.Module):
    """Bias-free q/k/v projections with separate biases (InternVideo2's
    pooling attention)."""

    def __init__(self, dims: int, num_heads: int, out_dims: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dims, dims, bias=False)
        self.k = nn.Linear(dims, dims, bias=False)
        self.v = nn.Linear(dims, dims, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dims))
        self.k_bias = nn.Parameter(torch.zeros(dims))
        self.v_bias = nn.Parameter(torch.zeros(dims))
        self.proj = nn.Linear(dims, out_dims)

    def forward(self, q: torch.Tensor, k: torch.Tensor,
                v: torch.Tensor) -> torch.Tensor:
        bsz, num = q.shape[:2]

        def heads(x, layer, bias):
            x = F.linear(x, layer.weight, bias)
            return x.view(bsz, x.shape[1], self.num_heads, -1).transpose(1, 2)

        q = heads(q, self.q, self.q_bias)
        k = heads(k, self.k, self.k_bias)
        v = heads(v, self.v, self.v_bias)
        attn = ((q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(bsz, num, -1))


class AttentionPooling(nn.Module):
    """The mean token attends to all tokens; projected to the CLIP width."""

    def __init__(self, dims: int, num_heads: int, out_dims: int) -> None:
        super().__init__()
        self.norm1_q = nn.LayerNorm(dims, eps=1e-5)
        self.norm1_k = nn.LayerNorm(dims, eps=1e-5)
        self.norm1_v = nn.LayerNorm(dims, eps=1e-5)
        self.cross_attn = CrossAttention(dims, num_heads, out_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        query = self.norm1_q(x.mean(1, keepdim=True))
        return self.cross_attn(query, self.norm1_k(x),
                               self.norm1_v(x)).squeeze(1)


def sincos_3d(dims: int, grid: int, frames: int) -> torch.Tensor:
    """``(1 + frames * grid^2, dims)`` table: a zero row for the class token,
    then 3/4 of the channels for space (2-d sine-cosine) and 1/4 for time
    (MAE-ST's layout)."""

    def one_d(channels: int, positions: np.ndarray) -> np.ndarray:
        omega = 1.0 / 10000**(np.arange(channels // 2, dtype=np.float64) /
                              (channels / 2.0))
        out = np.einsum('m,d->md', positions.reshape(-1).astype(np.float64),
                        omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    spatial_dims, temporal_dims = dims // 4 * 3, dims // 4
    h, w = np.meshgrid(np.arange(grid, dtype=np.float32),
                       np.arange(grid, dtype=np.float32))
    spatial = np.concatenate([one_d(spatial_dims // 2, h),
                              one_d(spatial_dims // 2, w)], axis=1)
    temporal = one_d(temporal_dims, np.arange(frames, dtype=np.float32))
    table = np.concatenate([
        np.repeat(temporal[:, None], grid * grid, 1),
        np.repeat(spatial[None], frames, 0)
    ], -1).reshape(-1, dims)
    return torch.from_numpy(
        np.concatenate([np.zeros((1, dims)), table]).astype(np.float32))


@MODELS.register_module()
class InternVideo2CLIPVision(nn.Module):
    """InternVideo2's CLIP video tower: 3-d patch embedding, class token,
    3-d sine-cosine positions (a learnt table in the checkpoints), blocks
    with RMS norms, q/k normalisation and layer scale, attention pooling to
    ``clip_dims``.

    Input ``(B, T, 3, H, W)`` frames (ImageNet-normalised, ``T =
    num_frames``), output ``(B, clip_dims)``. The release's 1B tower:
    ``embed_dims=1408, depth=40, num_heads=16, mlp_ratio=48/11,
    patch_size=14, clip_dims=768, pool_heads=16, num_frames=8``.

    Args:
        pretrained: checkpoint file(s) with ``vision_encoder.*`` tensors
            (the release's key names), loaded strictly.
    """

    def __init__(self,
                 img_size: int = 224,
                 patch_size: int = 14,
                 num_frames: int = 8,
                 embed_dims: int = 1408,
                 depth: int = 40,
                 num_heads: int = 16,
                 mlp_ratio: float = 48 / 11,
                 qkv_bias: bool = False,
                 init_value: float = 0.1,
                 clip_dims: int = 768,
                 pool_heads: int = 16,
                 pretrained: Union[str, Sequence[str], None] = None) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.grid = img_size // patch_size
        self.embed_dims = embed_dims
        self.out_dims = clip_dims
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv3d(3, embed_dims,
                                          (1, patch_size, patch_size),
                                          (1, patch_size, patch_size))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(
            sincos_3d(embed_dims, self.grid, num_frames)[None])
        self.blocks = nn.ModuleList(
            Block(embed_dims, num_heads, mlp_ratio, qkv_bias, init_value)
            for _ in range(depth))
        self.clip_projector = AttentionPooling(embed_dims, pool_heads,
                                               clip_dims)
        if pretrained is not None:
            load_pretrained(self, pretrained, 'vision_encoder.',
                            'InternVideo2CLIPVision', WEIGHTS_SOURCE)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed.proj(frames.transpose(1, 2))  # B C T h w
        x = x.flatten(3).permute(0, 2, 3, 1).flatten(1, 2)  # B T*hw C
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], 1)
        pos = self.pos_embed
        if frames.shape[1] == 1:  # an image: the mean over time
            pos = torch.cat([
                pos[:, :1], pos[:, 1:].view(1, self.num_frames, -1,
                                            self.embed_dims).mean(1)
            ], 1)
        x = x + pos
        for block in self.blocks:
            x = block(x)
        return self.clip_projector(x)

    @torch.no_grad()
    def clip_features(self, frames: torch.Tensor,
                      chunk: int = 100) -> torch.Tensor:
        """``(N * num_frames, 3, H, W)`` frames -> ``(N, clip_dims)``, one
        row per clip of ``num_frames`` consecutive frames, ``chunk`` clips
        per call (as the release's ``extract_video``)."""
        clips = frames.view(-1, self.num_frames, *frames.shape[1:])
        return torch.cat([self(clips[i:i + chunk])
                          for i in range(0, len(clips), chunk)])


@MODELS.register_module()
class InternVideo2CLIPText(nn.Module):
    """InternVideo2-CLIP's LLaMA text encoder as the release uses it for
    CG-DETR: the token states of ``"summarize:" + query`` (BOS ... EOS, at
    most ``max_length`` tokens), unprojected and unnormalised.

    The LLaMA carries LoRA on ``q_proj`` / ``v_proj`` (r16, alpha 32, as
    InternVideo2-CLIP trains it), under the release's names
    (``text_encoder.transformer.*``, ``text_encoder.text_projection``).

    Args:
        llama: a LLaMA config: ``dict(path=...)`` (a local folder with
            ``config.json``, e.g. ``chinese_alpaca_lora_7b``) or the
            config's fields (tests).
        tokenizer: a ``TOKENIZERS`` config of that LLaMA's tokenizer.
        clip_dims: width of ``text_projection`` (unused by CG-DETR, kept for
            strict loading).
        max_length: tokens per query (the release: 80).
        max_words: word features kept (the release: 100).
        pretrained: checkpoint file(s) with ``text_encoder.*`` tensors.
    """

    def __init__(self,
                 llama: dict,
                 tokenizer: dict,
                 clip_dims: int = 768,
                 max_length: int = 80,
                 max_words: int = 100,
                 prefix: str = 'summarize:',
                 pretrained: Union[str, Sequence[str], None] = None) -> None:
        super().__init__()
        from peft import LoraConfig, get_peft_model
        from transformers import LlamaConfig, LlamaForCausalLM

        from tpo.registry import TOKENIZERS
        llama = dict(llama)
        if 'path' in llama:
            path = require_local_path(llama.pop('path'),
                                      'InternVideo2CLIPText (llama.path)',
                                      ['config.json'], WEIGHTS_SOURCE)
            config = LlamaConfig.from_pretrained(path, local_files_only=True,
                                                 **llama)
        else:
            config = LlamaConfig(**llama)
        model = get_peft_model(
            LlamaForCausalLM(config),
            LoraConfig(task_type='CAUSAL_LM', r=16, lora_alpha=32,
                       lora_dropout=0.1, target_modules=['q_proj',
                                                         'v_proj']))
        self.transformer = model.base_model.model.model
        self.text_projection = nn.Parameter(
            torch.empty(config.hidden_size, clip_dims))
        self.tokenizer = TOKENIZERS.build(tokenizer)
        self.out_dims = config.hidden_size
        self.max_length = max_length
        self.max_words = max_words
        self.prefix = prefix
        if pretrained is not None:
            load_pretrained(self, pretrained, 'text_encoder.',
                            'InternVideo2CLIPText', WEIGHTS_SOURCE)

    def token_ids(self, query: str) -> List[int]:
        """BOS, the prefixed query, EOS; cut to ``max_length`` keeping EOS
        (the release's tokenizer with ``add_eos_token=True``)."""
        tok = self.tokenizer
        ids = tok(self.prefix + query, add_special_tokens=False)['input_ids']
        ids = ids[:self.max_length - 2]
        return [tok.bos_token_id] + ids + [tok.eos_token_id]

    @torch.no_grad()
    def forward(self, queries: Sequence[str]) -> List[torch.Tensor]:
        """One ``(L_i, D)`` tensor of token states per query."""
        device = self.text_projection.device
        out = []
        for query in queries:
            ids = torch.tensor([self.token_ids(query)], device=device)
            states = self.transformer(input_ids=ids).last_hidden_state[0]
            out.append(states[:self.max_words].float())
        return out


def clip_frame_indices(num_frames: int, fps: float,
                       clip_fps: float = 8.0,
                       frames_per_clip: int = 8) -> List[int]:
    """The frames the release reads for its clip features (``app.py``
    ``read_frames_decord(sample='fps8.0')``): one frame every ``1 /
    clip_fps`` s at the middle of its slot (``round`` half to even), those
    past the video dropped, then cut to whole clips of
    ``frames_per_clip``: one clip per second at the defaults."""
    duration = num_frames / fps
    delta = 1.0 / clip_fps
    seconds = np.arange(delta / 2, duration + delta / 2, delta)
    indices = [int(i) for i in np.around(seconds * fps).astype(int)
               if i < num_frames]
    extra = len(indices) % frames_per_clip
    return indices[:len(indices) - extra] if extra else indices


def temporal_endpoint_features(num_clips: int) -> torch.Tensor:
    """``(L, 2)`` TEF ``[i / L, (i + 1) / L]`` (the release's
    ``extract_video(use_tef=True)``)."""
    start = torch.arange(0, num_clips, 1.0) / num_clips
    return torch.stack([start, start + 1.0 / num_clips], 1)


__all__ = [
    'InternVideo2CLIPVision', 'InternVideo2CLIPText', 'clip_frame_indices',
    'temporal_endpoint_features', 'sincos_3d'
]
