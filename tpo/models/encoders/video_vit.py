"""A video Vision Transformer with tubelet patch embedding (UMT-style)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from tpo.registry import MODELS


def sinusoid_position_table(num_positions: int, dim: int) -> torch.Tensor:
    """The fixed sine-cosine position table of "Attention is all you need"."""
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    div = torch.pow(10000.0, 2 * (torch.arange(dim) // 2) / dim)[None]
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


class Attention(nn.Module):
    """Multi-head self-attention on top of ``scaled_dot_product_attention``."""

    def __init__(self, dims: int, num_heads: int, qkv_bias: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dims, dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    """The two-layer GELU feed-forward block of a ViT."""

    def __init__(self, dims: int, hidden_dims: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float,
                 qkv_bias: bool) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=1e-6)
        self.attn = Attention(dims, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dims, eps=1e-6)
        self.mlp = Mlp(dims, int(dims * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


@MODELS.register_module()
class VideoViT(BaseModule):
    """Video ViT: tubelet embedding, fixed sinusoidal space-time positions.

    Args:
        img_size: input frame size (square).
        patch_size: spatial patch size.
        num_frames: frames per clip the position table is built for.
        tubelet_size: frames per patch cube.
        embed_dims, depth, num_heads, mlp_ratio: transformer geometry.
        out_layer: index of the block whose output is returned (``-2``: the
            second-to-last block, as VideoChat2 does with UMT).
        position_table: ``'1d'``, the sine-cosine table over the flattened
            tokens of UMT, or ``'3d'``, separable time/height/width tables
            (easier to learn from scratch).
        final_norm: apply a LayerNorm to the returned features.
        pretrained: local checkpoint path loaded by ``init_weights``.
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
                 qkv_bias: bool = True,
                 out_layer: int = -2,
                 final_norm: bool = True,
                 position_table: str = '1d',
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if pretrained is not None:
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.patch_embed = TubeletEmbed(in_channels, embed_dims, patch_size,
                                        tubelet_size)
        grid = (num_frames // tubelet_size, img_size // patch_size,
                img_size // patch_size)
        if position_table == '1d':
            table = sinusoid_position_table(grid[0] * grid[1] * grid[2],
                                            embed_dims)
        elif position_table == '3d':
            table = sinusoid_position_table_3d(grid, embed_dims)
        else:
            raise ValueError(f"position_table must be '1d' or '3d', got "
                             f'{position_table!r}')
        self.register_buffer('pos_embed', table[None], persistent=False)
        self.blocks = nn.ModuleList(
            Block(embed_dims, num_heads, mlp_ratio, qkv_bias)
            for _ in range(depth))
        self.out_layer = out_layer % depth
        self.norm = nn.LayerNorm(embed_dims) if final_norm else nn.Identity()

    def _positions(self, x: torch.Tensor) -> torch.Tensor:
        num_tokens = x.shape[1]
        if num_tokens == self.pos_embed.shape[1]:
            return self.pos_embed
        # A clip of another length: interpolate the table along tokens.
        table = F.interpolate(
            self.pos_embed.transpose(1, 2), size=num_tokens, mode='linear')
        return table.transpose(1, 2)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """Encode ``(B, T, C, H, W)`` frames into ``(B, T'*N, D)`` tokens."""
        x = self.patch_embed(video.transpose(1, 2)).flatten(1, 2)
        x = x + self._positions(x).to(x.dtype)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == self.out_layer:
                break
        return self.norm(x)

