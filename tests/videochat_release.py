"""A synthetic VideoChat2 / VideoChat-TPO release at tiny shapes and the
official math of its parts, shared by the encoder, connector and converter
tests.

The synthetic "released" checkpoint carries the official key names (checked
against the key patterns of the VideoChat-TPO release's
model.safetensors.index.json, embedded below) at the geometry of
configs/_base_/models/videochat2_tiny.py. Reference forwards are written here
from the official math (modeling_vit.py / LAVIS Q-Former of OpenGVLab/TPO),
independently of tpo.models.
"""
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests._shared import load_tool
from tpo.registry import MODELS, TOKENIZERS

init_default_scope('tpo')
videochat_tpo_to_tpo = load_tool('model_converters/videochat_tpo_to_tpo.py')
VIDEOCHAT_TPO_ADDED_TOKENS = videochat_tpo_to_tpo.VIDEOCHAT_TPO_ADDED_TOKENS
ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/_base_/models/videochat2_tiny.py'
FULL = ROOT / 'configs/_base_/models/videochat2_umtl_mistral7b.py'

# Key patterns (indices -> N) of the VideoChat-TPO release, all keys but the
# 286 cg_model.* / cg_criterion.* and 900 sam.* ones.
OFFICIAL_PATTERNS = set("""
action_embed.layers.N.bias
action_embed.layers.N.weight
box_token
extra_query_tokens
lm.base_model.model.lm_head.base_layer.weight
lm.base_model.model.lm_head.lora_A.default.weight
lm.base_model.model.lm_head.lora_B.default.weight
lm.base_model.model.model.embed_tokens.weight
lm.base_model.model.model.layers.N.input_layernorm.weight
lm.base_model.model.model.layers.N.mlp.down_proj.base_layer.weight
lm.base_model.model.model.layers.N.mlp.down_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.mlp.down_proj.lora_B.default.weight
lm.base_model.model.model.layers.N.mlp.gate_proj.base_layer.weight
lm.base_model.model.model.layers.N.mlp.gate_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.mlp.gate_proj.lora_B.default.weight
lm.base_model.model.model.layers.N.mlp.up_proj.base_layer.weight
lm.base_model.model.model.layers.N.mlp.up_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.mlp.up_proj.lora_B.default.weight
lm.base_model.model.model.layers.N.post_attention_layernorm.weight
lm.base_model.model.model.layers.N.self_attn.k_proj.base_layer.weight
lm.base_model.model.model.layers.N.self_attn.k_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.self_attn.k_proj.lora_B.default.weight
lm.base_model.model.model.layers.N.self_attn.o_proj.base_layer.weight
lm.base_model.model.model.layers.N.self_attn.o_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.self_attn.o_proj.lora_B.default.weight
lm.base_model.model.model.layers.N.self_attn.q_proj.base_layer.weight
lm.base_model.model.model.layers.N.self_attn.q_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.self_attn.q_proj.lora_B.default.weight
lm.base_model.model.model.layers.N.self_attn.v_proj.base_layer.weight
lm.base_model.model.model.layers.N.self_attn.v_proj.lora_A.default.weight
lm.base_model.model.model.layers.N.self_attn.v_proj.lora_B.default.weight
lm.base_model.model.model.norm.weight
loc_decoder.N.bias
loc_decoder.N.weight
loc_encoder.N.bias
loc_encoder.N.weight
merge_proj.bias
merge_proj.weight
project_down.bias
project_down.weight
project_up.bias
project_up.weight
qformer.bert.embeddings.LayerNorm.bias
qformer.bert.embeddings.LayerNorm.weight
qformer.bert.embeddings.position_embeddings.weight
qformer.bert.embeddings.position_ids
qformer.bert.embeddings.word_embeddings.weight
qformer.bert.encoder.layer.N.attention.output.LayerNorm.bias
qformer.bert.encoder.layer.N.attention.output.LayerNorm.weight
qformer.bert.encoder.layer.N.attention.output.dense.bias
qformer.bert.encoder.layer.N.attention.output.dense.weight
qformer.bert.encoder.layer.N.attention.self.key.bias
qformer.bert.encoder.layer.N.attention.self.key.weight
qformer.bert.encoder.layer.N.attention.self.query.bias
qformer.bert.encoder.layer.N.attention.self.query.weight
qformer.bert.encoder.layer.N.attention.self.value.bias
qformer.bert.encoder.layer.N.attention.self.value.weight
qformer.bert.encoder.layer.N.crossattention.output.LayerNorm.bias
qformer.bert.encoder.layer.N.crossattention.output.LayerNorm.weight
qformer.bert.encoder.layer.N.crossattention.output.dense.bias
qformer.bert.encoder.layer.N.crossattention.output.dense.weight
qformer.bert.encoder.layer.N.crossattention.self.key.bias
qformer.bert.encoder.layer.N.crossattention.self.key.weight
qformer.bert.encoder.layer.N.crossattention.self.query.bias
qformer.bert.encoder.layer.N.crossattention.self.query.weight
qformer.bert.encoder.layer.N.crossattention.self.value.bias
qformer.bert.encoder.layer.N.crossattention.self.value.weight
qformer.bert.encoder.layer.N.intermediate.dense.bias
qformer.bert.encoder.layer.N.intermediate.dense.weight
qformer.bert.encoder.layer.N.intermediate_query.dense.bias
qformer.bert.encoder.layer.N.intermediate_query.dense.weight
qformer.bert.encoder.layer.N.output.LayerNorm.bias
qformer.bert.encoder.layer.N.output.LayerNorm.weight
qformer.bert.encoder.layer.N.output.dense.bias
qformer.bert.encoder.layer.N.output.dense.weight
qformer.bert.encoder.layer.N.output_query.LayerNorm.bias
qformer.bert.encoder.layer.N.output_query.LayerNorm.weight
qformer.bert.encoder.layer.N.output_query.dense.bias
qformer.bert.encoder.layer.N.output_query.dense.weight
query_tokens
temporal_embed.layers.N.bias
temporal_embed.layers.N.weight
temporal_token
track_embed.layers.N.bias
track_embed.layers.N.weight
track_embed_decode2.layers.N.bias
track_embed_decode2.layers.N.weight
track_token
vision_encoder.encoder.blocks.N.attn.proj.bias
vision_encoder.encoder.blocks.N.attn.proj.weight
vision_encoder.encoder.blocks.N.attn.q_bias
vision_encoder.encoder.blocks.N.attn.qkv.weight
vision_encoder.encoder.blocks.N.attn.v_bias
vision_encoder.encoder.blocks.N.mlp.fc1.bias
vision_encoder.encoder.blocks.N.mlp.fc1.weight
vision_encoder.encoder.blocks.N.mlp.fc2.bias
vision_encoder.encoder.blocks.N.mlp.fc2.weight
vision_encoder.encoder.blocks.N.norm1.bias
vision_encoder.encoder.blocks.N.norm1.weight
vision_encoder.encoder.blocks.N.norm2.bias
vision_encoder.encoder.blocks.N.norm2.weight
vision_encoder.encoder.patch_embed.proj.bias
vision_encoder.encoder.patch_embed.proj.weight
vision_layernorm.bias
vision_layernorm.weight
""".split())


def normalise(key: str) -> str:
    return re.sub(r'\.\d+\.', '.N.', key)


# ------------------------------------------------------------ tiny geometry
def tiny_geometry() -> dict:
    m = Config.fromfile(str(TINY)).model
    ve, qf, llm = m.vision_encoder, m.connector.qformer, m.llm.config
    base_vocab = len(TOKENIZERS.build(m.tokenizer))
    return dict(
        vis_dims=ve.embed_dims, patch=ve.patch_size, heads=ve.num_heads,
        vis_blocks=ve.depth + ve.out_layer + 1, num_frames=ve.num_frames,
        ckpt_frames=ve.pos_ckpt_frames, q_dims=qf.hidden_size,
        q_heads=qf.num_attention_heads, q_layers=qf.num_hidden_layers,
        q_inter=qf.intermediate_size, q_vocab=qf.vocab_size,
        q_max_pos=qf.max_position_embeddings,
        q_cross_freq=qf.cross_attention_frequency,
        nq=m.connector.num_queries, nq_extra=m.connector.num_extra_queries,
        llm_dims=llm.hidden_size, llm_inter=llm.intermediate_size,
        llm_layers=llm.num_hidden_layers,
        kv_dims=llm.hidden_size // llm.num_attention_heads *
        llm.num_key_value_heads, lora_r=m.lora.r,
        lora_alpha=m.lora.lora_alpha, base_vocab=base_vocab,
        region_hidden=m.heads.region.hidden_dims)


def official_tokens(g) -> dict:
    """The release's added tokens, moved to the tiny base vocabulary."""
    return {t: g['base_vocab'] + i - 32000
            for t, i in VIDEOCHAT_TPO_ADDED_TOKENS.items()}


def official_state_dict(g, seed=0) -> dict:
    """A VideoChat-TPO checkpoint with official key names, tiny shapes."""
    gen = torch.Generator().manual_seed(seed)
    sd = {}

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=gen) * scale

    def ln(prefix, d):
        sd[prefix + '.weight'] = 1 + rnd(d, scale=0.1)
        sd[prefix + '.bias'] = rnd(d, scale=0.1)

    def lin(prefix, i, o):
        sd[prefix + '.weight'] = rnd(o, i, scale=i**-0.5)
        sd[prefix + '.bias'] = rnd(o, scale=0.1)

    def lora(prefix, i, o):
        sd[prefix + '.base_layer.weight'] = rnd(o, i, scale=i**-0.5)
        sd[prefix + '.lora_A.default.weight'] = rnd(g['lora_r'], i,
                                                    scale=i**-0.5)
        sd[prefix + '.lora_B.default.weight'] = rnd(o, g['lora_r'],
                                                    scale=0.05)

    d, p = g['vis_dims'], g['patch']
    ve = 'vision_encoder.encoder.'
    sd[ve + 'patch_embed.proj.weight'] = rnd(d, 3, 1, p, p,
                                             scale=(3 * p * p)**-0.5)
    sd[ve + 'patch_embed.proj.bias'] = rnd(d, scale=0.1)
    for i in range(g['vis_blocks']):
        b = f'{ve}blocks.{i}.'
        ln(b + 'norm1', d)
        ln(b + 'norm2', d)
        sd[b + 'attn.qkv.weight'] = rnd(3 * d, d, scale=d**-0.5)
        sd[b + 'attn.q_bias'] = rnd(d, scale=0.3)
        sd[b + 'attn.v_bias'] = rnd(d, scale=0.3)
        lin(b + 'attn.proj', d, d)
        lin(b + 'mlp.fc1', d, 4 * d)
        lin(b + 'mlp.fc2', 4 * d, d)
    ln('vision_layernorm', d)

    h, q = g['q_dims'], 'qformer.bert.'
    sd[q + 'embeddings.word_embeddings.weight'] = rnd(g['q_vocab'], h,
                                                      scale=0.5)
    sd[q + 'embeddings.position_embeddings.weight'] = rnd(g['q_max_pos'], h,
                                                          scale=0.5)
    ln(q + 'embeddings.LayerNorm', h)
    sd[q + 'embeddings.position_ids'] = torch.arange(g['q_max_pos'])[None]
    for i in range(g['q_layers']):
        layer = f'{q}encoder.layer.{i}.'
        parts = ['attention']
        if i % g['q_cross_freq'] == 0:
            parts.append('crossattention')
        for part in parts:
            kv = d if part == 'crossattention' else h
            lin(layer + part + '.self.query', h, h)
            lin(layer + part + '.self.key', kv, h)
            lin(layer + part + '.self.value', kv, h)
            lin(layer + part + '.output.dense', h, h)
            ln(layer + part + '.output.LayerNorm', h)
        for sfx in ('', '_query'):
            lin(layer + 'intermediate' + sfx + '.dense', h, g['q_inter'])
            lin(layer + 'output' + sfx + '.dense', g['q_inter'], h)
            ln(layer + 'output' + sfx + '.LayerNorm', h)
    sd['query_tokens'] = rnd(1, g['nq'], h, scale=0.5)
    sd['extra_query_tokens'] = rnd(1, g['nq_extra'], h, scale=0.5)

    L = g['llm_dims']
    lin('project_up', h, L)
    lin('project_down', L, h)
    lin('merge_proj', 4 * h, L)
    for name in ('box_token', 'temporal_token', 'track_token'):
        sd[name] = rnd(1, 1, L, scale=0.5)
    lin('loc_decoder.0', L, L // 2)
    lin('loc_decoder.2', L // 2, 4)
    lin('loc_encoder.0', 4, L // 2)
    lin('loc_encoder.2', L // 2, L)
    for name, out in (('temporal_embed', 2), ('action_embed', 1),
                      ('track_embed', 24), ('track_embed_decode2', 4)):
        lin(f'{name}.layers.0', L, L)
        lin(f'{name}.layers.1', L, out)
    sd['cg_criterion.empty_weight'] = torch.ones(2)
    sd['sam.image_encoder.neck.convs.0.conv.weight'] = rnd(4, 4, 1, 1)

    m = 'lm.base_model.model.'
    vocab = g['base_vocab'] + len(VIDEOCHAT_TPO_ADDED_TOKENS)
    sd[m + 'model.embed_tokens.weight'] = rnd(vocab, L, scale=0.5)
    inter, kv = g['llm_inter'], g['kv_dims']
    for i in range(g['llm_layers']):
        layer = f'{m}model.layers.{i}.'
        for name, n_in, n_out in (
                ('self_attn.q_proj', L, L), ('self_attn.k_proj', L, kv),
                ('self_attn.v_proj', L, kv), ('self_attn.o_proj', L, L),
                ('mlp.gate_proj', L, inter), ('mlp.up_proj', L, inter),
                ('mlp.down_proj', inter, L)):
            lora(layer + name, n_in, n_out)
        sd[layer + 'input_layernorm.weight'] = 1 + rnd(L, scale=0.1)
        sd[layer + 'post_attention_layernorm.weight'] = 1 + rnd(L,
                                                                scale=0.1)
    sd[m + 'model.norm.weight'] = 1 + rnd(L, scale=0.1)
    lora(m + 'lm_head', L, vocab)
    return sd


# ------------------------------------------------ official math (reference)
def ref_sinusoid(n_position, d_hid):
    """get_sinusoid_encoding_table of modeling_vit.py (numpy)."""
    def angles(pos):
        return [pos / np.power(10000, 2 * (j // 2) / d_hid)
                for j in range(d_hid)]
    table = np.array([angles(i) for i in range(n_position)])
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.tensor(table, dtype=torch.float)[None]


def ref_video_table(n_position, d_hid, ckpt_frames, cur_frames):
    """The same with ckpt_num_frame != cur_frame (224 px path)."""
    if ckpt_frames == cur_frames:
        return ref_sinusoid(n_position, d_hid)
    n_ckpt = n_position // cur_frames * ckpt_frames
    table = ref_sinusoid(n_ckpt, d_hid)
    side = int((n_ckpt // ckpt_frames)**0.5)
    table = table.reshape(-1, ckpt_frames, side, side, d_hid)
    table = table.permute(0, 2, 3, 4, 1).reshape(-1, d_hid, ckpt_frames)
    table = F.interpolate(table, size=cur_frames, mode='linear')
    table = table.reshape(1, side, side, d_hid, cur_frames)
    return table.permute(0, 4, 1, 2, 3).flatten(1, 3)


def ref_umt(sd, video, g):
    """UMT forward (use_image for T == 1) + vision_layernorm."""
    p = 'vision_encoder.encoder.'
    x = F.conv3d(video.permute(0, 2, 1, 3, 4),
                 sd[p + 'patch_embed.proj.weight'],
                 sd[p + 'patch_embed.proj.bias'],
                 stride=(1, g['patch'], g['patch']))
    b, c, t, hh, ww = x.shape
    x = x.flatten(2).transpose(1, 2)
    if t == 1:
        pos = ref_sinusoid(hh * ww, c)
    else:
        pos = ref_video_table(t * hh * ww, c, g['ckpt_frames'], t)
    x = x + pos
    n, heads = x.shape[1], g['heads']
    for i in range(g['vis_blocks']):
        k = f'{p}blocks.{i}.'
        y = F.layer_norm(x, (c, ), sd[k + 'norm1.weight'],
                         sd[k + 'norm1.bias'], 1e-6)
        bias = torch.cat((sd[k + 'attn.q_bias'],
                          torch.zeros_like(sd[k + 'attn.v_bias']),
                          sd[k + 'attn.v_bias']))
        qkv = F.linear(y, sd[k + 'attn.qkv.weight'], bias)
        qkv = qkv.reshape(b, n, 3, heads, -1).permute(2, 0, 3, 1, 4)
        q, kk, v = qkv[0] * (c // heads)**-0.5, qkv[1], qkv[2]
        attn = (q @ kk.transpose(-2, -1)).softmax(-1)
        y = (attn @ v).transpose(1, 2).reshape(b, n, -1)
        x = x + F.linear(y, sd[k + 'attn.proj.weight'],
                         sd[k + 'attn.proj.bias'])
        y = F.layer_norm(x, (c, ), sd[k + 'norm2.weight'],
                         sd[k + 'norm2.bias'], 1e-6)
        y = F.linear(F.gelu(F.linear(y, sd[k + 'mlp.fc1.weight'],
                                     sd[k + 'mlp.fc1.bias'])),
                     sd[k + 'mlp.fc2.weight'], sd[k + 'mlp.fc2.bias'])
        x = x + y
    return F.layer_norm(x, (c, ), sd['vision_layernorm.weight'],
                        sd['vision_layernorm.bias'], 1e-12)


def ref_qformer(sd, image_embeds, ids, mask, g):
    """LAVIS BertModel(query_embeds, input_ids) + project_up."""
    q = 'qformer.bert.'

    def lin(x, name):
        return F.linear(x, sd[name + '.weight'], sd[name + '.bias'])

    def ln(x, name):
        return F.layer_norm(x, x.shape[-1:], sd[name + '.weight'],
                            sd[name + '.bias'], 1e-12)

    b = image_embeds.shape[0]
    query = torch.cat([sd['query_tokens'], sd['extra_query_tokens']], 1)
    query = query.expand(b, -1, -1)
    nq = query.shape[1]
    masks = [torch.ones(b, nq)]
    x = query
    if ids is not None:
        pos = torch.arange(ids.shape[1])
        text = sd[q + 'embeddings.word_embeddings.weight'][ids] + \
            sd[q + 'embeddings.position_embeddings.weight'][pos]
        x = torch.cat([query, text], 1)
        masks.append(mask.float())
    x = ln(x, q + 'embeddings.LayerNorm')
    ext = (1.0 - torch.cat(masks, 1)[:, None, None, :]) * -10000.0
    heads = g['q_heads']

    def attention(prefix, hidden, context, add_mask):
        def split(t):
            return t.reshape(b, t.shape[1], heads, -1).transpose(1, 2)
        qq = split(lin(hidden, prefix + '.self.query'))
        kk = split(lin(context, prefix + '.self.key'))
        vv = split(lin(context, prefix + '.self.value'))
        scores = qq @ kk.transpose(-1, -2) / math.sqrt(qq.shape[-1])
        ctx = ((scores + add_mask).softmax(-1) @ vv).transpose(1, 2)
        ctx = ctx.reshape(b, hidden.shape[1], -1)
        return ln(lin(ctx, prefix + '.output.dense') + hidden,
                  prefix + '.output.LayerNorm')

    def ffn(hidden, layer, sfx):
        y = F.gelu(lin(hidden, layer + 'intermediate' + sfx + '.dense'))
        return ln(lin(y, layer + 'output' + sfx + '.dense') + hidden,
                  layer + 'output' + sfx + '.LayerNorm')

    for i in range(g['q_layers']):
        layer = f'{q}encoder.layer.{i}.'
        a = attention(layer + 'attention', x, x, ext)
        qa = a[:, :nq]
        if layer + 'crossattention.self.query.weight' in sd:
            qa = attention(layer + 'crossattention', qa, image_embeds, 0.0)
        out = ffn(qa, layer, '_query')
        if a.shape[1] > nq:
            out = torch.cat([out, ffn(a[:, nq:], layer, '')], 1)
        x = out
    return lin(x[:, :nq], 'project_up')


def ref_mlp(sd, prefix, x):
    y = F.relu(F.linear(x, sd[prefix + '.0.weight'], sd[prefix + '.0.bias']))
    return F.linear(y, sd[prefix + '.2.weight'], sd[prefix + '.2.bias'])


def model_added_tokens(model) -> dict:
    special = list(VIDEOCHAT_TPO_ADDED_TOKENS) + [model.prompt.video_token]
    ids = {t: model.tokenizer.convert_tokens_to_ids(t) for t in special}
    return {t: i for t, i in ids.items() if i != model.tokenizer.unk_token_id}


def vocab_rows(model) -> int:
    return model.llm.get_input_embeddings().weight.shape[0]


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def g():
    return tiny_geometry()


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    net = MODELS.build(Config.fromfile(str(TINY)).model)
    return net.eval()


@pytest.fixture(scope='module')
def official(g):
    return official_state_dict(g)


@pytest.fixture(scope='module')
def converted(model, official, g):
    tokens = model_added_tokens(model)
    return videochat_tpo_to_tpo.convert_videochat_tpo(
        official, src_tokens=official_tokens(g), dst_tokens=tokens,
        dst_vocab_size=vocab_rows(model))


def heads_of(model, state: dict) -> dict:
    """The converted keys of the heads the tiny config builds (region
    only): the temporal and mask conversions are checked by name here and
    by their own tests."""
    return {k: v for k, v in state.items()
            if not k.startswith('heads.') or
            k.split('.')[1] in model.heads}
