"""tools/analysis_tools/benchmark_scale.py: the 7B recipes built with empty
weights match the memory estimate's parameter counts exactly; training,
the activation probe and the head-vs-text timing run at tiny shape on the
CPU; the FLOP formula matches PyTorch's FLOP counter on a real step."""
import sys

import pytest
import torch

from tests.conftest import CONFIGS

sys.path.insert(0, str(CONFIGS.parent / 'tools' / 'analysis_tools'))
import benchmark_scale  # noqa: E402
import estimate_memory  # noqa: E402
import scale_model  # noqa: E402

TINY = str(CONFIGS / 'tpo/tiny_stage3.py')
# videochat_stage3.py at a width a CPU runs in bf16 autocast in seconds:
# every class, LoRA target and head of the recipe, smaller numbers.
SMALL_VIDEOCHAT = [
    'model.llm.config.hidden_size=256',
    'model.llm.config.intermediate_size=896',
    'model.llm.config.num_hidden_layers=2',
    'model.llm.config.num_attention_heads=4',
    'model.llm.config.num_key_value_heads=1',
    'model.llm.config.vocab_size=3000', 'model.tokenizer.size=3000',
    'model.vision_encoder.img_size=64', 'model.vision_encoder.embed_dims=128',
    'model.vision_encoder.depth=3', 'model.vision_encoder.num_heads=2',
    'model.vision_encoder.pos_ckpt_size=None',
    'model.connector.qformer.hidden_size=128',
    'model.connector.qformer.num_attention_heads=2',
    'model.connector.qformer.intermediate_size=512',
    'model.connector.qformer.num_hidden_layers=2',
    'model.heads.region.in_dims=256', 'model.heads.region.hidden_dims=64',
    'model.heads.mask.model_cfg=configs/sam2.1/sam2.1_hiera_t.yaml',
    'model.heads.mask.image_size=64',
    'model.heads.temporal.transformer.type=CGDETR',
    'model.heads.temporal.transformer.dims=32',
    'model.box_prompt_encoder.hidden_dims=64',
    'model.gradient_checkpointing=False'
]


@pytest.mark.parametrize('config,arch', [('videochat_stage3.py', 'videochat2'),
                                         ('llava_ov_stage3.py', 'llava_ov')])
def test_7b_counts_match_the_estimate(config, arch):
    result = benchmark_scale.main(
        [str(CONFIGS / 'tpo' / config), '--random-weights', '--count-only'])
    rows = {r['name']: r for r in result['params']}
    for row in rows.values():
        assert (row['built'], row['built_trainable']) == \
            (row['estimate'], row['estimate_trainable']), row['name']
    # ... and the estimate's table of the paper's models is that model
    table = estimate_memory.count_params(estimate_memory.ARCHS[arch])
    assert {r['name']: (r['params'], r['trainable']) for r in table} == {
        n: (r['built'], r['built_trainable']) for n, r in rows.items()}
    total = sum(r['built'] for r in rows.values())
    assert total == {'videochat2': 8_035_357_665,
                     'llava_ov': 8_337_592_961}[arch]
    # the frozen base LLM (bf16) dominates; it gets no weight gradient
    terms = result['flops_terms']
    assert terms['LLM (frozen base)'] > terms['LoRA'] > 0
    assert result['flops_per_sample'] > 1e13


def test_random_weights_read_no_file():
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS / 'tpo/videochat_stage3.py'))
    scale_model.random_weights(cfg)
    cfg.pretty_text  # a config the Runner can dump
    model = Config(dict(model=cfg.model)).pretty_text
    assert 'checkpoints/' not in model and cfg.load_from is None
    llm = scale_model.PUBLISHED['Mistral-7B-Instruct-v0.2']['llm']
    assert cfg.model.llm.config.to_dict() == llm
    from tpo.registry import TOKENIZERS
    tokenizer = TOKENIZERS.build(cfg.model.connector_tokenizer)
    # BERT's 30522 tokens + [DEC] (the Q-Former's 30523 word embeddings)
    assert len(tokenizer) == 30523 and tokenizer.bos_token == '[DEC]'
    assert tokenizer.truncation_side == 'left'
    mistral = scale_model.stand_in_tokenizer(
        **scale_model.PUBLISHED['Mistral-7B-Instruct-v0.2']['tokenizer'])
    assert len(mistral) == 32000
    ids = mistral('[0.12,0.34]', add_special_tokens=False)['input_ids']
    assert mistral.decode(ids).replace(' ', '') == '[0.12,0.34]'


def test_random_weights_prefer_a_local_config_json(tmp_path):
    import json

    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS / 'tpo/llava_ov_stage3.py'))
    llm = dict(scale_model.PUBLISHED['Qwen2-7B-Instruct']['llm'],
               num_hidden_layers=2)
    folder = tmp_path / 'Qwen2-7B-Instruct'
    folder.mkdir()
    (folder / 'config.json').write_text(json.dumps(dict(
        llm, architectures=['Qwen2ForCausalLM'], torch_dtype='bfloat16',
        _name_or_path='x')))
    vision = tmp_path / 'siglip'
    vision.mkdir()
    (vision / 'config.json').write_text(json.dumps(dict(
        model_type='siglip', vision_config=dict(
            model_type='siglip_vision_model', hidden_size=64,
            num_hidden_layers=2, transformers_version='5'))))
    cfg.model.llm.pretrained = str(folder)
    cfg.model.vision_encoder.pretrained = str(vision)
    scale_model.random_weights(cfg)
    assert cfg.model.llm.config.to_dict() == llm
    assert cfg.model.vision_encoder.config.to_dict() == dict(
        hidden_size=64, num_hidden_layers=2)


def test_tiny_training_run_on_cpu():
    result = benchmark_scale.main([
        TINY, '--steps', '2', '--warmup', '1', '--micro-batch', '2',
        '--text-len', '48', '--instruction-len', '8', '--device', 'cpu'])
    # one sample per head of tiny_stage3.py (region, temporal, mask), cut
    # to the micro-batch
    assert result['steps'] == 2 and result['setting']['tasks'] == [
        'region', 'temporal']
    assert result['samples_per_s'] == pytest.approx(
        2 / result['step_seconds'])
    # 16 visual tokens + 48 text tokens per sample
    assert result['seq_len'] == 64
    assert result['tokens_per_s'] == pytest.approx(
        64 * result['samples_per_s'])
    # the state the optimizer holds is what the estimate says: float32
    # weights, AdamW's two moments (+ a step counter per tensor)
    held = result['static_bytes']
    rows = result['params']
    params = sum(r['built'] for r in rows)
    trainable = sum(r['built_trainable'] for r in rows)
    assert held['weights'] == 4 * params
    assert 8 * trainable <= held['optimizer'] < 8 * trainable * 1.01
    assert result['flops_per_sample'] > 0 and result['mfu'] is None


def test_flop_formula_matches_the_flop_counter():
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    # region + chat: the formula leaves out the task heads, and CG-DETR
    # (a temporal sample) costs more than the tolerance at this tiny width
    args = benchmark_scale.parse_args(
        [TINY, '--micro-batch', '2', '--text-len', '48', '--tasks',
         'region', 'chat'])
    cfg = benchmark_scale.load_config(args)
    model = scale_model.build_model(benchmark_scale.plain(cfg.model))
    model.train()
    run = benchmark_scale.setting(args, cfg, model)
    desc = benchmark_scale.describe_model(model, run, cfg, 1)
    samples = scale_model.synthetic_samples(
        model, run['tasks'], run['frames'], run['side'], run['text_len'],
        run['instruction_len'])
    data = model.data_preprocessor(dict(
        inputs=[s['inputs'] for s in samples],
        data_samples=[s['data_samples'] for s in samples]), True)
    counter = FlopCounterMode(display=False)
    # the math kernel: attention as matmuls the counter sees on a CPU
    with counter, sdpa_kernel(SDPBackend.MATH):
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        loss.backward()
    formula = sum(desc['flops']['terms'].values())
    # the formula leaves out the region head's (tiny) MLP
    assert formula == pytest.approx(counter.get_total_flops(), rel=1e-3)


def test_activation_probe_matches_the_estimate():
    result = benchmark_scale.main([
        str(CONFIGS / 'tpo/videochat_stage3.py'), '--random-weights',
        '--probe-activations', '--micro-batch', '2', '--text-len', '64',
        '--instruction-len', '8', '--frames', '8', '--tasks', 'region',
        'chat', '--device', 'cpu', '--cfg-options'] + SMALL_VIDEOCHAT)
    for name in ('vision encoder', 'connector', 'LLM', 'weight copies'):
        measured, estimate = result['measured'][name], \
            result['estimate'][name]
        assert estimate == pytest.approx(measured, rel=0.02), name


def test_head_and_text_paths_at_tiny_shape():
    pytest.importorskip('sam2')
    torch.manual_seed(0)
    result = benchmark_scale.main([
        str(CONFIGS / 'tpo/tiny_stage3.py'), '--infer', '--repeats', '1',
        '--warmup', '0', '--device', 'cpu'])
    paths = result['paths']
    assert set(paths) == {'box', 'window', '4-frame track'}
    assert paths['box']['text'] == '[0.20,0.25,0.60,0.70]'
    assert paths['window']['text'] == '[8.0,16.0]'
    # one box per frame, written out
    assert paths['4-frame track']['text'].count('[') == 4
    assert paths['4-frame track']['head'] == 'SAM2MaskHead'
    for timing in paths.values():
        assert timing['head_ms'] > 0 and timing['text_ms'] > 0
        assert timing['text_tokens'] > 1
    assert result['first_token']['median_ms'] > 0
