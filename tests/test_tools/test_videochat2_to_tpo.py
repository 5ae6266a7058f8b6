"""tools/model_converters/videochat2_to_tpo.py: VideoChat2 names, the
full-size modules, and the converted parts loaded with ``pretrained=``."""
import pytest
import torch
from mmengine.config import Config

from tests._shared import load_tool
from tests.videochat_release import FULL, OFFICIAL_PATTERNS, TINY
from tpo.models.connectors.qformer import QFormerConnector
from tpo.models.encoders.video_vit import VideoViT
from tpo.registry import MODELS

videochat2_to_tpo = load_tool('model_converters/videochat2_to_tpo.py')


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
    result = videochat2_to_tpo.convert_videochat2({k: torch.zeros(1)
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


def test_videochat2_stage3_names(g, official):
    """VideoChat2's names: mistral_proj / llama_proj and mistral_model.*
    (LoRA or plain), no added tokens (rows 32000+ start at the mean)."""
    sd = {'mistral_proj.weight': torch.ones(2, 3),
          'llama_proj.bias': torch.ones(2),
          'mistral_model.base_model.model.model.norm.weight': torch.ones(2),
          'mistral_model.model.layers.0.mlp.up_proj.weight': torch.ones(1),
          'mistral_model.lm_head.weight': torch.arange(6.).reshape(3, 2)}
    res = videochat2_to_tpo.convert_videochat2(
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


def test_pretrained_paths(tmp_path, official, g):
    """Missing files fail clearly; the converted release's parts load
    strictly into the encoder and the connector by their key prefixes."""
    with pytest.raises(FileNotFoundError, match='VideoViT.*model_converters'):
        VideoViT(pretrained=str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='QFormerConnector'):
        QFormerConnector(vision_dims=8, llm_dims=8,
                         pretrained=str(tmp_path / 'nope.safetensors'))
    full = Config.fromfile(str(FULL)).model
    with pytest.raises(FileNotFoundError, match='videochat2_stage3_conv'):
        MODELS.build(full.vision_encoder)

    cfg = Config.fromfile(str(TINY)).model
    release = tmp_path / 'stage3.pth'
    torch.save({'model': official}, str(release))
    path = tmp_path / 'converted.safetensors'
    videochat2_to_tpo.main([str(release), str(path)])
    vit = MODELS.build(dict(cfg.vision_encoder, pretrained=str(path)))
    assert torch.equal(vit.blocks[1].attn.v_bias,
                       official['vision_encoder.encoder.blocks.1.attn.v_bias'])
    assert torch.equal(vit.norm.weight, official['vision_layernorm.weight'])
    conn = MODELS.build(dict(cfg.connector, vision_dims=g['vis_dims'],
                             llm_dims=g['llm_dims'], pretrained=str(path)))
    assert torch.equal(conn.extra_query_tokens, official['extra_query_tokens'])
    assert torch.equal(conn.proj.weight, official['project_up.weight'])
    assert torch.equal(
        conn.qformer.encoder.layer[0].crossattention.attention.key.weight,
        official['qformer.bert.encoder.layer.0.crossattention.self.key.'
                 'weight'])
    # a file of another component fails, naming the keys it lacks
    with pytest.raises(RuntimeError, match='missing'):
        MODELS.build(dict(cfg.vision_encoder, pretrained=str(path),
                          pretrained_prefix='connector.'))
