"""tools/analysis_tools/estimate_memory.py: its parameter formulas equal the
parameter counts of real (tiny) modules built with the same
hyper-parameters."""
import importlib.util
from pathlib import Path

import pytest
import torch

TOOL = Path(__file__).resolve().parents[1] / \
    'tools/analysis_tools/estimate_memory.py'


@pytest.fixture(scope='module')
def est():
    spec = importlib.util.spec_from_file_location('estimate_memory', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numel(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


TINY_LLM = dict(hidden_size=64, num_layers=2, intermediate_size=96,
                num_heads=4, num_kv_heads=2, vocab_size=101)


def hf_config(model_type: str, llm: dict, **kwargs):
    from transformers import AutoConfig
    return AutoConfig.for_model(
        model_type, hidden_size=llm['hidden_size'],
        num_hidden_layers=llm['num_layers'],
        intermediate_size=llm['intermediate_size'],
        num_attention_heads=llm['num_heads'],
        num_key_value_heads=llm['num_kv_heads'],
        vocab_size=llm['vocab_size'],
        tie_word_embeddings=llm.get('tie_word_embeddings', False), **kwargs)


@pytest.mark.parametrize('model_type,extra', [
    ('mistral', dict(qkv_bias=False, o_bias=False)),
    ('qwen2', dict(qkv_bias=True, o_bias=False)),
    ('llama', dict(qkv_bias=False, o_bias=False, tie_word_embeddings=True)),
])
def test_llm_count_matches_transformers(est, model_type, extra):
    from transformers import AutoModelForCausalLM
    llm = dict(TINY_LLM, **extra)
    model = AutoModelForCausalLM.from_config(hf_config(model_type, llm))
    assert est.llm_params(llm) == numel(model)
    # Added tokens (TPO's video/task tokens) grow the embeddings.
    model.resize_token_embeddings(llm['vocab_size'] + 7)
    assert est.llm_params(dict(llm, added_tokens=7)) == numel(model)


def test_llm_config_json_is_read(est, tmp_path):
    from transformers import AutoModelForCausalLM
    config = hf_config('qwen2', dict(TINY_LLM))
    config.save_pretrained(str(tmp_path))
    llm = est.read_llm_config(str(tmp_path / 'config.json'))
    assert est.llm_params(llm) == numel(
        AutoModelForCausalLM.from_config(config))


def test_published_7b_counts(est):
    mistral = dict(est.ARCHS['videochat2']['llm'], added_tokens=0)
    qwen2 = est.ARCHS['llava_ov']['llm']
    assert est.llm_params(mistral) == 7_241_732_096  # Mistral-7B
    assert est.llm_params(qwen2) == 7_615_616_512  # Qwen2-7B
    # LoRA r16 on the 7 projections of Mistral-7B.
    lora = dict(est.ARCHS['videochat2']['lora'], targets=est.LORA_7)
    assert est.lora_params(mistral, lora) == 41_943_040


@pytest.mark.parametrize('targets', [
    ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj',
     'down_proj'],
    ['q_proj', 'v_proj', 'down_proj', 'lm_head'],
])
def test_lora_and_token_rows_match_peft(est, targets):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    llm = dict(TINY_LLM, qkv_bias=False)
    model = AutoModelForCausalLM.from_config(hf_config('mistral', llm))
    rows = {'embed_tokens': [3, 4, 5]}
    if 'lm_head' not in targets:
        rows['lm_head'] = [3, 4, 5]
    model = get_peft_model(model, LoraConfig(
        r=8, target_modules=targets, trainable_token_indices=rows))
    lora = dict(r=8, targets=targets, dropout=0.0)
    counted = {
        kind: sum(p.numel() for n, p in model.named_parameters()
                  if kind in n)
        for kind in ('lora_', 'trainable_tokens_delta')
    }
    assert est.lora_params(llm, lora) == counted['lora_'] > 0
    assert est.token_row_params(llm, lora, 3) == \
        counted['trainable_tokens_delta'] > 0
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == counted['lora_'] + counted['trainable_tokens_delta']


@pytest.mark.parametrize('qkv_bias', ['qv', 'qkv', 'none'])
def test_vit_count_matches_video_vit(est, qkv_bias):
    from tpo.models.encoders.video_vit import VideoViT
    vit = dict(type='vit', img_size=32, patch_size=8, num_frames=4,
               tubelet_size=2, in_channels=3, dims=48, depth=4,
               out_layer=-2, num_heads=4, mlp_ratio=4.0, qkv_bias=qkv_bias,
               final_norm=True)
    model = VideoViT(img_size=32, patch_size=8, num_frames=4, tubelet_size=2,
                     embed_dims=48, depth=4, num_heads=4, mlp_ratio=4.0,
                     qkv_bias=qkv_bias, out_layer=-2, final_norm=True)
    assert len(model.blocks) == est.vit_blocks(vit) == 3
    assert est.vit_params(vit) == numel(model)


@pytest.mark.parametrize('vision_norm,extra', [(False, 3), (True, 0)])
def test_qformer_count_matches_connector(est, vision_norm, extra):
    from tpo.models.connectors import QFormerConnector
    qf = dict(type='qformer', num_queries=4, num_extra_queries=extra,
              vision_norm=vision_norm, hidden_size=32, num_layers=3,
              num_heads=4, intermediate_size=64, cross_attention_frequency=2,
              vocab_size=50, max_position_embeddings=20)
    model = QFormerConnector(
        vision_dims=40, llm_dims=56, num_queries=4, num_extra_queries=extra,
        vision_norm=vision_norm,
        qformer=dict(hidden_size=32, num_hidden_layers=3,
                     num_attention_heads=4, intermediate_size=64,
                     cross_attention_frequency=2, vocab_size=50,
                     max_position_embeddings=20))
    assert est.qformer_params(qf, 40, 56) == numel(model)


def test_siglip_projector_and_head_counts(est):
    from tpo.models.connectors.mlp_projector import MLPProjector
    from tpo.models.encoders.siglip import SigLIPVisionEncoder
    from tpo.models.heads.region_head import RegionHead
    vision = dict(type='siglip', image_size=28, patch_size=7, dims=48,
                  intermediate_size=80, num_layers=3, feature_layer=-2,
                  num_heads=4, in_channels=3)
    encoder = SigLIPVisionEncoder(
        config=dict(hidden_size=48, intermediate_size=80,
                    num_hidden_layers=3, num_attention_heads=4,
                    image_size=28, patch_size=7),
        feature_layer=-2)
    assert est.siglip_params(vision) == numel(encoder)
    projector = MLPProjector(vision_dims=48, llm_dims=56, frame_grid=4)
    assert est.projector_params(dict(newline=True), 48, 56) == \
        numel(projector)
    head = RegionHead(in_dims=64, hidden_dims=32)
    assert est.region_head_params(64, 32) == numel(head)


def test_report_is_reproducible(est, capsys):
    first = est.main([])
    assert first == est.main([])
    out = capsys.readouterr().out
    assert 'ZeRO-2' in out and 'micro-batch 4 per GPU' in out
    assert 'gradient accumulation 2' in out
    assert '96 visual + 256 text = 352 tokens' in out
    result = est.estimate(est.ARCHS['videochat2'], gpus=32, micro_batch=4,
                          zero=2, flash=True)
    total = result['total']
    # The model videochat_stage3.py builds (benchmark_scale.py --count-only
    # checks each row against it).
    assert total['params'] == 8_035_357_665
    assert total['trainable'] == 569_129_903
    assert 0 < total['act_ckpt'] < total['act']
    # ZeRO-2: float32 gradients, the float32 master partition and AdamW's
    # moments of the trained parameters split over the 32 GPUs; the frozen
    # LLM in bf16, every other weight in float32.
    assert total['optim'] == pytest.approx(12 * total['trainable'] / 32)
    assert total['grads'] == pytest.approx(4 * total['trainable'] / 32)
    llm = next(r for r in result['rows'] if r['name'] == 'LLM (frozen base)')
    assert total['weights'] == 2 * llm['params'] + 4 * (
        total['params'] - llm['params'])
    # two communication dtypes x two buffers x 5e8 float32 elements
    assert result['buffers'] == 2 * 2 * 500_000_000 * 4
    doc = Path(__file__).resolve().parents[1] / 'docs/memory.md'
    if doc.exists():
        assert first in doc.read_text()
