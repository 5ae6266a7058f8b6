"""Deterministic stand-in weights for the release parity fixture.

Every tensor is drawn from its own name only (numpy's PCG64 seeded with the
CRC-32 of the name), so the official code (``make_fixture.py``) and tpo
(the tests, after the key conversion) rebuild identical values without any
file of weights. numpy and torch only: importable from both environments.

Scales keep a tiny random network well conditioned:

* biases (``*bias``): ``0.1 * N(0, 1)``;
* other 1-d tensors (norm weights, layer-scale gammas, PReLU slopes):
  ``1 + 0.1 * N(0, 1)``;
* convolution kernels (``*.weight`` with 3+ dims): ``N(0, 1) / sqrt(fan_in)``
  with ``fan_in`` the product of all but the first dimension;
* every other tensor (linear weights, embeddings, tokens, position tables):
  ``N(0, 1) / sqrt(last dimension)``; 0-d tensors: ``1 + 0.1 * N(0, 1)``.

``row_scales`` ({name: {row: factor}}) multiplies rows of named matrices,
e.g. the LLM's output rows of the task-begin tokens so that the random
model emits them.
"""
import zlib
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import torch


def _scale(name: str, shape: Sequence[int]) -> tuple:
    """(offset, standard deviation) of the tensor called ``name``."""
    if name.endswith('bias'):
        return 0.0, 0.1
    if len(shape) <= 1:
        return 1.0, 0.1
    if len(shape) >= 3 and name.endswith('weight'):
        return 0.0, 1.0 / np.sqrt(float(np.prod(shape[1:])))
    return 0.0, 1.0 / np.sqrt(float(shape[-1]))


def named_tensor(name: str, shape: Sequence[int]) -> torch.Tensor:
    """The float32 tensor of ``shape`` that belongs to ``name``."""
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    offset, std = _scale(name, shape)
    value = offset + std * rng.standard_normal(shape)
    return torch.from_numpy(np.asarray(value, dtype=np.float32))


def named_state_dict(
        manifest: Mapping[str, Sequence[int]],
        row_scales: Optional[Mapping[str, Mapping]] = None
) -> Dict[str, torch.Tensor]:
    """name -> tensor for every entry of ``manifest`` (name -> shape), with
    the rows of ``row_scales`` ({name: {row: factor}}) multiplied."""
    state = {name: named_tensor(name, shape)
             for name, shape in manifest.items()}
    for name, rows in (row_scales or {}).items():
        if name not in state:
            raise KeyError(f'row_scales names {name!r}, which the manifest '
                           'does not hold')
        for row, factor in rows.items():
            state[name][int(row)] *= float(factor)
    return state
