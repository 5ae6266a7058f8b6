"""The recipe's global batch against the run's (processes x batch x
accumulation): one logged line with the numbers, and learning-rate scaling
that counts gradient accumulation (mmengine's own ``auto_scale_lr`` does
not)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from tests.conftest import CONFIGS
from tests.test_engine.test_runner import region_only_cfg
from tpo.engine import build_runner
from tpo.engine.global_batch import fit_global_batch


def recipe(batch_size=4, accumulation=1, global_batch_size=128, lr=2e-5,
           enable=False) -> Config:
    return Config(dict(
        global_batch_size=global_batch_size,
        auto_scale_lr=dict(enable=enable, base_batch_size=global_batch_size),
        train_dataloader=dict(batch_size=batch_size),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=lr),
                           accumulative_counts=accumulation)))


def test_the_recipe_batch_says_nothing():
    cfg = recipe(batch_size=4, accumulation=2, global_batch_size=256)
    batch = fit_global_batch(cfg, processes=32)
    assert batch.actual == 256 and batch.message() is None
    assert cfg.optim_wrapper.optimizer.lr == 2e-5


def test_a_smaller_batch_is_named_with_its_numbers_and_the_fix():
    cfg = recipe(batch_size=4, accumulation=1, global_batch_size=128)
    message = fit_global_batch(cfg, processes=8).message()
    assert message.startswith(
        'Global batch 32 = 8 process(es) x train_dataloader.batch_size 4 x '
        'optim_wrapper.accumulative_counts 1, but this recipe is tuned for '
        'global_batch_size=128.')
    assert 'set optim_wrapper.accumulative_counts=4' in message
    assert 'left as configured' in message
    assert cfg.optim_wrapper.optimizer.lr == 2e-5  # not scaled


def test_auto_scale_counts_accumulation_and_turns_mmengine_off():
    # 4 processes x 4 x accumulation 2 = 32 of stage 3's 256: x 1/8.
    # mmengine would scale by 4 x 4 / 256 = 1/16.
    cfg = recipe(batch_size=4, accumulation=2, global_batch_size=256,
                 enable=True)
    batch = fit_global_batch(cfg, processes=4)
    assert batch.lr_scale == pytest.approx(1 / 8)
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(2e-5 / 8)
    assert cfg.auto_scale_lr.enable is False
    assert 'scaled by 32/256 = 0.125' in batch.message()


def test_auto_scale_needs_a_base_batch():
    cfg = Config(dict(auto_scale_lr=dict(enable=True),
                      train_dataloader=dict(batch_size=2),
                      optim_wrapper=dict(optimizer=dict(lr=1e-3))))
    with pytest.raises(ValueError, match='base_batch_size or global_batch'):
        fit_global_batch(cfg, processes=1)


def test_the_runner_logs_once_and_trains_at_the_scaled_rate(tiny_world,
                                                              tmp_path):
    """Through build_runner: the warning is in the run's log file once and
    the optimizer's groups hold base x lr_mult x (actual / recipe)."""
    cfg = region_only_cfg(tiny_world, str(tmp_path), batch_size=2)
    cfg.global_batch_size = 8
    cfg.auto_scale_lr = dict(enable=True, base_batch_size=8)
    cfg.optim_wrapper.accumulative_counts = 2
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler = None
    base_lr = cfg.optim_wrapper.optimizer.lr
    runner = build_runner(cfg)
    runner.train()
    lrs = sorted({g['lr'] for g in runner.optim_wrapper.param_groups})
    # tiny_iters.py: base and x5 (connector, heads, task tokens); 4/8.
    assert lrs == pytest.approx([base_lr / 2, 5 * base_lr / 2])
    log = glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]
    with open(log) as f:
        text = f.read()
    assert text.count('Global batch 4 = 1 process(es)') == 1
    assert 'scaled by 4/8 = 0.5' in text


# Table 16's total batch of each stage (stage 2: "64/128/128" for the
# temporal / mask / region runs; the joint run at 128).
TABLE16_BATCH = dict(stage1=128, stage2=128, stage2_temporal=64,
                     stage2_mask=128, stage2_region=128,
                     stage3_no_conversation=256, stage3=256)


@pytest.mark.parametrize('model', ['videochat', 'llava_ov'])
@pytest.mark.parametrize('stage', list(TABLE16_BATCH))
def test_every_recipe_states_table16_global_batch(model, stage):
    cfg = Config.fromfile(str(CONFIGS / f'tpo/{model}_{stage}.py'))
    table16 = TABLE16_BATCH[stage]
    assert cfg.global_batch_size == table16
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=table16)
    # The paper's 32 GPUs give it without a warning.
    assert fit_global_batch(cfg, processes=cfg.num_gpus).message() is None
