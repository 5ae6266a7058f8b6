"""Estimate the per-GPU training memory of a TPO recipe at 7B.

``python tools/analysis_tools/estimate_memory.py [--model llava_ov] [...]``

Parameters are counted exactly from the architecture hyper-parameters in
:data:`ARCHS` (the layouts that ``configs/tpo/videochat_stage3.py`` and
``llava_ov_stage3.py`` build, with the LoRA targets, added tokens and heads
of those configs); ``benchmark_scale.py --count-only`` builds the real
models with empty weights and checks every count. The LLM's
hyper-parameters can instead be read from a local Hugging Face
``config.json`` (``--llm-config``).

Memory per GPU (bytes, see docs/memory.md for the derivation), for the
precision the recipes train with (bf16 autocast over float32 trainable
weights; the frozen LLM base in bf16) under DeepSpeed ZeRO (``--zero``)
with ``torch_autocast``:

* weights: every parameter in its own dtype (ZeRO-3 divides by N);
* gradients: float32 gradients of the trainable parameters, ``4 P_t / N``
  under ZeRO-2 (not partitioned under ZeRO-0/1);
* optimizer: DeepSpeed's float32 master partition and AdamW's two moments,
  ``12 P_t / N`` (ZeRO-0, mmengine's AmpOptimWrapper: the moments only,
  ``8 P_t``);
* buffers: ZeRO-2's contiguous gradient buckets, ``reduce_bucket_size``
  float32 elements per communication dtype (bf16 for Linear/Conv weights,
  float32 for the rest), twice with ``overlap_comm``;
* activations: what autograd keeps for the backward pass of one
  micro-batch, tensor by tensor, after Korthikanti et al. (2022),
  "Reducing Activation Recomputation in Large Transformer Models", for the
  kernels the models run (memory-efficient attention, CUDA autocast's
  float32 LayerNorm / RMSNorm / softmax, LoRA with dropout on a frozen
  base); ``benchmark_scale.py --probe-activations`` measures the same
  quantities on autograd's saved tensors. With gradient checkpointing, each
  checkpointed layer keeps its input and one layer is recomputed at a time.

Not included: CUDA context and NCCL buffers, allocator fragmentation,
temporaries of single kernels and of the backward pass (activation
gradients of the layer being processed), the heads' activations (a few task
embeddings per sample; SAM2 runs without gradients under prompt
distillation).
"""
import argparse
import copy
import json
import math
import sys
from typing import Dict, List, Optional

GiB = 2**30
LORA_7 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj',
          'down_proj']
DTYPE_BYTES = dict(float32=4, bfloat16=2, float16=2)

#: Architecture hyper-parameters of the two 7B recipes of the paper.
ARCHS: Dict[str, dict] = {
    'videochat2': dict(
        title='VideoChat-TPO: UMT-L + Q-Former + Mistral-7B, LoRA r16',
        # UMT-L/16: 224px, 16 frames, tubelet 1, q/v biases, the output of
        # block 23 of 24 (later blocks not built), VideoChat2's
        # vision_layernorm as final norm. Trained in stage 3 (Table 16).
        vision=dict(type='vit', img_size=224, patch_size=16, num_frames=16,
                    tubelet_size=1, in_channels=3, dims=1024, depth=24,
                    out_layer=-2, num_heads=16, mlp_ratio=4.0,
                    qkv_bias='qv', final_norm=True, trainable=True,
                    dtype='float32'),
        # BERT-base Q-Former, cross-attention every 2nd layer, 32 + 64
        # queries, the question as instruction (BERT vocabulary + [DEC]).
        connector=dict(type='qformer', num_queries=32, num_extra_queries=64,
                       vision_norm=False, hidden_size=768, num_layers=12,
                       num_heads=12, intermediate_size=3072,
                       cross_attention_frequency=2, vocab_size=30523,
                       max_position_embeddings=512, dropout=True,
                       instruction_len=32, trainable=True, dtype='float32'),
        # Mistral-7B(-Instruct-v0.2) in bf16 + 8 added tokens (video
        # placeholder, 3 task-begin tokens, 3 task tokens, <track_box>).
        llm=dict(hidden_size=4096, num_layers=32, intermediate_size=14336,
                 num_heads=32, num_kv_heads=8, vocab_size=32000,
                 added_tokens=8, qkv_bias=False, o_bias=False,
                 tie_word_embeddings=False, dtype='bfloat16'),
        # LoRA of the release: r16, dropout 0.1 (peft applies it to each
        # target's input separately), on lm_head too, so no trainable rows.
        lora=dict(r=16, targets=LORA_7 + ['lm_head'], dropout=0.1,
                  token_rows=False, modules_to_save=[]),
        num_tasks=3, task_tokens_trainable=True, box_prompt_hidden=2048,
        # Region MLP; CG-DETR and SAM2 (Hiera-L, frozen) + mask adapter as
        # counted by benchmark_scale.py --count-only.
        heads=dict(
            region=dict(type='region', hidden=2048, trainable=True),
            temporal=dict(type='counted', kind='CGDETRHead',
                          params=14_043_435, trainable=14_043_435),
            mask=dict(type='counted', kind='SAM2MaskHead',
                      params=244_357_938, trainable=19_927_808)),
        amp=True, text_len=256),
    'llava_ov': dict(
        title='LLaVA-OV-TPO: SigLIP so400m + MLP + Qwen2-7B, LoRA r16',
        # SigLIP so400m/14 at 384px, per frame, the second-to-last of 27
        # layers (26 built), bf16; trained in stage 3 (the recipe applies
        # Table 16: only SAM2 frozen).
        vision=dict(type='siglip', image_size=384, patch_size=14,
                    num_frames=16, in_channels=3, dims=1152,
                    intermediate_size=4304, num_layers=27, feature_layer=-2,
                    num_heads=16, trainable=True, dtype='bfloat16'),
        # 2-layer GELU MLP, 2x2 bilinear pooling per frame (27x27 -> 14x14)
        # and one newline token per video.
        connector=dict(type='mlp', pool_stride=2, newline=True,
                       trainable=True, dtype='float32'),
        # Qwen2-7B's 152064 rows hold the 8 added tokens (no growth).
        llm=dict(hidden_size=3584, num_layers=28, intermediate_size=18944,
                 num_heads=28, num_kv_heads=4, vocab_size=152064,
                 added_tokens=0, qkv_bias=True, o_bias=False,
                 tie_word_embeddings=False, dtype='bfloat16'),
        lora=dict(r=16, targets=LORA_7, dropout=0.1, token_rows=True,
                  modules_to_save=[]),
        num_tasks=3, task_tokens_trainable=True, box_prompt_hidden=1792,
        heads=dict(
            region=dict(type='region', hidden=1792, trainable=True),
            temporal=dict(type='counted', kind='CGDETRHead',
                          params=13_945_387, trainable=13_945_387),
            mask=dict(type='counted', kind='SAM2MaskHead',
                      params=240_032_050, trainable=15_601_920)),
        amp=True, text_len=256),
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


def box_prompt_params(hidden: int, llm_hidden: int) -> int:
    """BoxPromptEncoder: Linear(4, hidden) -> ReLU -> Linear(hidden, h)."""
    return 4 * hidden + hidden + hidden * llm_hidden + llm_hidden


def adapter_params(arch: dict) -> int:
    """LoRA, peft's trainable rows of the task-begin tokens (TPOModel's
    default ``trainable_token_indices``: the input embeddings and, unless it
    is a LoRA target, tied or saved whole, the LM head) and the trained
    copies of ``modules_to_save``."""
    llm, lora = arch['llm'], arch['lora']
    h, vocab = llm['hidden_size'], llm_dims(llm)['vocab']
    saved = set(lora.get('modules_to_save') or ())
    total = lora_params(llm, lora) if lora['r'] else 0
    if lora.get('token_rows', True):
        rows = arch['num_tasks'] * h if 'embed_tokens' not in saved else 0
        if 'lm_head' not in lora['targets'] and 'lm_head' not in saved \
                and not llm.get('tie_word_embeddings'):
            rows += arch['num_tasks'] * h
        total += rows
    total += vocab * h * len(saved & {'lm_head', 'embed_tokens'})
    return total


def count_params(arch: dict) -> List[dict]:
    """Per-component ``params``, ``trainable`` and weight ``dtype`` (stage
    3: the base LLM frozen in its dtype; LoRA, token rows, task tokens,
    box-prompt encoder and heads trained in float32; the encoder and
    connector as their ``trainable`` flags say)."""
    vision, conn, llm = arch['vision'], arch['connector'], arch['llm']
    h = llm['hidden_size']
    if vision['type'] == 'vit':
        vis = vit_params(vision)
    else:
        vis = siglip_params(vision)
    if conn['type'] == 'qformer':
        con = qformer_params(conn, vision['dims'], h)
    else:
        con = projector_params(conn, vision['dims'], h)
    adapters = adapter_params(arch)
    tokens = arch['num_tasks'] * h
    rows = [
        dict(name='vision encoder', params=vis,
             trainable=vis if vision['trainable'] else 0,
             dtype=vision.get('dtype', 'float32')),
        dict(name='connector', params=con,
             trainable=con if conn['trainable'] else 0,
             dtype=conn.get('dtype', 'float32')),
        dict(name='LLM (frozen base)', params=llm_params(llm), trainable=0,
             dtype=llm.get('dtype', 'float32')),
        dict(name='LoRA + token rows', params=adapters, trainable=adapters,
             dtype='float32'),
        dict(name='task tokens', params=tokens,
             trainable=tokens if arch.get('task_tokens_trainable', True)
             else 0, dtype='float32'),
    ]
    if arch.get('box_prompt_hidden'):
        box = box_prompt_params(arch['box_prompt_hidden'], h)
        rows.append(dict(name='box prompt encoder', params=box,
                         trainable=box, dtype='float32'))
    for name, head in arch.get('heads', {}).items():
        if head['type'] == 'region':
            params = region_head_params(h, head['hidden'])
            trainable = params if head.get('trainable', True) else 0
        else:
            params, trainable = head['params'], head['trainable']
        rows.append(dict(name=f'heads.{name}', params=params,
                         trainable=trainable, dtype='float32'))
    return rows


# ---------------------------------------------------------------- activations
# Bytes per element of what autograd keeps: ``e`` for the activations of
# matmuls (2 under bf16 autocast, else 4); normalisation inputs are kept in
# float32 (RMSNorm upcasts them; CUDA autocast runs LayerNorm and softmax in
# float32); dropout masks take 1 byte (CUDA keeps a bool mask).
def act_bytes(arch: dict) -> int:
    return 2 if arch.get('amp', True) else 4


def llm_layer_bytes(arch: dict, s: int, b: int,
                    flash: bool) -> Dict[str, int]:
    """Bytes one decoder layer (frozen base + LoRA) keeps for backward, as
    ``{'base': ..., 'lora': ...}``.

    Base (the frozen projections keep no input): the float32 inputs of the
    two RMSNorms 2 x 4h, Q and the attention output 2 x e h, K and V
    2 x e kv (equal-length rows: transformers' SDPA path keeps GQA's K/V
    unrepeated), the attention's log-sum-exp 4a, and the gate, up and SiLU
    outputs of the MLP 3 x e f: ``8h + e (2h + 2kv + 3f) + 4a``; eager
    attention adds the softmax output (4 a s) and its bf16 copy (e a s).
    LoRA, per target: A's r-wide output (e r) and, with dropout, the bool
    mask and the dropped input (1 + e bytes per input element); without
    dropout each distinct input (q/k/v, o, gate/up, down) once.
    """
    llm, lora = arch['llm'], arch['lora']
    e = act_bytes(arch)
    d = llm_dims(llm)
    a = llm['num_heads']
    base = 8 * d['h'] + e * (2 * d['h'] + 2 * d['kv'] + 3 * d['f']) + 4 * a
    if not flash:
        base += (4 + e) * a * s
    adapters = 0
    if lora['r']:
        shapes = lora_shapes(llm, lora['targets'])
        layer_targets = {n: v for n, v in shapes.items() if n != 'lm_head'}
        adapters += e * lora['r'] * len(layer_targets)
        if lora['dropout']:
            adapters += sum((1 + e) * fan_in
                            for fan_in, _, _ in layer_targets.values())
        else:
            inputs = {}
            for name, (fan_in, _, _) in layer_targets.items():
                group = name if name in ('o_proj', 'down_proj') else \
                    ('mlp' if name in ('gate_proj', 'up_proj') else 'attn')
                inputs[group] = fan_in
            adapters += e * sum(inputs.values())
    return dict(base=base * s * b, lora=adapters * s * b)


def llm_head_bytes(arch: dict, s: int, b: int) -> Dict[str, int]:
    """After the layers: the final RMSNorm's float32 input (4h), the LM
    head's LoRA (as a layer target), its input when the head itself trains
    or holds peft's trainable task-token rows (e h; the rows also make peft
    build, and keep, a copy of the whole head weight), and the float32
    log-softmax of the loss (4V)."""
    llm, lora = arch['llm'], arch['lora']
    e = act_bytes(arch)
    d = llm_dims(llm)
    base = 4 * d['h'] + 4 * d['vocab']
    adapters = 0
    saved = lora.get('modules_to_save') or ()
    if lora.get('token_rows', True) and lora['r'] and \
            'lm_head' not in lora['targets'] and 'lm_head' not in saved \
            and not llm.get('tie_word_embeddings'):
        adapters += e * d['h']
        weight_copy = DTYPE_BYTES[llm.get('dtype', 'float32')] * \
            d['vocab'] * d['h']
    else:
        weight_copy = 0
    if 'lm_head' in lora['targets'] and lora['r']:
        adapters += e * lora['r'] + ((1 + e) * d['h'] if lora['dropout']
                                     else e * d['h'])
    if 'lm_head' in saved:
        adapters += e * d['h']
    return dict(base=base * s * b, lora=adapters * s * b + weight_copy)


def llm_activation_bytes(arch: dict, s: int, b: int, flash: bool,
                         checkpointing: bool) -> Dict[str, int]:
    """Decoder layers + :func:`llm_head_bytes`, as ``{'base': ...,
    'lora': ...}``. With checkpointing each layer keeps its input (e s b h)
    and one layer at a time is recomputed."""
    llm = arch['llm']
    layer = llm_layer_bytes(arch, s, b, flash)
    head = llm_head_bytes(arch, s, b)
    if checkpointing:
        stored = llm['num_layers'] * act_bytes(arch) * s * b * \
            llm['hidden_size']
        return dict(base=stored + layer['base'] + head['base'],
                    lora=layer['lora'] + head['lora'])
    return dict(base=llm['num_layers'] * layer['base'] + head['base'],
                lora=llm['num_layers'] * layer['lora'] + head['lora'])


def vit_tokens(vision: dict) -> int:
    """Tokens per attention sequence: a clip (UMT) or a frame (SigLIP)."""
    if vision['type'] == 'vit':
        side = vision['img_size'] // vision['patch_size']
        return side * side * vision['num_frames'] // vision['tubelet_size']
    return (vision['image_size'] // vision['patch_size'])**2


def vision_sequences(vision: dict, b: int) -> int:
    """Attention sequences per micro-batch: one per clip (UMT attends over
    all frames jointly) or one per frame (SigLIP)."""
    return b if vision['type'] == 'vit' else b * vision['num_frames']


def vision_layer_bytes(arch: dict, b: int, flash: bool) -> int:
    """A trained pre-LN ViT layer keeps, per token: the float32 inputs of
    its two LayerNorms 2 x 4h, the qkv input e h, Q/K/V and the attention
    output 4 e h (the output, laid out head-last by the fused kernels, is
    also the proj input), the fc1 input e h, the GELU input and the fc2
    input 2 e f, the log-sum-exp 4a: ``8h + e (6h + 2f) + 4a``. SigLIP's
    separate q, k and v projections keep two more bf16 copies of their
    input: ``8h + e (8h + 2f) + 4a``. Eager attention adds (4 + e) a s."""
    vision = arch['vision']
    e = act_bytes(arch)
    s, dims, a = vit_tokens(vision), vision['dims'], vision['num_heads']
    f = int(dims * vision['mlp_ratio']) if vision['type'] == 'vit' else \
        vision['intermediate_size']
    copies = 6 if vision['type'] == 'vit' else 8
    per_token = 8 * dims + e * (copies * dims + 2 * f) + 4 * a
    if not flash:
        per_token += (4 + e) * a * s
    return per_token * s * vision_sequences(vision, b)


def input_bytes(arch: dict, b: int) -> int:
    """The micro-batch's frames, float32 after normalisation."""
    vision = arch['vision']
    side = vision['img_size'] if vision['type'] == 'vit' else \
        vision['image_size']
    return 4 * b * vision['num_frames'] * vision['in_channels'] * side**2


def visual_token_bytes(arch: dict, b: int) -> int:
    """The encoder's output, held through the forward pass (float32: the
    final LayerNorm runs in float32 under CUDA autocast)."""
    vision = arch['vision']
    width = 4 if arch.get('amp', True) or vision.get(
        'dtype', 'float32') == 'float32' else 2
    return width * vit_tokens(vision) * vision_sequences(vision, b) * \
        vision['dims']


def vision_layers(vision: dict) -> int:
    return vit_blocks(vision) if vision['type'] == 'vit' else \
        siglip_layers(vision)


def vision_activation_bytes(arch: dict, b: int, flash: bool,
                            checkpointing: bool) -> int:
    """Layers (:func:`vision_layer_bytes`; with checkpointing, each
    layer's input, e h per token, and one recomputed layer), the bf16 copy
    of the frames for the patch embedding (under autocast) and the final
    norm's float32 input. A frozen encoder keeps nothing for backward (its
    output is counted as the connector's input)."""
    vision = arch['vision']
    if not vision['trainable']:
        return 0
    e = act_bytes(arch)
    s, sequences = vit_tokens(vision), vision_sequences(vision, b)
    pixels = input_bytes(arch, b) // 4 * e if arch.get('amp', True) else 0
    final = 4 * s * sequences * vision['dims'] if vision.get(
        'final_norm', False) else 0
    layer = vision_layer_bytes(arch, b, flash)
    layers = vision_layers(vision)
    if checkpointing:
        stack = layers * e * s * sequences * vision['dims'] + layer
    else:
        stack = layers * layer
    return pixels + stack + final


def connector_activation_bytes(arch: dict, b: int) -> int:
    """What a trained connector keeps (never checkpointed).

    Q-Former (post-LN BERT, float32 weights and residual stream, SDPA
    attention, dropout): per layer over the s = queries + instruction
    tokens, the q/k/v inputs (one bf16 copy each under autocast, the
    float32 input once without), Q, K, V and the attention output 4 e H,
    the log-sum-exp 4a, the dense input e H, the dropout mask H and the
    LayerNorm's float32 input 4H; the FFN of each token (query or text):
    its input e H, the GELU input and output 2 e I, the mask H and the
    LayerNorm input 4H. Cross-attention layers, per query: the query input
    and Q, the attention output, the dense input 4 e H, the mask and the
    LayerNorm input 5H; per visual token: the key and value inputs (2 e E
    under autocast) and K and V (2 e H). Plus the embeddings' LayerNorm
    input and dropout mask, and the projection's input.
    MLP projector: its input, GELU input and linear_2 input (e (E + 2h)
    per visual token).
    """
    conn, vision = arch['connector'], arch['vision']
    if not conn['trainable']:
        return 0
    e = act_bytes(arch)
    if conn['type'] == 'mlp':
        tokens = vit_tokens(vision) * vision['num_frames'] * b
        return tokens * e * (vision['dims'] + 2 * arch['llm']['hidden_size'])
    amp = arch.get('amp', True)
    hid, inter, heads = conn['hidden_size'], conn['intermediate_size'], \
        conn['num_heads']
    q = conn['num_queries'] + conn['num_extra_queries']
    t = conn['instruction_len']
    v, dims = vit_tokens(vision), vision['dims']
    drop = 1 if conn['dropout'] else 0
    qkv_inputs = 3 * e * hid if amp else 4 * hid
    self_attn = (q + t) * (qkv_inputs + 5 * e * hid + 4 * heads +
                           drop * hid + 4 * hid)
    ffn = (q + t) * ((e * hid if amp else 4 * hid) + 2 * e * inter +
                     drop * hid + 4 * hid)
    cross = q * (4 * e * hid + 4 * heads + (drop + 4) * hid) + \
        v * ((2 * e * dims if amp else 4 * dims) + 2 * e * hid)
    num_cross = sum(1 for i in range(conn['num_layers'])
                    if i % conn['cross_attention_frequency'] == 0)
    embeddings = (q + t) * (4 + drop) * hid
    extra = q * (e * hid if amp else 4 * hid)
    return b * (conn['num_layers'] * (self_attn + ffn) +
                num_cross * cross + embeddings + extra)


def linear_params(arch: dict) -> Dict[str, int]:
    """Parameters of the Linear / Conv layers (weights and biases) of each
    component: what autocast casts to bf16."""
    vision, conn, llm, lora = (arch['vision'], arch['connector'],
                               arch['llm'], arch['lora'])
    dims, h = vision['dims'], llm['hidden_size']
    if vision['type'] == 'vit':
        vis = vit_params(vision) - vit_blocks(vision) * 4 * dims - (
            2 * dims if vision['final_norm'] else 0)
    else:
        vis = siglip_params(vision) - siglip_layers(vision) * 4 * dims - \
            (vision['image_size'] // vision['patch_size'])**2 * dims
    if conn['type'] == 'qformer':
        hid, inter = conn['hidden_size'], conn['intermediate_size']
        con = hid * h + h
        for i in range(conn['num_layers']):
            con += 4 * (hid * hid + hid) + 2 * (2 * hid * inter + inter + hid)
            if i % conn['cross_attention_frequency'] == 0:
                con += 2 * (hid * hid + hid) + 2 * (dims * hid + hid)
    else:
        con = projector_params(conn, dims, h) - (h if conn['newline'] else 0)
    saved = set(lora.get('modules_to_save') or ()) & {'lm_head'}
    adapters = (lora_params(llm, lora) if lora['r'] else 0) + \
        len(saved) * llm_dims(llm)['vocab'] * h
    out = {'vision encoder': vis, 'connector': con,
           'LoRA + token rows': adapters}
    if arch.get('box_prompt_hidden'):
        out['box prompt encoder'] = box_prompt_params(
            arch['box_prompt_hidden'], h)
    return out


def weight_copy_bytes(arch: dict, rows: List[dict]) -> Dict[str, int]:
    """bf16 copies of the trained float32 Linear / Conv weights that
    autocast caches in the forward pass and the backward pass keeps, per
    component (the heads run outside autocast)."""
    if not arch.get('amp', True):
        return {}
    linear = linear_params(arch)
    return {
        row['name']: 2 * linear[row['name']]
        for row in rows if row['name'] in linear and row['trainable'] and
        row['dtype'] == 'float32'
    }


def visual_tokens(arch: dict) -> int:
    """Visual tokens the LLM reads per sample."""
    conn, vision = arch['connector'], arch['vision']
    if conn['type'] == 'qformer':
        return conn['num_queries'] + conn['num_extra_queries']
    side = vision['image_size'] // vision['patch_size']
    pooled = math.ceil(side / conn['pool_stride'])**2
    return vision['num_frames'] * pooled + (1 if conn['newline'] else 0)


# ---------------------------------------------------------------- report
def deepspeed_buffer_bytes(arch: dict, rows: List[dict], zero: int,
                           bucket: float, overlap_comm: bool,
                           comm_dtypes: Optional[int] = None) -> int:
    """ZeRO-2's contiguous gradient buckets, allocated at each backward
    pass and released by the step: ``bucket`` float32 elements (the
    trained parameters' dtype) for each communication dtype (under
    DeepSpeed's ``torch_autocast`` Linear/Conv gradients travel in bf16,
    the rest in float32: two dtypes; one without autocast), doubled with
    ``overlap_comm``."""
    if zero != 2 or not any(r['trainable'] for r in rows):
        return 0
    if comm_dtypes is None:
        comm_dtypes = 2 if arch.get('amp', True) else 1
    return comm_dtypes * (2 if overlap_comm else 1) * int(bucket) * 4


def estimate(arch: dict, gpus: int, micro_batch: int, zero: int,
             flash: bool = True, reduce_bucket_size: float = 5e8,
             overlap_comm: bool = True,
             comm_dtypes: Optional[int] = None) -> dict:
    """Per-component parameters and bytes per GPU (``rows``), their
    ``total``, the ZeRO-2 ``buffers`` (``comm_dtypes``: see
    :func:`deepspeed_buffer_bytes`) and the LLM sequence length."""
    rows = count_params(arch)
    s = visual_tokens(arch) + arch['text_len']
    b = micro_batch
    copies = weight_copy_bytes(arch, rows)
    acts = {}
    for ckpt in (False, True):
        llm = llm_activation_bytes(arch, s, b, flash, ckpt)
        acts[ckpt] = {
            'vision encoder': vision_activation_bytes(arch, b, flash, ckpt),
            'connector': connector_activation_bytes(arch, b),
            'LLM (frozen base)': llm['base'],
            'LoRA + token rows': llm['lora'],
        }
    for row in rows:
        width = DTYPE_BYTES[row['dtype']]
        row['weights'] = width * row['params'] / (gpus if zero >= 3 else 1)
        row['grads'] = width * row['trainable'] / (gpus if zero >= 2 else 1)
        if zero >= 1:  # fp32 master partition + AdamW moments
            row['optim'] = 12 * row['trainable'] / gpus
        else:  # AdamW moments in the parameters' (float32) dtype
            row['optim'] = 2 * width * row['trainable']
        for key, ckpt in (('act', False), ('act_ckpt', True)):
            row[key] = acts[ckpt].get(row['name'], 0) + \
                copies.get(row['name'], 0)
    total = {k: sum(r[k] for r in rows)
             for k in ('params', 'trainable', 'weights', 'grads', 'optim',
                       'act', 'act_ckpt')}
    total['name'] = 'total'
    buffers = deepspeed_buffer_bytes(arch, rows, zero, reduce_bucket_size,
                                     overlap_comm, comm_dtypes)
    static = total['weights'] + total['grads'] + total['optim'] + buffers
    frames = input_bytes(arch, b) + visual_token_bytes(arch, b)
    return dict(rows=rows, total=total, seq_len=s, buffers=buffers,
                inputs=frames, static=static,
                peak=static + frames + total['act'],
                peak_ckpt=static + frames + total['act_ckpt'])


def activation_terms(arch: dict, b: int, flash: bool) -> Dict[str, str]:
    """The largest activation terms, for the report."""
    llm, vision = arch['llm'], arch['vision']
    s = visual_tokens(arch) + arch['text_len']
    layer = llm_layer_bytes(arch, s, b, flash)
    vocab = llm_dims(llm)['vocab']
    terms = {
        'LLM decoder layer (base)':
        f"{gib(layer['base'])} GiB x {llm['num_layers']} layers",
        'LLM decoder layer (LoRA)':
        f"{gib(layer['lora'])} GiB x {llm['num_layers']} layers",
        'fp32 log-softmax of the loss (4 s b V)':
        f'{gib(4 * s * b * vocab)} GiB',
    }
    if vision['trainable']:
        terms['vision layer'] = (
            f'{gib(vision_layer_bytes(arch, b, flash))} GiB x '
            f'{vision_layers(vision)} layers ({vit_tokens(vision)} '
            'tokens/sequence)')
    return terms


def gib(x: float) -> str:
    return f'{x / GiB:.2f}'


def render(arch: dict, args, result: dict) -> str:
    t = result['total']
    strategy = f'ZeRO-{args.zero}' if args.zero else \
        'no ZeRO (AmpOptimWrapper)'
    lines = [
        f"TPO stage 3 per-GPU memory estimate: {arch['title']}",
        f'  {args.gpus} GPUs, {strategy}, micro-batch {args.micro} '
        f'per GPU (total batch {args.total_batch}, gradient accumulation '
        f'{args.grad_accum}), {arch["vision"]["num_frames"]} frames',
        f'  LLM sequence: {visual_tokens(arch)} visual + '
        f"{arch['text_len']} text = {result['seq_len']} tokens; bf16 "
        'autocast over float32 trained weights, frozen LLM in '
        f"{arch['llm'].get('dtype', 'float32')}",
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
    if result['buffers']:
        lines += ['', f"ZeRO-2 gradient buckets: {gib(result['buffers'])} "
                  f'GiB (reduce_bucket_size {args.reduce_bucket_size:.0e} '
                  'x 4 bytes x 2 communication dtypes (bf16 autocast)'
                  f"{' x 2 (overlap_comm)' if args.overlap_comm else ''})"]
    lines += [
        '',
        f"input frames and visual tokens (float32): "
        f"{gib(result['inputs'])} GiB",
        'weights + grads + optimizer states + buffers: '
        f"{gib(result['static'])} GiB",
        f"total per GPU, gradient checkpointing off: "
        f"{gib(result['peak'])} GiB",
        f"total per GPU, gradient checkpointing on:  "
        f"{gib(result['peak_ckpt'])} GiB",
        '(act+gc: checkpointing of every ViT and LLM layer; the Q-Former '
        'and heads are never checkpointed; act includes the bf16 copies of '
        'the trained float32 weights that autocast keeps)',
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
    parser.add_argument('--grad-accum', type=int, default=2,
                        help='gradient accumulation (the stage-3 recipes: '
                        '2, with 4 samples per GPU)')
    parser.add_argument('--micro-batch', type=int,
                        help='per-GPU batch (default: total batch / (gpus '
                        'x grad accum)); sets the gradient accumulation')
    parser.add_argument('--zero', type=int, choices=[0, 1, 2, 3], default=2,
                        help='DeepSpeed ZeRO stage; 0: no DeepSpeed')
    parser.add_argument('--reduce-bucket-size', type=float, default=5e8,
                        help="ZeRO-2's reduce_bucket_size "
                        '(configs/_base_/strategies/deepspeed_zero2.py: 5e8)')
    parser.add_argument('--no-overlap-comm', dest='overlap_comm',
                        action='store_false')
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
        kept = {k: arch['llm'][k] for k in ('added_tokens', 'dtype')}
        arch['llm'] = dict(read_llm_config(args.llm_config), **kept)
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
    result = estimate(arch, args.gpus, args.micro, args.zero, args.flash,
                      args.reduce_bucket_size, args.overlap_comm)
    text = render(arch, args, result)
    print(text)
    return text


if __name__ == '__main__':
    main()
