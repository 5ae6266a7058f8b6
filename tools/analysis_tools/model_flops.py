"""Model FLOPs of one TPO training sample, for MFU (``benchmark_scale.py``).

The count is analytic, from an ``estimate_memory.ARCHS``-style description
of the model (``scale_model.arch_from_model`` makes one of any built
model), in the convention of PaLM (Chowdhery et al., 2022, appendix B) and
Megatron-LM: matrix multiplications only, attention scores counted in full
(no causal discount), no recomputation (gradient checkpointing raises the
hardware FLOPs, not the model FLOPs):

* a weight matrix ``W`` (``in x out``) applied to ``n`` tokens costs
  ``2 n in out`` in the forward pass, ``2 n in out`` more for the gradient
  of its input when the backward pass reaches it (something trained lies
  below it), and ``2 n in out`` more for its own gradient only when ``W`` is
  trained. The frozen base of a LoRA-tuned LLM therefore costs ``4 n P``,
  not ``6 n P``: LoRA skips its weight gradients; the adapters
  (``r (in + out)`` per target) cost ``6 n r (in + out)``;
* an attention layer over ``n_q`` queries and ``n_k`` keys of width ``d``
  costs ``4 n_q n_k d`` forward (scores and weighted sum) and twice that
  backward when the backward pass reaches it;
* embedding look-ups, norms, activations, losses and the task heads (a few
  task embeddings per sample; SAM2 runs without gradients under prompt
  distillation) are left out.

``tests/test_tools_benchmark_scale.py`` checks the count of each component
against PyTorch's ``FlopCounterMode`` on a real training step.
"""
import os.path as osp
import sys
from typing import Dict, List

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from estimate_memory import (llm_dims, lora_shapes, vit_blocks,  # noqa: E402
                             vit_tokens)

FORMULA = (
    'FLOPs per sample = sum over weight matrices W (in x out) applied to n '
    'tokens of 2 n in out x (1 forward + 1 if the backward pass reaches '
    'its input + 1 if W is trained) + sum over attention layers of '
    '4 n_q n_k d x (1 + 2 if the backward pass reaches it); frozen LLM '
    'base 4 n P (LoRA: no weight gradient), LoRA / trained encoder / '
    'connector 6 n P; attention counted in full, no recomputation')


def _matmul(tokens: int, params: int, backward_input: bool,
            trained: bool) -> int:
    return 2 * tokens * params * (1 + backward_input + trained)


def _attention(queries: int, keys: int, width: int, sequences: int,
               backward: bool) -> int:
    return 4 * queries * keys * width * sequences * (3 if backward else 1)


def vision_flops(vision: dict, b: int) -> int:
    """Patch embedding (its input, the pixels, needs no gradient) and the
    transformer layers of a ViT (UMT: one sequence per clip; SigLIP: one
    per frame)."""
    trained = vision['trainable']
    s = vit_tokens(vision)
    dims = vision['dims']
    if vision['type'] == 'vit':
        sequences = b
        layers = vit_blocks(vision)
        hidden = int(dims * vision['mlp_ratio'])
        patch = vision['in_channels'] * vision['tubelet_size'] * \
            vision['patch_size']**2 * dims
    else:
        sequences = b * vision['num_frames']
        layers = vision['feature_layer'] % (vision['num_layers'] + 1)
        hidden = vision['intermediate_size']
        patch = vision['in_channels'] * vision['patch_size']**2 * dims
    n = s * sequences
    layer = 4 * dims * dims + 2 * dims * hidden
    return (_matmul(n, patch, False, trained) +
            layers * (_matmul(n, layer, trained, trained) +
                      _attention(s, s, dims, sequences, trained)))


def connector_flops(arch: dict, b: int) -> int:
    """Q-Former: self-attention over queries + instruction, a query FFN and
    a text FFN, cross-attention of the queries to the visual tokens in every
    ``cross_attention_frequency``-th layer, the projection of the queries;
    or the MLP projector over every visual token."""
    conn, vision, h = arch['connector'], arch['vision'], \
        arch['llm']['hidden_size']
    trained = conn['trainable']
    # the backward pass reaches the visual tokens when the encoder trains
    # or the connector's own (trained) LayerNorm normalises them
    reach = vision['trainable'] or (trained and conn.get('vision_norm',
                                                         False))
    if conn['type'] == 'mlp':
        n = vit_tokens(vision) * vision['num_frames'] * b
        return _matmul(n, vision['dims'] * h, reach, trained) + \
            _matmul(n, h * h, trained, trained)
    hid, inter = conn['hidden_size'], conn['intermediate_size']
    q = conn['num_queries'] + conn['num_extra_queries']
    t = conn['instruction_len']
    v, dims = vit_tokens(vision), vision['dims']
    total = 0
    for i in range(conn['num_layers']):
        total += _matmul(b * (q + t), 4 * hid * hid, trained, trained)
        total += _attention(q + t, q + t, hid, b, trained)
        if i % conn['cross_attention_frequency'] == 0:
            total += _matmul(b * q, 2 * hid * hid, trained, trained)
            total += _matmul(b * v, 2 * dims * hid, reach, trained)
            total += _attention(q, v, hid, b, trained)
        total += _matmul(b * q, 2 * hid * inter, trained, trained)
        total += _matmul(b * t, 2 * hid * inter, trained, trained)
    return total + _matmul(b * q, hid * h, trained, trained)


def llm_flops(arch: dict, s: int, b: int) -> Dict[str, int]:
    """Decoder layers and LM head (frozen base: forward + input gradients
    when anything below trains), causal self-attention counted in full, and
    the LoRA adapters (forward + both gradients)."""
    llm, lora = arch['llm'], arch['lora']
    d = llm_dims(llm)
    h, f = d['h'], d['f']
    n = s * b
    below = arch['vision']['trainable'] or arch['connector']['trainable'] \
        or bool(lora['r'])
    layer = h * d['q'] + 2 * h * d['kv'] + d['q'] * h + 3 * h * f
    head_trained = 'lm_head' in (lora.get('modules_to_save') or ())
    base = llm['num_layers'] * (
        _matmul(n, layer, below, False) +
        _attention(s, s, d['q'], b, below)) + \
        _matmul(n, h * d['vocab'], below, head_trained)
    adapters = 0
    if lora['r']:
        for name, (fan_in, fan_out, count) in lora_shapes(
                llm, lora['targets']).items():
            adapters += count * _matmul(n, lora['r'] * (fan_in + fan_out),
                                        True, True)
    return dict(base=base, lora=adapters)


def training_flops(arch: dict, micro_batch: int, seq_len: int) -> dict:
    """``{'terms': {component: FLOPs per micro-batch}, 'per_sample':
    FLOPs per sample}``."""
    llm = llm_flops(arch, seq_len, micro_batch)
    terms = {
        'vision encoder': vision_flops(arch['vision'], micro_batch),
        'connector': connector_flops(arch, micro_batch),
        'LLM (frozen base)': llm['base'],
        'LoRA': llm['lora'],
    }
    return dict(terms=terms, per_sample=sum(terms.values()) / micro_batch)


def describe(result: dict) -> List[str]:
    """Report lines: the formula and the FLOPs of each component."""
    total = sum(result['terms'].values())
    lines = [FORMULA]
    for name, value in result['terms'].items():
        lines.append(f'  {name:<18} {value / 1e9:14.1f} GFLOP per '
                     f'micro-batch ({100 * value / total:5.1f} %)')
    lines.append(f"  per sample: {result['per_sample'] / 1e9:.1f} GFLOP")
    return lines
