"""CGDETRHead and its CG-DETR network on tiny tensors, alone and in the
model."""
import pytest
import torch

from tests.conftest import tiny_model_cfg
from tests.test_models.temporal_helpers import (IN_DIMS, TINY, VISION_DIMS,
                                                build_head, cgdetr_cfg,
                                                embeddings, mllm_inputs,
                                                temporal_sample)
from tpo.registry import MODELS


def test_cgdetr_keys_follow_the_official_names():
    head = build_head(cgdetr_cfg())
    keys = set(head.state_dict())
    for key in ('cg_model.input_vid_proj.0.LayerNorm.weight',
                'cg_model.input_txt_proj.1.net.1.weight',
                'cg_model.transformer.t2v_encoder.layers.0.self_attn.'
                'out_proj.weight',
                'cg_model.transformer.decoder.layers.0.ca_qpos_proj.weight',
                'cg_model.transformer.decoder.layers.1.sa_qpos_proj.weight',
                'cg_model.transformer.encoder.layers.0.activation.weight',
                'cg_model.transformer.mcls_encoder.layers.0.self_attn.'
                'in_proj_weight', 'cg_model.txtproj_encoder.layers.0.'
                'linear1.weight', 'cg_model.scls_encoder.layers.0.norm2.bias',
                'cg_model.dummy_rep_token', 'cg_model.global_rep_pos',
                'cg_model.span_embed.layers.2.bias', 'project_down.weight'):
        assert key in keys
    # as the release: only the first decoder layer has ca_qpos_proj, the
    # T2V attention has no input projection
    assert 'cg_model.transformer.decoder.layers.1.ca_qpos_proj.weight' \
        not in keys
    assert not any('t2v_encoder.layers.0.self_attn.in_proj' in k
                   for k in keys)
    # TEF: 2 extra clip channels
    assert head.cg_model.input_vid_proj[0].LayerNorm.weight.shape == (
        VISION_DIMS + 2, )


def test_cgdetr_head_defaults_are_official():
    head = MODELS.build(
        dict(type='CGDETRHead', in_dims=IN_DIMS, vision_dims=VISION_DIMS))
    net = head.cg_model
    assert net.dims == 256 and net.num_queries == 10
    assert net.num_dummies == 45 and len(net.global_rep_token) == 10
    assert len(net.transformer.encoder.layers) == 3
    assert len(net.transformer.decoder.layers) == 3
    assert len(net.transformer.t2v_encoder.layers) == 2
    assert len(net.txtproj_encoder.layers) == 2
    assert len(net.scls_encoder.layers) == 1
    assert len(net.transformer.mcls_encoder.layers) == 1
    assert head.loss_span.loss_weight == 10 and head.loss_giou.loss_weight == 1
    assert head.loss_label.loss_weight == 4
    assert head.loss_saliency.loss_weight == 4
    with pytest.raises(ValueError, match='vision_dims'):
        MODELS.build(dict(type='CGDETRHead', in_dims=IN_DIMS))


def test_cgdetr_without_gt_span_losses_are_zero():
    head = build_head(cgdetr_cfg())
    samples = [temporal_sample(windows=(), vid='a'),
               temporal_sample(windows=(), vid='b')]
    losses = head.loss(embeddings(2), mllm_inputs(2), samples)
    for key, value in losses.items():
        assert torch.isfinite(value), key
        if key.endswith(('loss_span', 'loss_giou')):
            assert value == 0, key
    assert 'd0.loss_span' in losses


def test_cgdetr_with_one_gt_every_loss_is_positive_and_grads_flow():
    head = build_head(cgdetr_cfg())
    samples = [temporal_sample(windows=((2., 5.), ), vid='a'),
               temporal_sample(windows=((0., 3.), ), vid='b')]
    emb = embeddings(2)
    losses = head.loss(emb, mllm_inputs(2), samples)
    assert set(losses) == {
        'loss_span', 'loss_giou', 'loss_label', 'd0.loss_span',
        'd0.loss_giou', 'd0.loss_label', 'loss_saliency', 'loss_ms_align',
        'loss_distill', 'loss_orthogonal_dummy'
    }
    for key, value in losses.items():
        assert value > 0, key
    sum(losses.values()).backward()
    assert all(e.grad is not None and e.grad.abs().sum() > 0 for e in emb)
    assert head.cg_model.query_embed.weight.grad.abs().sum() > 0


def test_cgdetr_predict_windows_and_saliency():
    head = build_head(cgdetr_cfg(window_round=None)).eval()
    samples = [temporal_sample(duration=8.), temporal_sample(duration=10.),
               temporal_sample(duration=8.)]
    emb = [e.detach() for e in embeddings(2)] + [torch.zeros(0, IN_DIMS)]
    head.predict(emb, mllm_inputs(3), samples)
    for sample in samples[:2]:
        windows, duration = sample.pred_windows, sample.duration
        assert windows.shape == (TINY['transformer']['num_queries'], 3)
        assert (windows[:, 0] >= 0).all()
        assert (windows[:, 1] <= duration).all()
        assert (windows[:, 0] <= windows[:, 1]).all()
        assert (windows[:, 2] >= 0).all() and (windows[:, 2] <= 1).all()
        assert (windows[:-1, 2] >= windows[1:, 2]).all()  # best first
    # 4 clips of 2 s -> 4 scores; 4 clips of 2.5 s -> 5 scores of 2 s
    assert samples[0].pred_saliency.shape == (4, )
    assert samples[1].pred_saliency.shape == (5, )
    # no task token called: no window, zero saliency
    assert samples[2].pred_windows.shape == (0, 3)
    assert (samples[2].pred_saliency == 0).all()
    # the same sample alone gives the same windows (padding-independent)
    alone = temporal_sample(duration=8.)
    inputs = {k: v[:1] for k, v in mllm_inputs(3).items()}
    head.predict(emb[:1], inputs, [alone])
    assert torch.allclose(alone.pred_windows, samples[0].pred_windows,
                          atol=1e-5)
    # rounding to clip multiples (CG-DETR's round_multiple)
    head.window_round = 2.0
    head.predict(emb[:1], inputs, [alone])
    assert torch.equal(alone.pred_windows[:, :2] % 2,
                       torch.zeros_like(alone.pred_windows[:, :2]))


# ---------------------------------------------------------------- TPOModel
def _model_sample(windows=((2., 5.), ), vid='v0'):
    sample = temporal_sample(windows=windows, vid=vid, ori_shape=(32, 32),
                             conversation=[dict(
                                 question='when does the red circle move?',
                                 answer='it moves here <time_begin><temp>.')])
    return sample


def _model_batch(samples):
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (4, 3, 32, 32), generator=gen,
                            dtype=torch.uint8) for _ in samples]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('head_type', ['CGDETRHead', 'MLPTemporalHead'])
def test_tpo_model_trains_lora_through_the_temporal_head(head_type):
    torch.manual_seed(0)
    # vision_dims is filled in by the model (the tiny encoder's 48)
    temporal = cgdetr_cfg() if head_type == 'CGDETRHead' else dict(
        type='MLPTemporalHead')
    temporal.pop('vision_dims', None)
    model = MODELS.build(tiny_model_cfg(heads=dict(
        region=dict(type='RegionHead', hidden_dims=32),
        temporal=temporal)))
    samples = [_model_sample(vid='a'), _model_sample(((0., 3.), ), 'b')]
    data = model.data_preprocessor(_model_batch(samples), True)
    losses = model(**data, mode='loss')
    temporal_losses = {k: v for k, v in losses.items()
                       if k.startswith('temporal.')}
    assert 'temporal.loss_span' in temporal_losses
    assert all(torch.isfinite(v) for v in losses.values())
    # the head's losses alone reach the LoRA weights and the task token
    sum(temporal_losses.values()).backward()
    grads = {n: p.grad for n, p in model.named_parameters()
             if p.requires_grad}
    lora = [g for n, g in grads.items() if 'lora_' in n]
    assert lora and any(g is not None and g.abs().sum() > 0 for g in lora)
    assert grads['task_tokens.tokens.temporal'].abs().sum() > 0
