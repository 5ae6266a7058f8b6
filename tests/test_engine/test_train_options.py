"""Training options at the recipe level, through mmengine's Runner: gradient
accumulation, bf16 autocast, gradient checkpointing, and what stops a run
(a ``paramwise_cfg`` key matching nothing, a non-finite loss)."""
import math

import pytest
import torch
from mmengine.runner import Runner

from tests.conftest import tiny_model_cfg
from tests.test_engine.test_runner import (LOSS_TERMS, read_iterations,
                                           region_only_cfg, stage3_cfg,
                                           trainable_state)
from tests.test_models.test_tpo_model import batch, chat_sample, region_sample
from tpo.engine import build_runner
from tpo.models import TPOModel
from tpo.registry import MODELS

def train(cfg) -> Runner:
    runner = build_runner(cfg)
    runner.train()
    return runner


def two_sample_cfg(world: str, work_dir: str, max_iters: int, **model):
    """The same two referring samples as one batch at every iteration, a
    constant learning rate (the loss can only go down by learning)."""
    cfg = region_only_cfg(world, work_dir, batch_size=2)
    refcoco = cfg.train_dataloader.dataset.datasets[0].dataset.dataset
    refcoco.indices = 2
    cfg.train_dataloader.sampler.shuffle = False
    cfg.train_cfg.update(max_iters=max_iters, val_interval=max_iters)
    cfg.param_scheduler = None
    cfg.model.update(model)
    return cfg


def test_accumulation_matches_the_bigger_batch(tiny_world, tmp_path):
    """``accumulative_counts=2`` x batch 1 (4 iterations, 2 optimizer
    steps) against batch 2 (2 iterations). mmengine divides each
    micro-batch's loss by 2, so the accumulated gradient is the mean of the
    two samples' gradients; on ``region_only_cfg``'s data (one box and
    equally many answer tokens per sample) that is the batch's gradient.
    The learning rate is constant here because the schedulers step once
    per iteration, i.e. per micro-batch."""
    big = region_only_cfg(tiny_world, str(tmp_path / 'big'), batch_size=2)
    big.train_cfg.update(max_iters=2, val_interval=2)
    big.param_scheduler = None
    accumulated = region_only_cfg(tiny_world, str(tmp_path / 'accumulated'),
                                  batch_size=1)
    accumulated.optim_wrapper.accumulative_counts = 2
    accumulated.train_cfg.update(max_iters=4, val_interval=4)
    accumulated.param_scheduler = None
    initial = trainable_state(build_runner(big))
    expected = trainable_state(train(big))
    actual = trainable_state(train(accumulated))

    steps = read_iterations(str(tmp_path / 'big'))
    micro = read_iterations(str(tmp_path / 'accumulated'))
    for k, step in enumerate(steps):
        pair = micro[2 * k:2 * k + 2]
        assert step['samples'] == pair[0]['samples'] + pair[1]['samples']
        for term in LOSS_TERMS:
            mean = (pair[0][term] + pair[1][term]) / 2
            assert mean == pytest.approx(step[term], rel=1e-4), (k, term)
    for name, value in expected.items():
        torch.testing.assert_close(actual[name], value, rtol=1e-4,
                                   atol=1e-5, msg=name)
    name = 'heads.region.mlp.0.weight'
    assert not torch.equal(expected[name], initial[name])


def test_lm_loss_averages_the_answer_tokens_of_the_batch():
    """Why the data above is chosen: on samples of other tasks or answer
    lengths a batch is not the mean of its samples. ``loss_mllm`` averages
    over the batch's answer tokens (a longer answer weighs more) and a
    head's loss over that head's samples, while accumulation and DDP give
    each micro-batch / process the same weight."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    data = batch([region_sample(), chat_sample()])

    def losses(indices):
        part = dict(inputs=[data['inputs'][i] for i in indices],
                    data_samples=[data['data_samples'][i] for i in indices])
        with torch.no_grad():
            out = model(**model.data_preprocessor(part, True), mode='loss')
        return {k: float(v) for k, v in out.items()}

    region, chat, both = losses([0]), losses([1]), losses([0, 1])
    # The region answer has more tokens than the chat answer ('it is
    # red.'): in the batch's LM loss it weighs more than half.
    weight = (both['loss_mllm'] - chat['loss_mllm']) / \
        (region['loss_mllm'] - chat['loss_mllm'])
    assert 0.52 < weight < 1, weight
    # Only the region sample reaches the head: its loss is the batch's
    # (accumulating the two would halve it).
    assert both['region.loss_bbox'] == pytest.approx(
        region['region.loss_bbox'], rel=1e-5)


@pytest.fixture(scope='module')
def fp32_run(tiny_world, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('fp32'))
    runner = train(two_sample_cfg(tiny_world, work_dir, max_iters=4))
    return trainable_state(runner), read_iterations(work_dir)


def test_bf16_autocast_trains(tiny_world, tmp_path, fp32_run):
    """``model.amp_dtype='bfloat16'``: finite losses that go down, close to
    (but not the same as) float32's."""
    work_dir = str(tmp_path)
    train(two_sample_cfg(tiny_world, work_dir, max_iters=4,
                         amp_dtype='bfloat16'))
    bf16, fp32 = read_iterations(work_dir), fp32_run[1]
    losses = [r['loss'] for r in bf16]
    assert all(math.isfinite(v) for r in bf16 for v in r.values()
               if isinstance(v, float))
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    for a, b in zip(bf16, fp32):
        assert a['loss'] == pytest.approx(b['loss'], rel=0.05)
    assert losses != [r['loss'] for r in fp32]  # autocast was on


def test_gradient_checkpointing_gives_the_same_weights(tiny_world, tmp_path,
                                                       fp32_run):
    """``model.gradient_checkpointing=True`` recomputes the LLM's
    activations in the backward pass: the same weights, bit for bit."""
    runner = train(two_sample_cfg(tiny_world, str(tmp_path), max_iters=4,
                                  gradient_checkpointing=True))
    assert runner.model.llm.base_model.model.is_activation_checkpointing
    expected = fp32_run[0]
    actual = trainable_state(runner)
    for name, value in expected.items():
        assert torch.equal(actual[name], value), name


def test_custom_key_matching_nothing_fails_before_training(tiny_world,
                                                           tmp_path):
    cfg = stage3_cfg(tiny_world, str(tmp_path))
    cfg.optim_wrapper.paramwise_cfg.custom_keys['heads.regoin'] = dict(
        lr_mult=2.0)
    runner = build_runner(cfg)
    with pytest.raises(ValueError) as error:
        runner.train()
    message = str(error.value)
    assert 'optim_wrapper.paramwise_cfg.custom_keys' in message
    assert "'heads.regoin' (closest module names: ['heads.region'])" in \
        message
    assert runner.iter == 0


def test_nan_loss_stops_before_the_update(tiny_world, tmp_path, monkeypatch):
    """A NaN in one loss term at iteration 3: the run stops there, naming
    the iteration and the term, with the weights of iteration 2."""
    real_loss = TPOModel.loss

    def loss(self, inputs, data_samples):
        losses = real_loss(self, inputs, data_samples)
        if runner.iter == 2:
            losses['region.loss_bbox'] = losses['region.loss_bbox'] * \
                float('nan')
        return losses

    monkeypatch.setattr(TPOModel, 'loss', loss)
    runner = build_runner(stage3_cfg(tiny_world, str(tmp_path)))
    with pytest.raises(FloatingPointError,
                       match=r"^iteration 3: loss term 'region.loss_bbox' "
                       r'is nan \(loss=nan, loss_mllm=.*--resume'):
        runner.train()
    saved = torch.load(tmp_path / 'iter_2.pth', weights_only=False)
    for name, value in trainable_state(runner).items():
        assert torch.equal(value, saved['state_dict'][name]), name


def test_infinite_loss_term_is_named():
    model = MODELS.build(tiny_model_cfg())
    losses = dict(loss_mllm=torch.tensor(1.0),
                  **{'region.loss_iou': torch.tensor(float('inf'))})
    with pytest.raises(FloatingPointError,
                       match="loss term 'region.loss_iou' is inf"):
        model.parse_losses(losses)
    loss, log_vars = model.parse_losses(dict(loss_mllm=torch.tensor(2.0)))
    assert float(loss) == 2.0 and float(log_vars['loss']) == 2.0
