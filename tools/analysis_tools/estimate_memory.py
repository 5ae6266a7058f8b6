"""Estimate the per-GPU training memory of TPO stage 3 (7B models).

``python tools/analysis_tools/estimate_memory.py [--model llava_ov] [...]``

Parameters are counted exactly from the architecture hyper-parameters in
:data:`ARCHS` (the layouts of ``configs/_base_/models/
videochat2_umtl_mistral7b.py`` and ``llava_ov_siglip_qwen2_7b.py``, with the
LoRA targets of the paper: q, k, v, o, gate, up, down). The LLM's
hyper-parameters can instead be read from a local Hugging Face
``config.json`` (``--llm-config``).

Memory per GPU (bytes, see docs/memory.md for the derivation):

* weights: every parameter in bf16, ``2 P`` (ZeRO-3 divides by N);
* gradients: bf16 gradients of the trainable parameters, ``2 P_t / N``
  under ZeRO-2 (not partitioned under ZeRO-0/1);
* optimizer: AdamW fp32 master weights, first and second moments of the
  trainable parameters, ``12 P_t / N`` under ZeRO-1/2/3 (Rajbhandari et
  al., ZeRO, 2020);
* activations: what autograd keeps for the backward pass of one
  micro-batch, per transformer layer after Korthikanti et al. (2022),
  "Reducing Activation Recomputation in Large Transformer Models"
  (``34 s b h + 5 a s^2 b`` for a GPT layer), generalised to GQA, SwiGLU,
  LoRA and memory-efficient attention; with gradient checkpointing, each
  checkpointed layer keeps its input (``2 s b h``) and one layer is
  recomputed at a time.

Not included: CUDA context and NCCL buffers, DeepSpeed's gradient
reduce/all-gather buckets, allocator fragmentation, temporaries of single
kernels, and the temporal / mask heads of the paper (CG-DETR, SAM2), which
the repository does not implement.
"""
import argparse
import copy
import json
import math
import sys
from typing import Dict, List

GiB = 2**30
LORA_7 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj',
          'down_proj']

#: Architecture hyper-parameters of the two 7B models of the paper.
ARCHS: Dict[str, dict] = {
    'videochat2': dict(
        title='VideoChat-TPO: UMT-L + Q-Former + Mistral-7B, LoRA r16',
        # UMT-L/16: 224px, 16 frames, tubelet 1, q/v biases, the output of
        # block 23 of 24 (later blocks not built), VideoChat2's
        # vision_layernorm as final norm. Trained in stage 3 (Table 16).
        vision=dict(type='vit', img_size=224, patch_size=16, num_frames=16,
                    tubelet_size=1, in_channels=3, dims=1024, depth=24,
                    out_layer=-2, num_heads=16, mlp_ratio=4.0,
                    qkv_bias='qv', final_norm=True, trainable=True),
        # BERT-base Q-Former, cross-attention every 2nd layer, 32 + 64
        # queries, the question as instruction (BERT vocabulary + [DEC]).
        connector=dict(type='qformer', num_queries=32, num_extra_queries=64,
                       vision_norm=False, hidden_size=768, num_layers=12,
                       num_heads=12, intermediate_size=3072,
                       cross_attention_frequency=2, vocab_size=30523,
                       max_position_embeddings=512, dropout=True,
                       instruction_len=32, trainable=True),
        # Mistral-7B(-Instruct-v0.2) + 7 added tokens (video placeholder,
        # 3 task-begin tokens, 3 task tokens).
        llm=dict(hidden_size=4096, num_layers=32, intermediate_size=14336,
                 num_heads=32, num_kv_heads=8, vocab_size=32000,
                 added_tokens=7, qkv_bias=False, o_bias=False,
                 tie_word_embeddings=False),
        # LoRA dropout of the release (configs: lora_dropout=0.1); peft
        # applies it to each target's input separately.
        lora=dict(r=16, targets=LORA_7, dropout=0.1),
        num_tasks=3, region_head_hidden=2048, text_len=256),
    'llava_ov': dict(
        title='LLaVA-OV-TPO: SigLIP so400m + MLP + Qwen2-7B, LoRA r16',
        # SigLIP so400m/14 at 384px, per frame, the second-to-last of 27
        # layers (26 built); frozen (configs: frozen_modules).
        vision=dict(type='siglip', image_size=384, patch_size=14,
                    num_frames=16, in_channels=3, dims=1152,
                    intermediate_size=4304, num_layers=27, feature_layer=-2,
                    num_heads=16, trainable=False),
        # 2-layer GELU MLP, 2x2 bilinear pooling per frame (27x27 -> 14x14)
        # and one newline token per video.
        connector=dict(type='mlp', pool_stride=2, newline=True,
                       trainable=True),
        llm=dict(hidden_size=3584, num_layers=28, intermediate_size=18944,
                 num_heads=28, num_kv_heads=4, vocab_size=152064,
                 added_tokens=0, qkv_bias=True, o_bias=False,
                 tie_word_embeddings=False),
        lora=dict(r=16, targets=LORA_7, dropout=0.1),
        num_tasks=3, region_head_hidden=1792, text_len=256),
}


# ---------------------------------------------------------------- params
def llm_dims(llm: dict) -> dict:
    head_dim = llm.get('head_dim') or llm['hidden_size'] // llm['num_heads']
    return dict(h=llm['hidden_size'], f=llm['intermediate_size'],
                q=llm['num_heads'] * head_dim,
                kv=llm['num_kv_heads'] * head_dim,
                vocab=llm['vocab_size'] + llm.get('added_tokens', 0))


def llm_params(llm: dict) -> int:
    """A Llama-family causal LM (Mistral, Qwen2, Llama): embeddings,
    ``num_layers`` x (attention, SwiGLU MLP, 2 RMSNorms), final norm,
    LM head (unless tied)."""
    d = llm_dims(llm)
    h, f = d['h'], d['f']
    attn = h * d['q'] + 2 * h * d['kv'] + d['q'] * h
    if llm.get('qkv_bias'):
        attn += d['q'] + 2 * d['kv']
    if llm.get('o_bias'):
        attn += h
    layer = attn + 3 * h * f + 2 * h
    embed = d['vocab'] * h
    head = 0 if llm.get('tie_word_embeddings') else d['vocab'] * h
    return embed + llm['num_layers'] * layer + h + head


def lora_shapes(llm: dict, targets: List[str]) -> Dict[str, tuple]:
    """``{target: (in_features, out_features, count)}``."""
    d = llm_dims(llm)
    shapes = dict(
        q_proj=(d['h'], d['q']), k_proj=(d['h'], d['kv']),
        v_proj=(d['h'], d['kv']), o_proj=(d['q'], d['h']),
        gate_proj=(d['h'], d['f']), up_proj=(d['h'], d['f']),
        down_proj=(d['f'], d['h']))
    out = {}
    for name in targets:
        if name == 'lm_head':
            out[name] = (d['h'], d['vocab'], 1)
        else:
            out[name] = shapes[name] + (llm['num_layers'], )
    return out


def lora_params(llm: dict, lora: dict) -> int:
    """LoRA A (r x in) and B (out x r) of every target (no bias)."""
    return sum(lora['r'] * (i + o) * n
               for i, o, n in lora_shapes(llm, lora['targets']).values())


def token_row_params(llm: dict, lora: dict, num_tasks: int) -> int:
    """peft's trainable rows of the task-begin tokens (TPOModel's
    ``trainable_token_indices``) in the input embeddings and, when it is
    neither a LoRA target nor tied, the LM head."""
    h = llm['hidden_size']
    rows = num_tasks * h
    if 'lm_head' not in lora['targets'] and \
            not llm.get('tie_word_embeddings'):
        rows += num_tasks * h
    return rows


def vit_blocks(vit: dict) -> int:
    return vit['out_layer'] % vit['depth'] + 1


def vit_params(vit: dict) -> int:
    """tpo's VideoViT (UMT): tubelet Conv3d, the blocks up to
    ``out_layer``, optional final LayerNorm (positions are a fixed
    buffer)."""
    dims, t, p = vit['dims'], vit['tubelet_size'], vit['patch_size']
    hidden = int(dims * vit['mlp_ratio'])
    patch = vit['in_channels'] * t * p * p * dims + dims
    bias = dict(qkv=3 * dims, qv=2 * dims, none=0)[vit['qkv_bias']]
    block = (4 * dims + 3 * dims * dims + bias + dims * dims + dims +
             2 * dims * hidden + hidden + dims)
    return patch + vit_blocks(vit) * block + (2 * dims if vit['final_norm']
                                              else 0)


def siglip_layers(vision: dict) -> int:
    return vision['feature_layer'] % (vision['num_layers'] + 1)


def siglip_params(vision: dict) -> int:
    """tpo's SigLIPVisionEncoder: patch Conv2d, learned positions, the
    layers up to ``feature_layer`` (no post-norm, no pooling head)."""
    dims, p, f = vision['dims'], vision['patch_size'], \
        vision['intermediate_size']
    patch = vision['in_channels'] * p * p * dims + dims
    positions = (vision['image_size'] // p)**2 * dims
    layer = 4 * dims + 4 * (dims * dims + dims) + 2 * dims * f + f + dims
    return patch + positions + siglip_layers(vision) * layer


def qformer_params(qf: dict, vision_dims: int, llm_hidden: int) -> int:
    """tpo's QFormerConnector: transformers' InstructBLIP Q-Former (word
    and position embeddings, self-attention, cross-attention every
    ``cross_attention_frequency`` layers, text and query FFNs), the
    queries, optional vision LayerNorm, projection to the LLM."""
    hid, inter = qf['hidden_size'], qf['intermediate_size']
    embed = (qf['vocab_size'] + qf['max_position_embeddings']) * hid + \
        2 * hid
    self_attn = 4 * (hid * hid + hid) + 2 * hid
    cross = 2 * (hid * hid + hid) + 2 * (vision_dims * hid + hid) + 2 * hid
    ffn = 2 * hid * inter + inter + hid + 2 * hid
    layers = sum(
        self_attn + 2 * ffn +
        (cross if i % qf['cross_attention_frequency'] == 0 else 0)
        for i in range(qf['num_layers']))
    queries = (qf['num_queries'] + qf['num_extra_queries']) * hid
    norm = 2 * vision_dims if qf['vision_norm'] else 0
    return embed + layers + queries + norm + hid * llm_hidden + llm_hidden


def projector_params(mlp: dict, vision_dims: int, llm_hidden: int) -> int:
    """tpo's MLPProjector: linear_1, GELU, linear_2 (+ image_newline)."""
    return (vision_dims * llm_hidden + llm_hidden + llm_hidden * llm_hidden
            + llm_hidden + (llm_hidden if mlp['newline'] else 0))


def region_head_params(in_dims: int, hidden: int) -> int:
    """RegionHead: Linear(in, hidden) -> ReLU -> Linear(hidden, 4)."""
    return in_dims * hidden + hidden + hidden * 4 + 4


def vision_dims(arch: dict) -> int:
    return arch['vision']['dims']


def count_params(arch: dict) -> List[dict]:
    """Per-component ``params`` and ``trainable`` counts (stage 3: the
    base LLM frozen, LoRA, token rows, task tokens and heads trained; the
    encoder and connector as their ``trainable`` flags say)."""
    vision, conn, llm, lora = (arch['vision'], arch['connector'],
                               arch['llm'], arch['lora'])
    h = llm['hidden_size']
    if vision['type'] == 'vit':
        vis = vit_params(vision)
    else:
        vis = siglip_params(vision)
    if conn['type'] == 'qformer':
        con = qformer_params(conn, vision_dims(arch), h)
    else:
        con = projector_params(conn, vision_dims(arch), h)
    adapters = lora_params(llm, lora) + token_row_params(
        llm, lora, arch['num_tasks'])
    heads = arch['num_tasks'] * h + region_head_params(
        h, arch['region_head_hidden'])
    return [
        dict(name='vision encoder', params=vis,
             trainable=vis if vision['trainable'] else 0),
        dict(name='connector', params=con,
             trainable=con if conn['trainable'] else 0),
        dict(name='LLM (frozen base)', params=llm_params(llm), trainable=0),
        dict(name='LoRA + token rows', params=adapters, trainable=adapters),
        dict(name='task tokens + head', params=heads, trainable=heads),
    ]


# ---------------------------------------------------------------- activations
def llm_layer_bytes(llm: dict, lora: dict, s: int, b: int,
                    flash: bool) -> Dict[str, int]:
    """Bytes one decoder layer keeps for backward (bf16 activations), as
    ``{'base': ..., 'lora': ...}``.

    Attention: RMSNorm input 2h, q/k/v input 2h, Q 2h, K and V 2 kv each,
    attention output (o_proj input) 2h = 8h + 4kv; without a
    memory-efficient kernel the softmax output ``2 a s`` too.
    MLP: RMSNorm input 2h, gate/up input 2h, gate output, SiLU output, up
    output and their product (down input) 2f each = 4h + 8f.
    LoRA, per target: the r-wide output of A (2r), and with dropout the
    dropout mask (1 byte) and dropped input (2 bytes) of its input.
    """
    d = llm_dims(llm)
    base = 12 * d['h'] + 4 * d['kv'] + 8 * d['f']
    if not flash:
        base += 2 * llm['num_heads'] * s
    adapters = 0
    for name, (fan_in, _, count) in lora_shapes(llm,
                                                lora['targets']).items():
        if name != 'lm_head':
            adapters += 2 * lora['r'] + (3 * fan_in if lora['dropout']
                                         else 0)
    return dict(base=base * s * b, lora=adapters * s * b)


def llm_activation_bytes(llm: dict, lora: dict, s: int, b: int,
                         flash: bool, checkpointing: bool) -> Dict[str, int]:
    """Decoder layers + final norm and LM head inputs (4 s b h) + logits
    (bf16 logits, their fp32 copy and the fp32 log-softmax: 10 s b V), as
    ``{'base': ..., 'lora': ...}``. With checkpointing each layer keeps its
    input (2 s b h) and one layer at a time is recomputed."""
    d = llm_dims(llm)
    layer = llm_layer_bytes(llm, lora, s, b, flash)
    outside = 4 * s * b * d['h'] + 10 * s * b * d['vocab']
    if checkpointing:
        return dict(
            base=llm['num_layers'] * 2 * s * b * d['h'] + layer['base'] +
            outside,
            lora=layer['lora'])
    return dict(base=llm['num_layers'] * layer['base'] + outside,
                lora=llm['num_layers'] * layer['lora'])


def vit_tokens(vision: dict) -> int:
    """Tokens per attention sequence and sequences per sample."""
    if vision['type'] == 'vit':
        side = vision['img_size'] // vision['patch_size']
        return side * side * vision['num_frames'] // vision['tubelet_size']
    return (vision['image_size'] // vision['patch_size'])**2


def vision_sequences(vision: dict, b: int) -> int:
    """Attention sequences per micro-batch: one per clip (UMT attends over
    all frames jointly) or one per frame (SigLIP)."""
    return b if vision['type'] == 'vit' else b * vision['num_frames']


def vision_layer_bytes(vision: dict, b: int, flash: bool) -> int:
    """A trained pre-LN ViT layer keeps LN1 input 2h, qkv input 2h, Q/K/V
    6h, attention output 2h, LN2 input 2h, fc1 input 2h, GELU input 2f,
    fc2 input 2f = 16h + 4f per token (+ ``2 a s`` without a
    memory-efficient attention kernel)."""
    s, dims = vit_tokens(vision), vision['dims']
    f = int(dims * vision['mlp_ratio']) if vision['type'] == 'vit' else \
        vision['intermediate_size']
    per_token = 16 * dims + 4 * f
    if not flash:
        per_token += 2 * vision['num_heads'] * s
    return per_token * s * vision_sequences(vision, b)


def vision_activation_bytes(vision: dict, b: int, flash: bool,
                            checkpointing: bool) -> int:
    """Layers (:func:`vision_layer_bytes`; with checkpointing, each
    layer's input 2h per token and one recomputed layer), the input pixels
    and the final norm input. A frozen encoder keeps nothing for backward
    (its output features are counted as the connector's input)."""
    if not vision['trainable']:
        return 0
    s, sequences = vit_tokens(vision), vision_sequences(vision, b)
    if vision['type'] == 'vit':
        layers = vit_blocks(vision)
        pixels = 2 * b * vision['in_channels'] * vision['num_frames'] * \
            vision['img_size']**2
    else:
        layers = siglip_layers(vision)
        pixels = 2 * sequences * vision['in_channels'] * \
            vision['image_size']**2
    output = 2 * s * sequences * vision['dims']
    layer = vision_layer_bytes(vision, b, flash)
    if checkpointing:
        stack = layers * 2 * s * sequences * vision['dims'] + layer
    else:
        stack = layers * layer
    return pixels + stack + output


def connector_activation_bytes(arch: dict, b: int) -> int:
    """Q-Former (post-LN BERT, eager attention with dropout, no
    checkpointing): per layer Korthikanti's ``18 s b H + 4 s b I + 5 a s^2
    b`` over queries + instruction tokens, and in cross-attention layers
    ``9 q b H + 4 v b H + 5 a q v b`` (q queries, v visual tokens); plus
    the visual tokens (key/value input) and the projection input.
    MLP projector: input 2E, GELU input and linear_2 input 2H each."""
    conn, vision = arch['connector'], arch['vision']
    if not conn['trainable']:
        return 0
    if conn['type'] == 'mlp':
        tokens = vit_tokens(vision) * vision['num_frames'] * b
        return tokens * (2 * vision['dims'] + 4 * arch['llm']['hidden_size'])
    hid, inter, heads = conn['hidden_size'], conn['intermediate_size'], \
        conn['num_heads']
    q = conn['num_queries'] + conn['num_extra_queries']
    s = q + conn['instruction_len']
    v = vit_tokens(vision)
    drop = 1 if conn['dropout'] else 0
    self_layer = b * (s * (16 + 2 * drop) * hid + 4 * s * inter +
                      (2 + 3 * drop) * heads * s * s)
    cross_layer = b * ((8 + drop) * q * hid + 4 * v * hid +
                       (2 + 3 * drop) * heads * q * v)
    num_cross = sum(1 for i in range(conn['num_layers'])
                    if i % conn['cross_attention_frequency'] == 0)
    inputs = 2 * v * b * vision['dims'] + 2 * q * b * hid
    return conn['num_layers'] * self_layer + num_cross * cross_layer + inputs


def visual_tokens(arch: dict) -> int:
    """Visual tokens the LLM reads per sample."""
    conn, vision = arch['connector'], arch['vision']
    if conn['type'] == 'qformer':
        return conn['num_queries'] + conn['num_extra_queries']
    side = vision['image_size'] // vision['patch_size']
    pooled = math.ceil(side / conn['pool_stride'])**2
    return vision['num_frames'] * pooled + (1 if conn['newline'] else 0)


def head_activation_bytes(arch: dict, b: int) -> int:
    """Region head: negligible (a few task-token states per sample); the
    task token embeddings are part of the LLM input."""
    hidden = arch['region_head_hidden']
    return 4 * b * (arch['llm']['hidden_size'] + 2 * hidden)


# ---------------------------------------------------------------- report
def estimate(arch: dict, gpus: int, micro_batch: int, zero: int,
             flash: bool) -> dict:
    rows = count_params(arch)
    s = visual_tokens(arch) + arch['text_len']
    acts = {}
    for ckpt in (False, True):
        llm = llm_activation_bytes(arch['llm'], arch['lora'], s,
                                   micro_batch, flash, ckpt)
        acts[ckpt] = [
            vision_activation_bytes(arch['vision'], micro_batch, flash,
                                    ckpt),
            connector_activation_bytes(arch, micro_batch),
            llm['base'],
            llm['lora'],
            head_activation_bytes(arch, micro_batch),
        ]
    for i, row in enumerate(rows):
        row['weights'] = 2 * row['params'] / (gpus if zero >= 3 else 1)
        row['grads'] = 2 * row['trainable'] / (gpus if zero >= 2 else 1)
        row['optim'] = 12 * row['trainable'] / (gpus if zero >= 1 else 1)
        row['act'] = acts[False][i]
        row['act_ckpt'] = acts[True][i]
    total = {k: sum(r[k] for r in rows)
             for k in ('params', 'trainable', 'weights', 'grads', 'optim',
                       'act', 'act_ckpt')}
    total['name'] = 'total'
    return dict(rows=rows, total=total, seq_len=s)


def activation_terms(arch: dict, b: int, flash: bool) -> Dict[str, str]:
    """The largest activation terms, for the report."""
    llm, lora, vision = arch['llm'], arch['lora'], arch['vision']
    s = visual_tokens(arch) + arch['text_len']
    layer = llm_layer_bytes(llm, lora, s, b, flash)
    vocab = llm_dims(llm)['vocab']
    terms = {
        'LLM decoder layer (base)':
        f"{gib(layer['base'])} GiB x {llm['num_layers']} layers",
        'LLM decoder layer (LoRA)':
        f"{gib(layer['lora'])} GiB x {llm['num_layers']} layers",
        'logits + fp32 log-softmax (10 s b V)':
        f'{gib(10 * s * b * vocab)} GiB',
    }
    if vision['trainable']:
        layers = vit_blocks(vision) if vision['type'] == 'vit' else \
            siglip_layers(vision)
        terms['vision layer'] = (
            f'{gib(vision_layer_bytes(vision, b, flash))} GiB x {layers} '
            f'layers ({vit_tokens(vision)} tokens/sequence)')
    return terms


def gib(x: float) -> str:
    return f'{x / GiB:.2f}'


def render(arch: dict, args, result: dict) -> str:
    t = result['total']
    static = t['weights'] + t['grads'] + t['optim']
    lines = [
        f"TPO stage 3 per-GPU memory estimate: {arch['title']}",
        f'  {args.gpus} GPUs, ZeRO-{args.zero}, micro-batch {args.micro} '
        f'per GPU (total batch {args.total_batch}, gradient accumulation '
        f'{args.grad_accum}), {arch["vision"]["num_frames"]} frames',
        f'  LLM sequence: {visual_tokens(arch)} visual + '
        f"{arch['text_len']} text = {result['seq_len']} tokens; bf16 "
        'weights/grads/activations, AdamW fp32 master + moments on '
        'trainable params',
        '  attention: ' + ('memory-efficient (no s^2 term)' if args.flash
                           else 'eager (softmax stored)') +
        '; GiB = 2^30 bytes',
        '',
        f"{'component':<20}{'params':>15}{'trainable':>15}{'weights':>9}"
        f"{'grads':>8}{'optim':>8}{'act':>8}{'act+gc':>8}",
    ]
    for row in result['rows'] + [t]:
        if row is t:
            lines.append('-' * 91)
        lines.append(
            f"{row['name']:<20}{row['params']:>15,}{row['trainable']:>15,}"
            f"{gib(row['weights']):>9}{gib(row['grads']):>8}"
            f"{gib(row['optim']):>8}{gib(row['act']):>8}"
            f"{gib(row['act_ckpt']):>8}")
    lines += ['', 'activation terms (micro-batch, gradient checkpointing '
              'off):'] + [f'  {k}: {v}' for k, v in activation_terms(
                  arch, args.micro, args.flash).items()]
    lines += [
        '',
        f'weights + grads + optimizer states: {gib(static)} GiB',
        f"total per GPU, gradient checkpointing off: "
        f"{gib(static + t['act'])} GiB",
        f"total per GPU, gradient checkpointing on:  "
        f"{gib(static + t['act_ckpt'])} GiB",
        '(act+gc: checkpointing of every ViT and LLM layer; the Q-Former '
        'and heads are never checkpointed)',
    ]
    return '\n'.join(lines)


def read_llm_config(path: str) -> dict:
    """LLM hyper-parameters from a Hugging Face ``config.json``."""
    with open(path) as f:
        cfg = json.load(f)
    cfg = cfg.get('text_config', cfg)
    model_type = cfg.get('model_type', '')
    out = dict(
        hidden_size=cfg['hidden_size'],
        num_layers=cfg['num_hidden_layers'],
        intermediate_size=cfg['intermediate_size'],
        num_heads=cfg['num_attention_heads'],
        num_kv_heads=cfg.get('num_key_value_heads',
                             cfg['num_attention_heads']),
        vocab_size=cfg['vocab_size'],
        tie_word_embeddings=cfg.get('tie_word_embeddings', False),
        qkv_bias=bool(cfg.get('attention_bias', model_type == 'qwen2')),
        o_bias=bool(cfg.get('attention_bias', False)))
    if cfg.get('head_dim'):
        out['head_dim'] = cfg['head_dim']
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', choices=sorted(ARCHS),
                        default='videochat2')
    parser.add_argument('--gpus', type=int, default=32,
                        help='data-parallel GPUs (paper: 32 A100)')
    parser.add_argument('--total-batch', type=int, default=256,
                        help='global batch (Table 16, stage 3: 256)')
    parser.add_argument('--grad-accum', type=int, default=1)
    parser.add_argument('--micro-batch', type=int,
                        help='per-GPU batch (default: total batch / (gpus '
                        'x grad accum)); sets the gradient accumulation')
    parser.add_argument('--zero', type=int, choices=[0, 1, 2, 3], default=2)
    parser.add_argument('--frames', type=int, help='input frames (16)')
    parser.add_argument('--text-len', type=int,
                        help='text tokens per sample (default 256)')
    parser.add_argument('--no-flash-attn', dest='flash',
                        action='store_false',
                        help='store attention probabilities (eager '
                        'attention) in the ViT and the LLM')
    parser.add_argument('--llm-config',
                        help="a local HF config.json for the LLM's "
                        'hyper-parameters')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    arch = copy.deepcopy(ARCHS[args.model])
    if args.llm_config:
        added = arch['llm'].get('added_tokens', 0)
        arch['llm'] = dict(read_llm_config(args.llm_config),
                           added_tokens=added)
    if args.frames:
        arch['vision']['num_frames'] = args.frames
    if args.text_len is not None:
        arch['text_len'] = args.text_len
    if args.micro_batch is None:
        per_step = args.gpus * args.grad_accum
        if args.total_batch % per_step:
            sys.exit(f'total batch {args.total_batch} is not a multiple of '
                     f'gpus x grad accum = {per_step}')
        args.micro = args.total_batch // per_step
    else:
        args.micro = args.micro_batch
        per_step = args.gpus * args.micro
        if args.total_batch % per_step:
            sys.exit(f'total batch {args.total_batch} is not a multiple of '
                     f'gpus x micro-batch = {per_step}')
        args.grad_accum = args.total_batch // per_step
    result = estimate(arch, args.gpus, args.micro, args.zero, args.flash)
    text = render(arch, args, result)
    print(text)
    return text


if __name__ == '__main__':
    main()
