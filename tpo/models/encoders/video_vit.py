"""A video Vision Transformer with tubelet patch embedding (UMT-style).

With ``qkv_bias='qv'``, ``norm_eps=1e-6``, ``position_table='1d'``,
``pos_ckpt_frames=4`` and ``final_norm_eps=1e-12`` it computes exactly what
UMT-L does inside VideoChat2 / VideoChat-TPO (``PretrainVisionTransformer``
followed by ``vision_layernorm``), and a released UMT state dict loads with
no missing or unexpected keys once ``tools/model_converters`` has renamed it
(``vision_encoder.encoder.X`` -> ``vision_encoder.X``, ``vision_layernorm``
-> ``vision_encoder.norm``).
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import nn
from torch.utils.checkpoint import checkpoint

from tpo.registry import MODELS
from ..layers import FeedForward
from ..utils.pretrained import load_pretrained


def sinusoid_position_table(num_positions: int, dim: int) -> torch.Tensor:
    """The fixed sine-cosine position table of "Attention is all you need"."""
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    # float64 throughout, as UMT's numpy table (a float32 exponent is off
    # by ~3e-5 at the 3136 positions of UMT-L).
    exponent = 2 * (torch.arange(dim, dtype=torch.float64) // 2) / dim
    div = torch.pow(torch.tensor(10000.0, dtype=torch.float64), exponent)[None]
    table = position / div
    table[:, 0::2] = torch.sin(table[:, 0::2])
    table[:, 1::2] = torch.cos(table[:, 1::2])
    return table.float()


def sinusoid_position_table_3d(grid: tuple, dim: int) -> torch.Tensor:
    """A separable (time, height, width) sine-cosine table: a third of the
    channels each (MAE-style), so positions are linear in the features."""
    t, h, w = grid
    dims = [dim // 3 // 2 * 2] * 2
    dims = [dim - sum(dims)] + dims
    axes = [
        sinusoid_position_table(n, d)
        for n, d in zip(grid, dims)
    ]
    table = torch.cat([
        axes[0][:, None, None].expand(t, h, w, -1),
        axes[1][None, :, None].expand(t, h, w, -1),
        axes[2][None, None, :].expand(t, h, w, -1)
    ], -1)
    return table.reshape(t * h * w, dim)


def interpolate_table_frames(table: torch.Tensor, num_frames: int,
                             frames: int) -> torch.Tensor:
    """Resample a ``(num_frames * N, D)`` table to ``frames`` frames, each
    (spatial position, channel) linearly along time (UMT's rule)."""
    n, dim = table.shape[0] // num_frames, table.shape[1]
    x = table.reshape(num_frames, n, dim).permute(1, 2, 0)  # (N, D, T)
    x = F.interpolate(x, size=frames, mode='linear', align_corners=False)
    return x.permute(2, 0, 1).reshape(frames * n, dim)


def umt_position_table(grid: Tuple[int, int, int], dim: int,
                       ckpt_frames: Optional[int] = None,
                       ckpt_size: Optional[int] = None) -> torch.Tensor:
    """UMT's fixed table (``get_sinusoid_encoding_table(2)`` of the official
    ``modeling_vit.py``): a 1-d sine-cosine table over the flattened tokens of
    the *pre-training* grid (``ckpt_frames x ckpt_size x ckpt_size``), resized
    bicubically in space (per frame) and then linearly in time to ``grid``.

    Without ``ckpt_*`` it is the plain 1-d table over ``t * h * w`` tokens.
    VideoChat2 builds UMT-L with ``ckpt_num_frame=4``, so a 16-frame model
    uses the 4-frame table stretched to 16 frames, not a 3136-row table.
    """
    t, h, w = grid
    t0 = ckpt_frames or t
    h0, w0 = (ckpt_size, ckpt_size) if ckpt_size else (h, w)
    table = sinusoid_position_table(t0 * h0 * w0, dim)
    if (h0, w0) != (h, w):
        x = table.reshape(t0, h0, w0, dim).permute(0, 3, 1, 2)
        x = F.interpolate(x, size=(h, w), mode='bicubic', align_corners=False)
        table = x.permute(0, 2, 3, 1).reshape(t0 * h * w, dim)
    if t0 != t:
        table = interpolate_table_frames(table, t0, t)
    return table


class TubeletEmbed(nn.Module):
    """Splits a clip into ``tubelet x patch x patch`` cubes and embeds them."""

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int,
                 tubelet_size: int) -> None:
        super().__init__()
        self.proj = nn.Conv3d(
            in_channels,
            embed_dims,
            kernel_size=(tubelet_size, patch_size, patch_size),
            stride=(tubelet_size, patch_size, patch_size))

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, T', H' * W', D)."""
        x = self.proj(video)
        return x.flatten(3).permute(0, 2, 3, 1)


QKV_BIAS_MODES = ('qkv', 'qv', 'none')


def qkv_bias_mode(qkv_bias: Union[bool, str]) -> str:
    """Normalise the ``qkv_bias`` argument to one of :data:`QKV_BIAS_MODES`."""
    if qkv_bias is True:
        return 'qkv'
    if qkv_bias is False or qkv_bias is None:
        return 'none'
    if qkv_bias not in QKV_BIAS_MODES:
        raise ValueError(f'qkv_bias must be a bool or one of {QKV_BIAS_MODES},'
                         f' got {qkv_bias!r}')
    return qkv_bias


class Attention(nn.Module):
    """Multi-head self-attention on top of ``scaled_dot_product_attention``.

    Args:
        qkv_bias: ``'qkv'`` (or True): the ``qkv`` Linear has a bias;
            ``'qv'``: UMT/BEiT layout, ``qkv`` has no bias and separate
            ``q_bias`` / ``v_bias`` parameters are added (the key bias is
            fixed at zero); ``'none'`` (or False): no bias at all.
    """

    def __init__(self, dims: int, num_heads: int,
                 qkv_bias: Union[bool, str]) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.bias_mode = qkv_bias_mode(qkv_bias)
        self.qkv = nn.Linear(dims, dims * 3, bias=self.bias_mode == 'qkv')
        if self.bias_mode == 'qv':
            self.q_bias = nn.Parameter(torch.zeros(dims))
            self.v_bias = nn.Parameter(torch.zeros(dims))
        else:
            self.q_bias = self.v_bias = None
        self.proj = nn.Linear(dims, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        bias = self.qkv.bias
        if self.q_bias is not None:
            bias = torch.cat(
                [self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)
        qkv = qkv.reshape(b, n, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float,
                 qkv_bias: Union[bool, str], norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=norm_eps)
        self.attn = Attention(dims, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dims, eps=norm_eps)
        self.mlp = FeedForward(dims, int(dims * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


@MODELS.register_module()
class VideoViT(BaseModule):
    """Video ViT: tubelet embedding, fixed sinusoidal space-time positions.

    Only the blocks up to ``out_layer`` are built (UMT-L with
    ``out_layer=-2`` has 23 of its 24 blocks), so a checkpoint of the
    truncated encoder loads with no unused weights.

    Images: a clip of one frame (``T == 1``) gets the position table of a
    single frame, as UMT does with ``use_image=True`` (its ``img_pos_embed``:
    for ``'1d'`` the plain table over the ``H' * W'`` patches of one frame,
    resized bicubically from ``pos_ckpt_size`` when that differs; for
    ``'3d'`` the first frame's slice). Other clip lengths resample the
    video table linearly along time.

    Args:
        img_size: input frame size (square).
        patch_size: spatial patch size.
        num_frames: frames per clip the position table is built for.
        tubelet_size: frames per patch cube.
        embed_dims, depth, num_heads, mlp_ratio: transformer geometry
            (``depth`` is the full depth of the pre-trained network).
        qkv_bias: ``True``/``'qkv'``: a bias on the ``qkv`` Linear;
            ``'qv'``: UMT's separate ``q_bias``/``v_bias`` (no key bias);
            ``False``/``'none'``: no bias.
        out_layer: index of the block whose output is returned (``-2``: the
            second-to-last block, as VideoChat2 does with UMT); later blocks
            are not built.
        final_norm: apply a LayerNorm (``norm``) to the returned features;
            VideoChat2's ``vision_layernorm`` maps onto it.
        norm_eps: epsilon of the blocks' LayerNorms (UMT: 1e-6).
        final_norm_eps: epsilon of ``norm`` (VideoChat2's
            ``vision_layernorm``: 1e-12).
        position_table: ``'1d'``, the sine-cosine table over the flattened
            tokens of UMT, or ``'3d'``, separable time/height/width tables
            (easier to learn from scratch).
        pos_ckpt_frames, pos_ckpt_size: grid (frames, side in patches) that
            the ``'1d'`` table is built for before being resized to this
            model's grid, as UMT does (VideoChat2: 4 frames, 14 patches).
            None: the model's own grid.
        with_cp: recompute the blocks' activations in the backward pass
            (gradient checkpointing; ``TPOModel(gradient_checkpointing=True)``
            sets it).
        pretrained: a local checkpoint in TPOModel keys, loaded when the
            module is built (:func:`~tpo.models.utils.load_pretrained`): a
            VideoChat2 / VideoChat-TPO release converted by
            ``tools/model_converters``, or a TPO checkpoint.
        pretrained_prefix: the encoder's keys in ``pretrained``.
    """

    def __init__(self,
                 img_size: int = 224,
                 patch_size: int = 16,
                 num_frames: int = 16,
                 tubelet_size: int = 1,
                 in_channels: int = 3,
                 embed_dims: int = 1024,
                 depth: int = 24,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.0,
                 qkv_bias: Union[bool, str] = True,
                 out_layer: int = -2,
                 final_norm: bool = True,
                 norm_eps: float = 1e-6,
                 final_norm_eps: float = 1e-5,
                 position_table: str = '1d',
                 pos_ckpt_frames: Optional[int] = None,
                 pos_ckpt_size: Optional[int] = None,
                 with_cp: bool = False,
                 pretrained: Optional[str] = None,
                 pretrained_prefix: str = 'vision_encoder.',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        self.pretrained = pretrained
        self.embed_dims = embed_dims
        self.patch_embed = TubeletEmbed(in_channels, embed_dims, patch_size,
                                        tubelet_size)
        grid = (num_frames // tubelet_size, img_size // patch_size,
                img_size // patch_size)
        self.grid = grid
        frame_grid = (1, ) + grid[1:]
        if position_table == '1d':
            table = umt_position_table(grid, embed_dims, pos_ckpt_frames,
                                       pos_ckpt_size)
            image_table = umt_position_table(frame_grid, embed_dims, None,
                                             pos_ckpt_size)
        elif position_table == '3d':
            table = sinusoid_position_table_3d(grid, embed_dims)
            image_table = table[:grid[1] * grid[2]].clone()
        else:
            raise ValueError(f"position_table must be '1d' or '3d', got "
                             f'{position_table!r}')
        self.register_buffer('pos_embed', table[None], persistent=False)
        self.register_buffer(
            'img_pos_embed', image_table[None], persistent=False)
        self.out_layer = out_layer % depth
        self.blocks = nn.ModuleList(
            Block(embed_dims, num_heads, mlp_ratio, qkv_bias, norm_eps)
            for _ in range(self.out_layer + 1))
        self.norm = nn.LayerNorm(embed_dims, eps=final_norm_eps) \
            if final_norm else nn.Identity()
        if pretrained is not None:
            # Loaded at build time, like a Hugging Face model: test and
            # inference runs never call init_weights.
            load_pretrained(self, pretrained, pretrained_prefix, 'VideoViT')

    def _positions(self, frames: int, tokens: int) -> torch.Tensor:
        """The table for ``frames`` frames of ``tokens`` patches each."""
        per_frame = self.grid[1] * self.grid[2]
        if frames * tokens == self.pos_embed.shape[1]:
            return self.pos_embed
        if tokens == per_frame:
            if frames == 1:
                return self.img_pos_embed
            # A clip of another length: resample the table along time.
            return interpolate_table_frames(self.pos_embed[0], self.grid[0],
                                            frames)[None]
        # Another frame size: interpolate the table along tokens.
        print_log(
            f'VideoViT: {tokens} patches per frame instead of {per_frame}; '
            'the position table is interpolated along tokens', 'current')
        table = F.interpolate(
            self.pos_embed.transpose(1, 2), size=frames * tokens,
            mode='linear')
        return table.transpose(1, 2)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """Encode ``(B, T, C, H, W)`` frames into ``(B, T'*N, D)`` tokens."""
        x = self.patch_embed(video.transpose(1, 2))
        frames, tokens = x.shape[1:3]
        x = x.flatten(1, 2)
        x = x + self._positions(frames, tokens).to(x.dtype)
        for block in self.blocks:
            if self.with_cp and self.training and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.norm(x)
