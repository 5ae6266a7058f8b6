"""Multi-head attention whose callers project queries, keys and values."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class ProjectionFreeAttention(nn.Module):
    """Multi-head attention without input projections; only ``out_proj`` is
    learned.

    Queries and keys have ``embed_dims`` channels, values ``value_dims``.
    With ``skip_keys > 0`` the softmax runs over all keys but the output
    sums over the keys after the first ``skip_keys`` only (CG-DETR's
    adaptive cross-attention with dummy keys).
    """

    def __init__(self, embed_dims: int, num_heads: int, dropout: float = 0.,
                 value_dims: Optional[int] = None) -> None:
        super().__init__()
        value_dims = value_dims or embed_dims
        if embed_dims % num_heads or value_dims % num_heads:
            raise ValueError('embed_dims and value_dims must be divisible by '
                             'num_heads')
        self.embed_dims = embed_dims
        self.value_dims = value_dims
        self.num_heads = num_heads
        self.dropout = dropout
        self.out_proj = nn.Linear(value_dims, value_dims)
        nn.init.constant_(self.out_proj.bias, 0.)

    def forward(self,
                query: torch.Tensor,
                key: torch.Tensor,
                value: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None,
                skip_keys: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(Lq, B, E)`` queries, ``(Lk, B, E)`` keys, ``(Lk, B, Ev)``
        values, ``(B, Lk)`` key padding (True = pad).

        Returns the ``(Lq, B, Ev)`` output and the ``(B, Lq, Lk)`` attention
        averaged over heads (before dropout).
        """
        lq, bsz, _ = query.shape
        lk = key.shape[0]
        h = self.num_heads
        hd, vhd = self.embed_dims // h, self.value_dims // h
        q = (query * hd**-0.5).reshape(lq, bsz * h, hd).transpose(0, 1)
        k = key.reshape(lk, bsz * h, hd).transpose(0, 1)
        v = value.reshape(lk, bsz * h, vhd).transpose(0, 1)
        weights = q @ k.transpose(1, 2)
        if key_padding_mask is not None:
            weights = weights.view(bsz, h, lq, lk).masked_fill(
                key_padding_mask[:, None, None].bool(), float('-inf'))
            weights = weights.view(bsz * h, lq, lk)
        weights = weights.softmax(-1)
        dropped = F.dropout(weights, self.dropout, self.training)
        out = dropped[:, :, skip_keys:] @ v[:, skip_keys:]
        out = out.transpose(0, 1).reshape(lq, bsz, self.value_dims)
        return self.out_proj(out), weights.view(bsz, h, lq, lk).mean(1)
