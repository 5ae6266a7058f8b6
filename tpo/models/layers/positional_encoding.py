"""Sine and learned positional encodings of 1-D sequences."""
import math

import torch
from torch import nn


def interleaved_sine(x: torch.Tensor, dims: int,
                     temperature: float = 10000.) -> torch.Tensor:
    """``(...)`` positions -> ``(..., dims)`` as ``[sin(x/t_0), cos(x/t_0),
    sin(x/t_1), ...]`` with ``t_j = temperature ** (2j / dims)``."""
    dim_t = torch.arange(dims, dtype=torch.float32, device=x.device)
    dim_t = temperature**(2 * (dim_t // 2) / dims)
    pos = x[..., None].float() / dim_t
    return torch.stack([pos[..., 0::2].sin(), pos[..., 1::2].cos()],
                       -1).flatten(-2)


def normalized_sine_positions(mask: torch.Tensor, dims: int) -> torch.Tensor:
    """Normalised sine positions of the valid elements: ``(B, L)`` mask (1 =
    valid) -> ``(B, L, dims)`` (DETR's ``PositionEmbeddingSine`` in 1-D with
    ``normalize=True``)."""
    x = mask.float().cumsum(1)
    x = x / (x[:, -1:] + 1e-6) * 2 * math.pi
    return interleaved_sine(x, dims)


def span_sine_embedding(spans: torch.Tensor, dims: int) -> torch.Tensor:
    """``(..., 2)`` spans ``(center, width)`` in ``[0, 1]`` -> ``(...,
    dims)``: half the channels encode the center, half the width."""
    half = dims // 2
    return torch.cat([
        interleaved_sine(spans[..., 0] * 2 * math.pi, half),
        interleaved_sine(spans[..., 1] * 2 * math.pi, half)
    ], -1)


class LearnedPositionalEncoding(nn.Module):
    """``LayerNorm(x + learned position)`` of ``(B, L, dims)`` tokens."""

    def __init__(self, max_positions: int, dims: int,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.position_embeddings = nn.Embedding(max_positions, dims)
        self.LayerNorm = nn.LayerNorm(dims)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = torch.arange(x.shape[1], device=x.device)
        return self.dropout(self.LayerNorm(x + self.position_embeddings(ids)))
