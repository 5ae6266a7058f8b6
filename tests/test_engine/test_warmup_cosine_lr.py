"""WarmupCosineLR: the schedule of every stage config, its run length
taken from the train loop."""
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR
from mmengine.runner import Runner

from tests.test_engine.toy_runner import ROOT, toy_config
from tpo.engine.schedulers import WarmupCosineLR
from tpo.registry import PARAM_SCHEDULERS

SCHEDULES = ROOT / 'configs' / '_base_' / 'schedules'


def make_optimizer() -> torch.optim.Optimizer:
    """Two groups at different rates, as the per-module lr_mult makes."""
    return torch.optim.AdamW([
        dict(params=[torch.nn.Parameter(torch.zeros(1))], lr=5e-4),
        dict(params=[torch.nn.Parameter(torch.zeros(1))], lr=2.5e-3)
    ])


def lrs_of(schedulers, optimizer, steps: int) -> list:
    """The rates of each group at every step, as ParamSchedulerHook steps
    them (after each optimizer step)."""
    lrs = []
    for _ in range(steps):
        lrs.append([g['lr'] for g in optimizer.param_groups])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def linear_then_cosine(optimizer, warmup: int, end: int,
                       eta_min_ratio: float) -> list:
    """The schedule the stage configs used before WarmupCosineLR."""
    return [
        LinearLR(optimizer, start_factor=1e-3, by_epoch=False, begin=0,
                 end=warmup),
        CosineAnnealingLR(optimizer, by_epoch=False, begin=warmup, end=end,
                          eta_min_ratio=eta_min_ratio)
    ]


@pytest.mark.parametrize('max_iters', [50, 300])
def test_tiny_schedule_equals_linear_then_cosine(max_iters):
    schedule = Config.fromfile(str(SCHEDULES / 'tiny_adamw.py'))
    cfg = dict(schedule.param_scheduler.to_dict(), end=max_iters)
    new_optimizer, old_optimizer = make_optimizer(), make_optimizer()
    new = [PARAM_SCHEDULERS.build(cfg, default_args=dict(
        optimizer=new_optimizer))]
    old = linear_then_cosine(old_optimizer, int(0.2 * max_iters), max_iters,
                             eta_min_ratio=0.01)
    new_lrs = lrs_of(new, new_optimizer, max_iters)
    old_lrs = lrs_of(old, old_optimizer, max_iters)
    np.testing.assert_allclose(new_lrs, old_lrs, rtol=1e-12, atol=0)
    # the curve itself: 0.1 % of the rate, the full rate at the end of the
    # warmup, 1 % of it approached at the end
    first, peak, last = new_lrs[0], new_lrs[int(0.2 * max_iters)], \
        new_lrs[-1]
    assert first == pytest.approx([5e-7, 2.5e-6])
    assert peak == pytest.approx([5e-4, 2.5e-3])
    assert 5e-6 < last[0] < 5e-6 * 1.2


def test_epoch_based_schedule_equals_converted_linear_then_cosine():
    """The 7B schedules: epochs converted to iterations of the loader, the
    old warmup ending at round(0.2 * epochs) epochs."""
    schedule = Config.fromfile(str(SCHEDULES / 'tpo_adamw_bf16.py'))
    epochs, epoch_length = 3, 37
    new_optimizer, old_optimizer = make_optimizer(), make_optimizer()
    args = dict(epoch_length=epoch_length)
    new = [PARAM_SCHEDULERS.build(
        dict(schedule.param_scheduler.to_dict(), end=epochs),
        default_args=dict(args, optimizer=new_optimizer))]
    warmup = round(0.2 * epochs, 6)
    old = [
        PARAM_SCHEDULERS.build(
            dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
                 end=warmup, convert_to_iter_based=True),
            default_args=dict(args, optimizer=old_optimizer)),
        PARAM_SCHEDULERS.build(
            dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
                 begin=warmup, end=epochs, convert_to_iter_based=True),
            default_args=dict(args, optimizer=old_optimizer))
    ]
    steps = epochs * epoch_length
    np.testing.assert_allclose(lrs_of(new, new_optimizer, steps),
                               lrs_of(old, old_optimizer, steps), rtol=1e-12,
                               atol=0)


def runner_schedule(schedule: Config, tmp_path) -> WarmupCosineLR:
    """The scheduler a Runner builds from ``schedule``'s param_scheduler
    and train_cfg.max_iters (mmengine fills in the missing ``end``)."""
    cfg = toy_config(tmp_path, max_iters=schedule.train_cfg.max_iters)
    cfg.param_scheduler = schedule.param_scheduler
    runner = Runner.from_cfg(cfg)
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    (scheduler, ) = runner.build_param_scheduler(cfg.param_scheduler)
    return scheduler


def test_a_child_schedule_that_sets_only_its_length_warms_up_for_a_fifth(
        tmp_path):
    # tiny_stage2_temporal.py only shortens tiny_stage2.py
    child = Config.fromfile(str(SCHEDULES / 'tiny_stage2_temporal.py'))
    parent = Config.fromfile(str(SCHEDULES / 'tiny_stage2.py'))
    length = child.train_cfg.max_iters
    assert length < parent.train_cfg.max_iters and length % 5 == 0
    assert 'end' not in child.param_scheduler
    scheduler = runner_schedule(child, tmp_path)
    assert (scheduler.begin, scheduler.end) == (0, length)
    warmup = length // 5
    assert scheduler.warmup_steps == warmup
    lrs = [lr for lr, in lrs_of([scheduler], scheduler.optimizer, length)]
    # the toy's SGD rate, 0.1: 0.1 % of it first, all of it at the warmup's
    # last step and the cosine's first, then decaying
    assert lrs[0] == pytest.approx(1e-4)
    assert lrs.index(max(lrs)) == warmup - 1
    assert lrs[warmup - 2] < lrs[warmup - 1] == pytest.approx(0.1) == \
        lrs[warmup]
    assert lrs[warmup + 1] < lrs[warmup]


def test_quickstart_scales_the_schedule_with_max_iters_alone(tmp_path):
    sys.path.insert(0, str(ROOT / 'tools'))
    from quickstart import stage_options
    options = stage_options('tiny_stage2_temporal', '', str(tmp_path), 0.2)
    cfg = Config.fromfile(str(ROOT / 'configs/tpo/tiny_stage2_temporal.py'))
    length = int(cfg.train_cfg.max_iters * 0.2)
    parsed = {}
    for option in options:
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(parsed)
    assert cfg.train_cfg.max_iters == length
    scheduler = runner_schedule(cfg, tmp_path)
    assert (scheduler.end, scheduler.warmup_steps) == (length, length // 5)


def test_a_scheduler_without_a_run_length_is_refused():
    with pytest.raises(ValueError, match='train_cfg.max_iters'):
        WarmupCosineLR(make_optimizer(), by_epoch=False)
    with pytest.raises(ValueError, match='warmup_ratio'):
        WarmupCosineLR(make_optimizer(), warmup_ratio=1.0, end=10)
