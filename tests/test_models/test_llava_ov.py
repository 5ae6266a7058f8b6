"""LLaVA-OneVision components: parity with transformers, LoRA, TPOModel."""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests._shared import load_tool
from tpo.models.connectors.mlp_projector import MLPProjector
from tpo.models.encoders.siglip import SigLIPVisionEncoder
from tpo.registry import MODELS
from tpo.structures import TPODataSample

init_default_scope('tpo')
llava_onevision_to_tpo = load_tool(
    'model_converters/llava_onevision_to_tpo.py')
MODELS_DIR = Path(__file__).resolve().parents[2] / 'configs/_base_/models'
TINY = MODELS_DIR / 'llava_ov_tiny.py'
FULL = MODELS_DIR / 'llava_ov_siglip_qwen2_7b.py'

VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=3,
              num_attention_heads=4, patch_size=8, vision_use_head=False)
TEXT = dict(model_type='qwen2', vocab_size=64, hidden_size=48,
            intermediate_size=96, num_hidden_layers=1, num_attention_heads=4,
            num_key_value_heads=2)


def reference_llava_ov(image_size: int, feature_layer):
    from transformers import (LlavaOnevisionConfig,
                              LlavaOnevisionForConditionalGeneration)
    config = LlavaOnevisionConfig(
        vision_config=dict(model_type='siglip_vision_model',
                           image_size=image_size, **VISION),
        text_config=TEXT, vision_feature_layer=feature_layer,
        vision_feature_select_strategy='full')
    torch.manual_seed(0)
    return LlavaOnevisionForConditionalGeneration(config).eval()


# --------------------------------------------------------------- (a) parity
@pytest.mark.parametrize('image_size, feature_layer', [
    (32, -1),       # transformers' converted towers (last layer already cut)
    (40, -2),       # the original so400m tower; odd 5x5 grid -> ceil 3x3
    (32, [-3, -1]),  # several layers concatenated
])
def test_video_tokens_match_transformers(image_size, feature_layer):
    ref = reference_llava_ov(image_size, feature_layer)
    encoder = SigLIPVisionEncoder(
        config=dict(image_size=image_size, **VISION),
        feature_layer=feature_layer).eval()
    kept = max(i % 4 for i in (feature_layer if isinstance(
        feature_layer, list) else [feature_layer]))
    assert len(encoder.vision_tower.encoder.layers) == kept
    assert encoder.grid == (image_size // 8, ) * 2
    assert encoder.embed_dims == 32 * (len(feature_layer) if isinstance(
        feature_layer, list) else 1)
    projector = MLPProjector(encoder.embed_dims, TEXT['hidden_size'],
                             frame_grid=encoder.grid).eval()

    converted = llava_onevision_to_tpo.convert_llava_onevision(
        ref.state_dict()).state_dict
    for prefix, module in (('vision_encoder.', encoder),
                           ('connector.', projector)):
        part = {k[len(prefix):]: v for k, v in converted.items()
                if k.startswith(prefix)}
        result = module.load_state_dict(part, strict=False)
        assert result.missing_keys == []
        # Only tower layers past the feature layer are left over.
        assert all(k.startswith('vision_tower.encoder.layers.')
                   and int(k.split('.')[3]) >= kept
                   for k in result.unexpected_keys)
    assert torch.equal(projector.image_newline, ref.model.image_newline)

    gen = torch.Generator().manual_seed(1)
    video = torch.randn(2, 3, 3, image_size, image_size, generator=gen)
    with torch.no_grad():
        expected = ref.model.get_video_features(
            pixel_values_videos=video, vision_feature_layer=feature_layer,
            vision_feature_select_strategy='full').pooler_output
        ours = projector(encoder(video))
    side = -(-image_size // 8 // 2)
    assert ours.shape == (2, 3 * side * side + 1, TEXT['hidden_size'])
    assert projector.num_output_tokens(3) == ours.shape[1]
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)


def test_bilinear_pooling_and_newline_layouts():
    torch.manual_seed(0)
    proj = MLPProjector(8, 6, frame_grid=4, newline='grid')
    tokens = torch.randn(2, 3 * 16, 8)
    projected = proj.linear_2(proj.act(proj.linear_1(tokens)))
    # Halving an even grid bilinearly (align_corners=False) averages 2x2
    # blocks.
    pooled = F.avg_pool2d(
        projected.view(6, 4, 4, 6).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    nl = proj.image_newline
    out = proj(tokens).view(2, 3, 2, 3, 6)  # (B, T, rows, cols + newline, D)
    torch.testing.assert_close(out[..., :2, :], pooled.reshape(2, 3, 2, 2, 6))
    assert torch.equal(out[..., 2, :], nl.expand(2, 3, 2, 6))

    proj.newline = 'frame'
    out = proj(tokens).view(2, 3, 5, 6)
    torch.testing.assert_close(out[:, :, :4], pooled.reshape(2, 3, 4, 6))
    assert torch.equal(out[:, :, 4], nl.expand(2, 3, 6))
    assert proj.num_output_tokens(3) == 15

    none = MLPProjector(8, 6, frame_grid=(4, 4), newline='none')
    none.load_state_dict(proj.state_dict(), strict=False)
    assert none.image_newline is None
    torch.testing.assert_close(none(tokens), pooled.reshape(2, 12, 6))
    assert none.num_output_tokens(3) == 12
    with pytest.raises(ValueError, match='whole number'):
        none(torch.randn(1, 20, 8))
    with pytest.raises(ValueError, match='frame_grid'):
        MLPProjector(8, 6)(tokens)

    # The original code's average pooling floors odd grids (5x5 -> 2x2).
    avg = MLPProjector(8, 6, frame_grid=5, pool_mode='average',
                       newline='none')
    odd = torch.randn(1, 2 * 25, 8)
    projected = avg.linear_2(avg.act(avg.linear_1(odd)))
    expected = projected.view(2, 5, 5, 6)[:, :4, :4].reshape(
        2, 2, 2, 2, 2, 6).mean((2, 4)).reshape(1, 8, 6)
    torch.testing.assert_close(avg(odd), expected)
    assert avg.num_output_tokens(2) == 8


def test_siglip_encoder_options():
    torch.manual_seed(0)
    encoder = SigLIPVisionEncoder(config=dict(image_size=32, **VISION),
                                  feature_layer=-2)
    # Layers after the feature layer, post_layernorm and head are gone.
    assert len(encoder.vision_tower.encoder.layers) == 2
    assert not any(k.startswith(('vision_tower.post_layernorm',
                                 'vision_tower.head'))
                   for k in encoder.state_dict())
    frames = torch.randn(1, 2, 3, 32, 32)
    plain = encoder(frames)
    encoder.with_cp = True
    checkpointed = encoder.train()(frames)
    torch.testing.assert_close(checkpointed, plain)
    checkpointed.sum().backward()
    assert encoder.vision_tower.encoder.layers[0].mlp.fc1.weight.grad \
        is not None
    with pytest.raises(ValueError, match='built for 32x32'):
        encoder(torch.randn(1, 2, 3, 40, 40))
    with pytest.raises(IndexError, match='out of range'):
        SigLIPVisionEncoder(config=dict(image_size=32, **VISION),
                            feature_layer=-5)


# ---------------------------------------------------------------- (b) LoRA
def test_lora_disabled_equals_plain_llm():
    from peft import LoraConfig, get_peft_model
    cfg = Config.fromfile(str(TINY)).model
    torch.manual_seed(0)
    llm = MODELS.build(cfg.llm.to_dict()).eval()
    assert type(llm).__name__ == 'Qwen2ForCausalLM'
    ids = torch.randint(0, 512, (2, 7),
                        generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        plain = llm(input_ids=ids).logits
    lora = {k: v for k, v in cfg.lora.items() if k != 'modules_to_save'}
    peft_llm = get_peft_model(llm, LoraConfig(task_type='CAUSAL_LM', **lora))
    peft_llm.eval()
    targets = {n.split('.')[-1] for n, m in peft_llm.named_modules()
               if hasattr(m, 'lora_A')}
    assert targets == {'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj',
                       'up_proj', 'down_proj'}
    # Make the adapters matter: B starts at zero.
    with torch.no_grad():
        for name, param in peft_llm.named_parameters():
            if 'lora_B' in name:
                param.normal_(0, 0.05)
        adapted = peft_llm(input_ids=ids).logits
        with peft_llm.disable_adapter():
            disabled = peft_llm(input_ids=ids).logits
    torch.testing.assert_close(disabled, plain, rtol=0, atol=1e-6)
    assert (adapted - plain).abs().max() > 1e-3

    # One adapted projection: base(x) + alpha / r * B A x.
    layer = peft_llm.base_model.model.model.layers[0].self_attn.q_proj
    x = torch.randn(3, 64)
    with torch.no_grad():
        expected = layer.base_layer(x) + 32 / 16 * (
            x @ layer.lora_A['default'].weight.T
            @ layer.lora_B['default'].weight.T)
        torch.testing.assert_close(layer(x), expected)


# ----------------------------------------------------------- (c) TPOModel
def region_sample() -> TPODataSample:
    sample = TPODataSample(metainfo=dict(
        task='region', ori_shape=(32, 32), instruction='watch carefully.',
        conversation=[dict(question='where is the red circle?',
                           answer='it is here <box_begin><boxes>.')]))
    sample.gt_bboxes = torch.tensor([[8., 4., 24., 20.]])
    return sample


def chat_sample() -> TPODataSample:
    return TPODataSample(metainfo=dict(
        task='chat', ori_shape=(32, 32),
        conversation=[dict(question='what color is the circle?',
                           answer='it is red.')]))


@pytest.fixture(scope='module')
def tiny_model():
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(str(TINY)).model.to_dict())


def test_tiny_config_mirrors_full_config():
    tiny, full = (Config.fromfile(str(p)).model for p in (TINY, FULL))
    for key in ('vision_encoder', 'connector', 'llm', 'tokenizer'):
        same = key != 'tokenizer'
        assert (tiny[key].type == full[key].type) == same, key
    assert tiny.heads.region.type == full.heads.region.type == 'RegionHead'
    assert tiny.data_preprocessor == full.data_preprocessor
    assert full.connector.vision_dims == 1152
    assert full.connector.llm_dims == 3584 == full.heads.region.in_dims
    assert full.heads.region.hidden_dims == 1792
    assert full.connector.frame_grid == 384 // 14
    assert full.vision_encoder.pretrained.endswith(
        'checkpoints/siglip-so400m-patch14-384')
    assert (full.lora.r, full.lora.lora_alpha, full.lora.lora_dropout) == \
        (16, 32, 0.1)
    assert full.lora.target_modules == tiny.lora.target_modules
    assert full.prompt_template.system.startswith('<|im_start|>system\n')
    assert full.prompt_template.assistant == \
        '<|im_start|>assistant\n{answer}<|im_end|>\n'
    assert Config.fromfile(str(FULL)).llava_ov_video == dict(
        num_frames=16, img_size=384)


def test_tpo_model_loss_and_gradients(tiny_model):
    model = tiny_model
    model.train()
    frames, size = 4, 32
    gen = torch.Generator().manual_seed(0)
    samples = [region_sample(), chat_sample()]
    inputs = [torch.randint(0, 256, (frames, 3, size, size), generator=gen,
                            dtype=torch.uint8) for _ in samples]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   True)
    # SigLIP normalisation maps 0..255 to -1..1.
    expected = inputs[0].float() / 127.5 - 1
    torch.testing.assert_close(data['inputs'][0], expected)

    visual = model.encode_video(data['inputs'], data['data_samples'])
    assert visual['visual_tokens'].shape == (2, frames * 16, 48)
    assert visual['visual_embeds'].shape == (2, frames * 4 + 1, 64)
    torch.testing.assert_close(visual['visual_embeds'][:, -1],
                               model.connector.image_newline.expand(2, 64))
    batch = model.splicer.training_batch(model.splice_modules(),
                                         visual['visual_embeds'], samples)
    visual_positions = (batch['token_ids'] == -1) & \
        batch['attention_mask'].bool()  # padding is -1 too
    assert (visual_positions.sum(1) ==
            model.connector.num_output_tokens(frames)).all()

    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_mllm', 'loss_assign', 'region.loss_bbox'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    params = dict(model.named_parameters())
    for name in ('connector.linear_1.weight', 'connector.linear_2.weight',
                 'connector.image_newline', 'task_tokens.tokens.region',
                 'heads.region.mlp.0.weight'):
        assert params[name].grad is not None and \
            params[name].grad.abs().sum() > 0, name
    lora_b = [p for n, p in params.items() if 'lora_B' in n]
    assert lora_b and all(p.grad is not None for p in lora_b)
    assert any(p.grad.abs().sum() > 0 for p in lora_b)
    # The SigLIP tower is frozen.
    assert not any(p.requires_grad
                   for p in model.vision_encoder.parameters())
    assert all(p.grad is None for p in model.vision_encoder.parameters())
    model.zero_grad()


def test_tpo_model_predicts_text(tiny_model):
    model = tiny_model.eval()
    sample = region_sample()
    clip = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(3))
    data = model.data_preprocessor(dict(inputs=[clip],
                                        data_samples=[sample]), False)
    out = model(**data, mode='predict')[0]
    assert isinstance(out.pred_text, str)
    assert out.pred_task in ('none', '<box_begin>')
    model.train()


def test_siglip_encoder_loads_a_local_siglip_folder(tmp_path):
    """A saved full SiglipModel (as google/siglip-so400m-patch14-384 ships)
    loads offline; feature_layer=-2 is its second-to-last hidden state."""
    from transformers import SiglipConfig, SiglipModel
    torch.manual_seed(0)
    siglip = SiglipModel(SiglipConfig(
        text_config=dict(vocab_size=50, hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2),
        vision_config=dict(image_size=32, **VISION))).eval()
    siglip.save_pretrained(str(tmp_path))
    encoder = MODELS.build(dict(type='SigLIPVisionEncoder',
                                pretrained=str(tmp_path),
                                feature_layer=-2)).eval()
    frames = torch.randn(1, 2, 3, 32, 32)
    with torch.no_grad():
        expected = siglip.vision_model(
            frames[0], output_hidden_states=True).hidden_states[-2]
        torch.testing.assert_close(encoder(frames)[0],
                                   expected.reshape(-1, 32))


# ------------------------------------------------------- (d) missing files
def test_missing_pretrained_folder_is_a_clear_error(tmp_path):
    missing = str(tmp_path / 'siglip-so400m-patch14-384')
    with pytest.raises(FileNotFoundError) as err:
        MODELS.build(dict(type='SigLIPVisionEncoder', pretrained=missing))
    message = str(err.value)
    assert 'SigLIPVisionEncoder' in message and missing in message
    assert 'config.json' in message
    assert 'google/siglip-so400m-patch14-384' in message


def test_full_config_without_local_files_names_the_component(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = copy.deepcopy(Config.fromfile(str(FULL)).model.to_dict())
    with pytest.raises(FileNotFoundError, match='PretrainedTokenizer'):
        MODELS.build(cfg)
    # With a tokenizer, the vision encoder is the next missing component.
    cfg['tokenizer'] = dict(type='SyntheticWorldTokenizer')
    with pytest.raises(FileNotFoundError,
                       match='SigLIPVisionEncoder.*siglip-so400m'):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='needs `pretrained`'):
        SigLIPVisionEncoder()
