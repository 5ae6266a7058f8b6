"""VideoChat2 / VideoChat-TPO fidelity: UMT-L encoder, Q-Former, configs and
the converter of released checkpoints (tiny shapes, CPU).

The synthetic "released" checkpoint carries the official key names (checked
against the key patterns of the VideoChat-TPO release's
model.safetensors.index.json, embedded below) at the geometry of
configs/_base_/models/videochat2_tiny.py. Reference forwards are written here
from the official math (modeling_vit.py / LAVIS Q-Former of OpenGVLab/TPO),
independently of tpo.models.
"""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from safetensors.torch import load_file, save_file

from tpo.models.connectors.qformer import QFormerConnector
from tpo.models.encoders.video_vit import (Attention, VideoViT,
                                           umt_position_table)
from tpo.models.model_converters import (VIDEOCHAT_TPO_ADDED_TOKENS,
                                         component_state_dict,
                                         convert_videochat_state_dict,
                                         load_state_dict_file,
                                         merge_lora_weights, tpo_added_tokens)
from tpo.registry import MODELS, TOKENIZERS

init_default_scope('tpo')
ROOT = Path(__file__).resolve().parents[2]
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
    x = F.conv3d(video.permute(0, 2, 1, 3, 4), sd[p + 'patch_embed.proj.weight'],
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
    return convert_videochat_state_dict(
        official, src_tokens=official_tokens(g), dst_tokens=tokens,
        dst_vocab_size=vocab_rows(model))


# -------------------------------------------------------------------- tests
def test_synthetic_checkpoint_has_the_release_key_names(official):
    """Same key patterns as the release (cg_/sam. parts sampled)."""
    patterns = {normalise(k) for k in official
                if not k.startswith(('cg_', 'sam.'))}
    assert patterns == OFFICIAL_PATTERNS
    # The release stores 23 UMT blocks and cross-attention in even layers.
    assert len(OFFICIAL_PATTERNS) == 105


def heads_of(model, state: dict) -> dict:
    """The converted keys of the heads the tiny config builds (region
    only): the temporal and mask conversions are checked by name here and
    by their own tests."""
    return {k: v for k, v in state.items()
            if not k.startswith('heads.') or
            k.split('.')[1] in model.heads}


def test_converted_release_loads_strictly(model, converted):
    state = heads_of(model, converted.state_dict)
    box_keys = [k for k in state if k.startswith('box_prompt_encoder.')]
    assert sorted(box_keys) == [f'box_prompt_encoder.mlp.{i}.{p}'
                                for i in (0, 2) for p in ('bias', 'weight')]
    if not hasattr(model, 'box_prompt_encoder'):
        for key in box_keys:
            state.pop(key)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == [] and unexpected == []
    # Every mapped tensor is now in the model, bit for bit.
    own = model.state_dict()
    for key, value in state.items():
        assert torch.equal(own[key], value), key


def test_round_trip_outputs_match_official_math(model, official, converted,
                                                g):
    """Converted weights in our modules == the official forward on the
    official tensors: encoder, Q-Former + projection, heads, task tokens."""
    state = {k: v for k, v in heads_of(model,
                                       converted.state_dict).items()
             if hasattr(model, 'box_prompt_encoder') or
             not k.startswith('box_prompt_encoder.')}
    model.load_state_dict(state, strict=True)
    gen = torch.Generator().manual_seed(1)
    video = torch.randn(2, g['num_frames'], 3, 32, 32, generator=gen)
    with torch.no_grad():
        ours = model.vision_encoder(video)
        ref = ref_umt(official, video, g)
        assert ours.shape == (2, g['num_frames'] * 16, g['vis_dims'])
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
        # Images (T == 1) use the single-frame table, as use_image=True.
        torch.testing.assert_close(model.vision_encoder(video[:, :1]),
                                   ref_umt(official, video[:, :1], g),
                                   rtol=1e-5, atol=1e-5)

        ids = torch.randint(1, g['q_vocab'], (2, 5), generator=gen)
        mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])  # left pad
        out = model.connector(ours, ids, mask)
        assert out.shape == (2, g['nq'] + g['nq_extra'], g['llm_dims'])
        torch.testing.assert_close(
            out, ref_qformer(official, ref, ids, mask, g), rtol=1e-4,
            atol=1e-5)
        torch.testing.assert_close(
            model.connector(ours), ref_qformer(official, ref, None, None, g),
            rtol=1e-4, atol=1e-5)

        hidden = torch.randn(3, g['llm_dims'], generator=gen)
        torch.testing.assert_close(model.heads.region.mlp(hidden),
                                   ref_mlp(official, 'loc_decoder', hidden))
        if hasattr(model, 'box_prompt_encoder'):
            boxes = torch.rand(3, 4, generator=gen)
            torch.testing.assert_close(
                model.box_prompt_encoder.mlp(boxes),
                ref_mlp(official, 'loc_encoder', boxes))
    for task, name in (('region', 'box_token'), ('temporal', 'temporal_token'),
                       ('mask', 'track_token')):
        assert model.task_tokens[task].shape == (g['llm_dims'], )
        assert torch.equal(model.task_tokens[task].data,
                           official[name].reshape(-1))


def test_llm_logits_match_release_after_vocab_reordering(model, official, g):
    """The release's peft LLM (LoRA on lm_head too) on its token ids gives
    the logits of our LLM on our ids, column for column."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg = Config.fromfile(str(TINY)).model
    llm_cfg = dict(cfg.llm.config)
    llm_cfg['vocab_size'] = g['base_vocab'] + len(VIDEOCHAT_TPO_ADDED_TOKENS)
    torch.manual_seed(0)
    lm = AutoModelForCausalLM.from_config(
        AutoConfig.for_model(llm_cfg.pop('model_type'), **llm_cfg))
    lora = dict(cfg.lora)
    lora.pop('trainable_token_indices')
    lm = get_peft_model(lm, LoraConfig(task_type='CAUSAL_LM', **lora))
    lm.load_state_dict({k[3:]: v for k, v in official.items()
                        if k.startswith('lm.')}, strict=True)
    lm.eval()

    ours_tokens, src = model_added_tokens(model), official_tokens(g)
    shared = [t for t in ours_tokens if t in src]
    assert set(shared) == set(src)
    base = [5, 17, 42, 101]
    src_ids = torch.tensor([base + [src[t] for t in shared]])
    dst_ids = torch.tensor([base + [ours_tokens[t] for t in shared]])
    model.load_state_dict(heads_of(model, convert_videochat_state_dict(
        official, src_tokens=src, dst_tokens=ours_tokens,
        dst_vocab_size=vocab_rows(model)).state_dict))
    with torch.no_grad():
        ref = lm(input_ids=src_ids).logits[0]
        ours = model.llm(input_ids=dst_ids).logits[0]
    nb = g['base_vocab']
    torch.testing.assert_close(ours[:, :nb], ref[:, :nb], rtol=1e-5,
                               atol=1e-5)
    for t in shared:
        torch.testing.assert_close(ours[:, ours_tokens[t]], ref[:, src[t]],
                                   rtol=1e-5, atol=1e-5)
    # A token the release lacks starts at the mean base embedding.
    embed = model.llm.get_input_embeddings().weight
    video = ours_tokens[model.prompt.video_token]
    torch.testing.assert_close(
        embed[video], official['lm.base_model.model.model.embed_tokens.'
                               'weight'][:nb].mean(0))


def test_qformer_parity_with_transformers(g):
    """Our connector == transformers' InstructBlipQFormerModel run directly
    on the same weights (+ LayerNorm when vision_norm, + projection)."""
    from transformers import (InstructBlipQFormerConfig,
                              InstructBlipQFormerModel)
    qcfg = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=64, vocab_size=50, cross_attention_frequency=2,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    gen = torch.Generator().manual_seed(3)
    visual = torch.randn(2, 12, 24, generator=gen)
    ids = torch.randint(1, 50, (2, 6), generator=gen)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    for vision_norm in (False, True):
        torch.manual_seed(0)
        conn = QFormerConnector(vision_dims=24, llm_dims=16, num_queries=3,
                                num_extra_queries=5, qformer=qcfg,
                                vision_norm=vision_norm).eval()
        with torch.no_grad():
            for p in conn.parameters():  # move away from the init values
                p.add_(torch.randn(p.shape, generator=gen) * 0.05)
        hf = InstructBlipQFormerModel(
            InstructBlipQFormerConfig(encoder_hidden_size=24, **qcfg)).eval()
        hf.load_state_dict(conn.qformer.state_dict())
        queries = torch.cat([conn.query_tokens, conn.extra_query_tokens], 1)
        assert queries.shape == (1, 8, 32) and conn.num_queries == 8
        enc = visual
        if vision_norm:
            enc = F.layer_norm(visual, (24, ), conn.vision_norm.weight,
                               conn.vision_norm.bias, 1e-5)
        else:
            assert isinstance(conn.vision_norm, torch.nn.Identity)
        with torch.no_grad():
            for text, text_mask in ((ids, mask), (None, None)):
                full_mask = None if text is None else torch.cat(
                    [torch.ones(2, 8, dtype=torch.long), text_mask], 1)
                hidden = hf(input_ids=text, attention_mask=full_mask,
                            query_embeds=queries.expand(2, -1, -1),
                            encoder_hidden_states=enc).last_hidden_state
                expected = conn.proj(hidden[:, :8])
                torch.testing.assert_close(conn(visual, text, text_mask),
                                           expected, rtol=0, atol=0)
    # The instruction matters, and padding is masked out (right padding here:
    # left padding shifts the text positions, in the official code too).
    right = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        a = conn(visual, ids, right)
        b = conn(visual, ids[:, :3], right[:, :3])
        c = conn(visual)
    torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(a, c)


def test_umt_position_tables_match_official():
    """UMT-L at full size: 4-frame 14x14 table stretched to 16 frames; the
    image table is the plain 196-row one; the tiny 2 -> 4 frame case."""
    full = umt_position_table((16, 14, 14), 1024, ckpt_frames=4,
                              ckpt_size=14)
    ref = ref_video_table(16 * 196, 1024, 4, 16)[0]
    assert full.shape == (3136, 1024)
    torch.testing.assert_close(full, ref, rtol=0, atol=1e-6)
    # Not the plain 3136-row table: the stretch matters.
    assert not torch.allclose(full, ref_sinusoid(3136, 1024)[0], atol=1e-2)
    image = umt_position_table((1, 14, 14), 1024, None, ckpt_size=14)
    torch.testing.assert_close(image, ref_sinusoid(196, 1024)[0], rtol=0,
                               atol=1e-6)
    tiny = umt_position_table((4, 4, 4), 48, ckpt_frames=2)
    torch.testing.assert_close(tiny, ref_video_table(64, 48, 2, 4)[0],
                               rtol=0, atol=1e-6)
    # A 336 px model (official get_sinusoid_encoding_table2): bicubic from
    # the 14x14 pre-training grid, then linear in time.
    t2 = umt_position_table((8, 21, 21), 64, ckpt_frames=4, ckpt_size=14)
    ref2 = ref_sinusoid(784, 64).reshape(-1, 4, 14, 14, 64)
    ref2 = ref2.reshape(-1, 14, 14, 64).permute(0, 3, 1, 2)
    ref2 = F.interpolate(ref2, size=(21, 21), mode='bicubic',
                         align_corners=False)
    ref2 = ref2.permute(0, 2, 3, 1).reshape(-1, 4, 21, 21, 64)
    ref2 = ref2.permute(0, 2, 3, 4, 1).reshape(-1, 64, 4)
    ref2 = F.interpolate(ref2, size=8, mode='linear')
    ref2 = ref2.reshape(1, 21, 21, 64, 8).permute(0, 4, 1, 2, 3).flatten(1, 3)
    torch.testing.assert_close(t2, ref2[0], rtol=0, atol=1e-5)


def test_video_vit_fixed_input_values():
    """With the residual branches zeroed, the output is LN(patch + pos):
    checked against a hand computation, for a clip and an image."""
    vit = VideoViT(img_size=16, patch_size=8, num_frames=4, embed_dims=12,
                   depth=3, num_heads=2, qkv_bias='qv', out_layer=-2,
                   final_norm_eps=1e-12, pos_ckpt_frames=2).eval()
    assert len(vit.blocks) == 2
    with torch.no_grad():
        for block in vit.blocks:
            for lin in (block.attn.proj, block.mlp.fc2):
                lin.weight.zero_()
                lin.bias.zero_()
        vit.patch_embed.proj.weight.fill_(1.0 / (3 * 64))
        vit.patch_embed.proj.bias.copy_(torch.arange(12.) / 12)
        clip = torch.full((1, 4, 3, 16, 16), 0.5)
        out = vit(clip)
        pos = ref_video_table(16, 12, 2, 4)[0]
        x = 0.5 + torch.arange(12.) / 12 + pos
        expected = (x - x.mean(-1, keepdim=True)) / torch.sqrt(
            x.var(-1, unbiased=False, keepdim=True) + 1e-12)
        assert out.shape == (1, 16, 12)
        torch.testing.assert_close(out[0], expected, rtol=1e-5, atol=1e-5)
        image = vit(clip[:, :1])
        x = 0.5 + torch.arange(12.) / 12 + ref_sinusoid(4, 12)[0]
        expected = (x - x.mean(-1, keepdim=True)) / torch.sqrt(
            x.var(-1, unbiased=False, keepdim=True) + 1e-12)
        assert image.shape == (1, 4, 12)
        torch.testing.assert_close(image[0], expected, rtol=1e-5, atol=1e-5)
        # Another clip length: the table is resampled along time.
        assert vit(clip[:, :3]).shape == (1, 12, 12)


def test_qv_bias_layout_equals_qkv_bias_with_any_key_bias():
    """UMT's q_bias/v_bias attention == a biased qkv Linear whose key bias
    is anything (softmax ignores a per-query constant); no qkv.bias."""
    torch.manual_seed(0)
    qv = Attention(16, 4, 'qv')
    assert qv.qkv.bias is None
    assert {n for n, _ in qv.named_parameters()} == {
        'qkv.weight', 'q_bias', 'v_bias', 'proj.weight', 'proj.bias'}
    with torch.no_grad():
        qv.q_bias.normal_()
        qv.v_bias.normal_()
    full = Attention(16, 4, True)
    full.load_state_dict({
        'qkv.weight': qv.qkv.weight,
        'qkv.bias': torch.cat([qv.q_bias, torch.randn(16) * 3, qv.v_bias]),
        'proj.weight': qv.proj.weight, 'proj.bias': qv.proj.bias})
    x = torch.randn(2, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(qv(x), full(x), rtol=1e-5, atol=1e-5)
    assert Attention(16, 4, False).qkv.bias is None
    with pytest.raises(ValueError, match='qkv_bias'):
        Attention(16, 4, 'kv')


def test_full_size_modules_match_release_keys():
    """The full config's encoder and connector, built on the meta device,
    have exactly the release's vision / Q-Former parameters after renaming:
    23 UMT blocks, 12 BERT layers, cross-attention in the even ones."""
    model_cfg = Config.fromfile(str(FULL)).model
    ve = dict(model_cfg.vision_encoder, pretrained=None)
    ve.pop('type')
    conn = dict(model_cfg.connector, pretrained=None, vision_dims=1024,
                llm_dims=4096)
    conn.pop('type')
    with torch.device('meta'):
        vit = VideoViT(**ve)
        qformer = QFormerConnector(**conn)
    assert len(vit.blocks) == 23
    expected = set()
    for pattern in OFFICIAL_PATTERNS:
        if pattern.startswith(('vision_encoder.', 'vision_layernorm')):
            n = 23
        elif pattern.startswith(('qformer.', 'query_tokens',
                                 'extra_query_tokens', 'project_up')):
            n = 12
        else:
            continue
        if pattern == 'qformer.bert.embeddings.position_ids':
            continue
        keys = [pattern.replace('.N.', f'.{i}.') for i in range(n)] \
            if '.N.' in pattern else [pattern]
        if 'crossattention' in pattern:
            keys = keys[::2]
        expected.update(keys)
    result = convert_videochat_state_dict({k: torch.zeros(1)
                                           for k in expected})
    assert not result.unmapped
    ours = {f'vision_encoder.{k}' for k in vit.state_dict()} | \
        {f'connector.{k}' for k in qformer.state_dict()}
    assert set(result.state_dict) == ours
    shapes = {**{f'vision_encoder.{k}': v.shape
                 for k, v in vit.state_dict().items()},
              **{f'connector.{k}': v.shape
                 for k, v in qformer.state_dict().items()}}
    assert shapes['vision_encoder.blocks.22.attn.qkv.weight'] == (3072, 1024)
    assert shapes['vision_encoder.blocks.22.attn.q_bias'] == (1024, )
    assert shapes['vision_encoder.norm.weight'] == (1024, )
    assert vit.norm.eps == 1e-12 and vit.blocks[0].norm1.eps == 1e-6
    assert shapes['connector.query_tokens'] == (1, 32, 768)
    assert shapes['connector.extra_query_tokens'] == (1, 64, 768)
    assert shapes['connector.qformer.embeddings.word_embeddings.weight'] == \
        (30523, 768)
    assert shapes['connector.qformer.encoder.layer.10.crossattention.'
                  'attention.key.weight'] == (768, 1024)
    assert shapes['connector.proj.weight'] == (4096, 768)
    assert qformer.num_queries == 96


def test_unmapped_keys_are_reported(converted, official):
    """Nothing is dropped silently: the temporal / mask head parts and the
    unused ones are listed with their reason and prefix."""
    unmapped = converted.unmapped
    # CG-DETR goes to the temporal head (its key names are checked in
    # test_temporal_heads.py), but for two modules the release never runs.
    cg = convert_videochat_state_dict({
        'cg_model.class_embed.weight': torch.zeros(2, 4),
        'cg_model.txt_proj_linear.net.1.weight': torch.zeros(4, 4)})
    assert list(cg.state_dict) == [
        'heads.temporal.cg_model.class_embed.weight']
    assert cg.unmapped_keys() == ['cg_model.txt_proj_linear.net.1.weight']
    unused = {k for r, keys in unmapped.items() if r.startswith(
        ('unused', 'buffer', 'legacy')) for k in keys}
    assert {'cg_criterion.empty_weight', 'project_down.weight',
            'project_down.bias', 'temporal_embed.layers.0.weight',
            'action_embed.layers.1.bias'} <= unused
    # The mask head: SAM2 and its prompt adapter (SAM2MaskHead).
    assert converted.renamed['sam.image_encoder.neck.convs.0.conv.weight'] \
        == 'heads.mask.sam.image_encoder.neck.convs.0.conv.weight'
    assert converted.renamed['track_embed.layers.0.weight'] == \
        'heads.mask.adapter.layers.0.weight'
    assert converted.renamed['track_embed_decode2.layers.1.bias'] == \
        'heads.mask.aux_box.layers.1.bias'
    assert set(converted.unmapped_keys()) == \
        set(official) - set(converted.renamed)
    assert any('merge_proj.weight' in keys and r.startswith('unused')
               for r, keys in unmapped.items())
    assert 'qformer.bert.embeddings.position_ids' in \
        converted.unmapped_keys()
    report = converted.report(max_keys=None)
    assert 'project_down.* : 2 keys' in report
    assert 'merge_proj.weight' in report
    assert 'unused' in report
    # Vocabulary rows: the placeholder is new, no release row is dropped.
    assert any('<video>' in n and 'new' in n for n in converted.notes)
    assert not any('dropped' in n for n in converted.notes)
    res = convert_videochat_state_dict(
        {'lm.base_model.model.model.embed_tokens.weight': torch.zeros(9, 2)},
        src_tokens={'<a>': 7, '<b>': 8}, dst_tokens={'<a>': 7},
        dst_vocab_size=8)
    assert any('<b>' in n and 'dropped' in n for n in res.notes)
    odd = convert_videochat_state_dict({'foo.bar': torch.zeros(1)})
    assert odd.unmapped == {'unknown: no conversion rule': ['foo.bar']}
    assert 'foo.bar' in odd.report()


def test_videochat2_stage3_names(g, official):
    """VideoChat2's names: mistral_proj / llama_proj and mistral_model.*
    (LoRA or plain), no added tokens (rows 32000+ start at the mean)."""
    sd = {'mistral_proj.weight': torch.ones(2, 3),
          'llama_proj.bias': torch.ones(2),
          'mistral_model.base_model.model.model.norm.weight': torch.ones(2),
          'mistral_model.model.layers.0.mlp.up_proj.weight': torch.ones(1),
          'mistral_model.lm_head.weight': torch.arange(6.).reshape(3, 2)}
    res = convert_videochat_state_dict(
        sd, dst_tokens={'<video>': 3, '<box_begin>': 4}, dst_vocab_size=5)
    assert res.renamed == {
        'mistral_proj.weight': 'connector.proj.weight',
        'llama_proj.bias': 'connector.proj.bias',
        'mistral_model.base_model.model.model.norm.weight':
        'llm.base_model.model.model.norm.weight',
        'mistral_model.model.layers.0.mlp.up_proj.weight':
        'llm.model.layers.0.mlp.up_proj.weight',
        'mistral_model.lm_head.weight': 'llm.lm_head.weight'}
    head = res.state_dict['llm.lm_head.weight']
    assert head.shape == (5, 2)
    assert torch.equal(head[:3], sd['mistral_model.lm_head.weight'])
    assert torch.equal(head[3], torch.tensor([2., 3.]))
    assert torch.equal(head[4], torch.tensor([2., 3.]))


def test_merge_lora_folds_lm_head():
    a, b = torch.randn(4, 6), torch.randn(5, 4)
    base = torch.randn(5, 6)
    sd = {'llm.base_model.model.lm_head.base_layer.weight': base,
          'llm.base_model.model.lm_head.lora_A.default.weight': a,
          'llm.base_model.model.lm_head.lora_B.default.weight': b,
          'llm.base_model.model.model.layers.0.mlp.up_proj.base_layer.weight':
          base}
    notes = merge_lora_weights(sd, ['lm_head'], lora_alpha=32)
    assert set(sd) == {
        'llm.base_model.model.lm_head.weight',
        'llm.base_model.model.model.layers.0.mlp.up_proj.base_layer.weight'}
    torch.testing.assert_close(sd['llm.base_model.model.lm_head.weight'],
                               base + 8 * b @ a)
    assert notes and 'r=4' in notes[0]


def test_pretrained_paths(tmp_path, official, g):
    """Missing files fail clearly; official-layout files load directly into
    the encoder and the connector (pickles with weights_only=True)."""
    with pytest.raises(FileNotFoundError, match='VideoViT.*umt_l16_qformer'):
        VideoViT(pretrained=str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='QFormerConnector'):
        QFormerConnector(vision_dims=8, llm_dims=8,
                         pretrained=str(tmp_path / 'nope.safetensors'))
    full = Config.fromfile(str(FULL)).model
    with pytest.raises(FileNotFoundError, match='VideoChat2_stage3'):
        MODELS.build(full.vision_encoder)

    cfg = Config.fromfile(str(TINY)).model
    vis = {k: v for k, v in official.items()
           if k.startswith(('vision_encoder.', 'vision_layernorm.'))}
    path = tmp_path / 'umt.safetensors'
    save_file(vis, str(path))
    vit = MODELS.build(dict(cfg.vision_encoder, pretrained=str(path)))
    assert torch.equal(vit.blocks[1].attn.v_bias,
                       official['vision_encoder.encoder.blocks.1.attn.v_bias'])
    assert torch.equal(vit.norm.weight, official['vision_layernorm.weight'])

    pth = tmp_path / 'stage3.pth'
    torch.save({'model': official}, str(pth))
    conn = MODELS.build(dict(cfg.connector, vision_dims=g['vis_dims'],
                             llm_dims=g['llm_dims'], pretrained=str(pth)))
    assert torch.equal(conn.extra_query_tokens, official['extra_query_tokens'])
    assert torch.equal(conn.proj.weight, official['project_up.weight'])
    assert torch.equal(
        conn.qformer.encoder.layer[0].crossattention.attention.key.weight,
        official['qformer.bert.encoder.layer.0.crossattention.self.key.'
                 'weight'])
    part = component_state_dict(official, 'connector')
    assert set(part) == set(conn.state_dict())


def test_cli_converts_shards_and_reorders_vocab(tmp_path, official, model,
                                                converted):
    """The tool on a sharded safetensors release: output equals the library
    conversion with TPOModel's token ids (from --config)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'videochat_tpo_to_tpo',
        ROOT / 'tools/model_converters/videochat_tpo_to_tpo.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    src = tmp_path / 'release'
    src.mkdir()
    keys = sorted(official)
    shards = {'model-00001-of-00002.safetensors': keys[::2],
              'model-00002-of-00002.safetensors': keys[1::2]}
    weight_map = {}
    for name, part in shards.items():
        save_file({k: official[k].contiguous() for k in part},
                  str(src / name))
        weight_map.update({k: name for k in part})
    (src / 'model.safetensors.index.json').write_text(
        json.dumps(dict(metadata={}, weight_map=weight_map)))
    (src / 'added_tokens.json').write_text(
        json.dumps(official_tokens(tiny_geometry())))
    assert set(load_state_dict_file(str(src))) == set(official)

    out = tmp_path / 'converted.safetensors'
    result = tool.main([str(src), str(out), '--config', str(TINY)])
    written = load_file(str(out))
    assert set(written) == set(converted.state_dict)
    for key, value in converted.state_dict.items():
        assert torch.equal(written[key], value), key
    assert set(result.unmapped_keys()) == set(converted.unmapped_keys())
    assert 'merge_proj.weight' in (
        tmp_path / 'converted.report.txt').read_text()

    sharded = tmp_path / 'converted_dir'
    tool.main([str(src), str(sharded)])
    index = json.loads((sharded / 'model.safetensors.index.json').read_text())
    assert set(index['weight_map']) == set(converted.state_dict)
    kept = load_state_dict_file(str(sharded))
    embed = 'llm.base_model.model.model.embed_tokens.weight'
    assert torch.equal(kept[embed],
                       official['lm.base_model.model.model.embed_tokens.'
                                'weight'])


def test_tpo_added_tokens_agree_with_model(model):
    cfg = Config.fromfile(str(TINY)).model
    tokens, size = tpo_added_tokens(TOKENIZERS.build(cfg.tokenizer), cfg)
    assert tokens == model_added_tokens(model)
    # The release's ids: the added tokens keep 32000-32006 (offset here).
    base = tiny_geometry()['base_vocab']
    assert {t: i for t, i in tokens.items() if t != '<video>'} == \
        official_tokens(tiny_geometry())
    assert tokens['<video>'] == base + 7
    assert size == vocab_rows(model)


@pytest.mark.parametrize('path', [TINY, FULL], ids=lambda p: p.name)
def test_configs_roundtrip(path, tmp_path):
    cfg = Config.fromfile(str(path))
    cfg.dump(str(tmp_path / 'dumped.py'))
    assert Config.fromfile(str(tmp_path / 'dumped.py')).to_dict() == \
        cfg.to_dict()
    model = cfg.model
    assert model.vision_encoder.qkv_bias == 'qv'
    assert model.vision_encoder.final_norm_eps == 1e-12
    assert model.connector.vision_norm is False
    assert model.lora.trainable_token_indices is None
    assert 'lm_head' in model.lora.target_modules
