"""DETR-style post-norm transformer encoder over ``(L, B, D)`` sequences."""
import copy
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .drop_path import SequenceDropPath

ACTIVATIONS = dict(relu=nn.ReLU, gelu=nn.GELU, prelu=nn.PReLU)


def build_activation(name: str) -> nn.Module:
    """``'relu'``, ``'gelu'`` or ``'prelu'`` (a learned slope)."""
    if name not in ACTIVATIONS:
        raise KeyError(f'activation {name!r} is not one of '
                       f'{sorted(ACTIVATIONS)}')
    return ACTIVATIONS[name]()


class InputProjectionLayer(nn.Module):
    """LayerNorm -> Dropout -> Linear (-> ReLU): one layer of a DETR-style
    input projection."""

    def __init__(self, in_dims: int, out_dims: int, layer_norm: bool = True,
                 dropout: float = 0.1, relu: bool = True) -> None:
        super().__init__()
        self.relu = relu
        self.LayerNorm = nn.LayerNorm(in_dims) if layer_norm else None
        self.net = nn.Sequential(nn.Dropout(dropout),
                                 nn.Linear(in_dims, out_dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.LayerNorm is not None:
            x = self.LayerNorm(x)
        x = self.net(x)
        return F.relu(x) if self.relu else x


def add_post_norm_ffn(layer: nn.Module, dims: int, ffn_dims: int,
                      dropout: float, activation: str,
                      residuals: int = 2) -> None:
    """Give ``layer`` the feed-forward block of a DETR-style post-norm layer
    and a norm and drop path per residual branch, under DETR's names
    (``linear1``, ``dropout``, ``linear2``, ``activation``, ``norm1`` ...
    ``norm<residuals>``, ``dropout1`` ... ``dropout<residuals>``), so
    released weights load by name."""
    layer.linear1 = nn.Linear(dims, ffn_dims)
    layer.dropout = nn.Dropout(dropout)
    layer.linear2 = nn.Linear(ffn_dims, dims)
    for index in range(1, residuals + 1):
        setattr(layer, f'norm{index}', nn.LayerNorm(dims))
        setattr(layer, f'dropout{index}', SequenceDropPath(dropout))
    layer.activation = build_activation(activation)


class TransformerEncoderLayer(nn.Module):
    """Post-norm self-attention layer; positions are added to queries and
    keys, residual branches go through stochastic depth."""

    def __init__(self, dims: int, num_heads: int, ffn_dims: int,
                 dropout: float = 0.1, activation: str = 'prelu') -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dims, num_heads,
                                               dropout=dropout)
        add_post_norm_ffn(self, dims, ffn_dims, dropout, activation)

    def forward(self, src: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None,
                pos: Optional[torch.Tensor] = None) -> torch.Tensor:
        qk = src if pos is None else src + pos
        out = self.self_attn(qk, qk, src, key_padding_mask=key_padding_mask,
                             need_weights=False)[0]
        src = self.norm1(src + self.dropout1(out))
        out = self.linear2(self.dropout(self.activation(self.linear1(src))))
        return self.norm2(src + self.dropout2(out))


class TransformerEncoder(nn.Module):
    """``num_layers`` copies of an encoder layer."""

    def __init__(self, layer: nn.Module, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            copy.deepcopy(layer) for _ in range(num_layers))

    def forward(self, src: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None,
                pos: Optional[torch.Tensor] = None) -> torch.Tensor:
        for layer in self.layers:
            src = layer(src, key_padding_mask, pos)
        return src
