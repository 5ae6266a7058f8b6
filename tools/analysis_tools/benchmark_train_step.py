"""Train-step cost of the mmengine Runner against a hand-written PyTorch loop.

``python tools/analysis_tools/benchmark_train_step.py [CONFIG] [options]``

Both loops train a fresh model of ``CONFIG`` (default: the tiny stage-3
recipe) on the same batches: samples are read through the config's train
pipeline once, before timing, and both loops draw them from the same
in-memory ``DataLoader`` (same order, ``pseudo_collate``). Both use the
optimizer that ``TPOOptimWrapperConstructor`` builds from the config (its
merged parameter groups), the config's gradient clipping and learning-rate
schedulers, and the model's data preprocessor.

* Runner: ``Runner.from_cfg(cfg).train()`` with every hook of the config
  (timer, logger, scheduler, checkpoint, sampler seed, safetensors copy,
  skipped samples).
* Hand-written: ``data_preprocessor -> forward(mode='loss') ->
  parse_losses -> backward -> clip -> step -> zero_grad -> scheduler
  steps``.

The time of one iteration is the time between the starts of two
consecutive iterations (data fetch and every hook included); the first
``--warmup`` iterations and the last one (the final checkpoint) are left
out. Each loop runs ``--repeats`` times, alternating which goes first; the
median iteration time of the fastest repeat of each is reported with their
ratio (Runner / hand-written), for wall-clock time and for the CPU time of
the process (single-threaded, the CPU time is what a busy machine disturbs
least).
"""
import argparse
import gc
import os.path as osp
import random
import statistics
import tempfile
import time
from typing import List, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from torch.utils.data import DataLoader

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', nargs='?',
        default=osp.join(ROOT, 'configs/tpo/tiny_stage3.py'),
        help='train config (default: configs/tpo/tiny_stage3.py)')
    parser.add_argument('--iters', type=int, default=20,
                        help='timed iterations per repeat')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations first')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=None,
                        help="default: the config's train batch size")
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def now() -> Tuple[float, float]:
    """Wall-clock time and the CPU time of this process."""
    return time.perf_counter(), time.process_time()


class IterationClock(Hook):
    """Record the start time of every training iteration."""

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self.starts: List[Tuple[float, float]] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.starts.append(now())


def median_iteration(starts: List[Tuple[float, float]], warmup: int,
                     iters: int) -> Tuple[float, float]:
    """Median wall-clock and CPU time of iterations ``warmup .. warmup +
    iters - 1`` (the median is robust to the spikes of other processes on a
    shared machine)."""
    timed = starts[warmup:warmup + iters + 1]
    return tuple(
        statistics.median(b[i] - a[i] for a, b in zip(timed, timed[1:]))
        for i in (0, 1))


def load_samples(cfg: Config, count: int, seed: int) -> list:
    """``count`` training samples through the config's pipeline, in a
    random order of the whole training set."""
    from tpo.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    order = random.Random(seed).sample(range(len(dataset)), count)
    return [dataset[i] for i in order]


def make_loader(samples: list, batch_size: int) -> DataLoader:
    return DataLoader(samples, batch_size=batch_size, shuffle=False,
                      num_workers=0, collate_fn=pseudo_collate)


def run_runner(cfg: Config, loader: DataLoader, num_iters: int,
               work_dir: str) -> List[Tuple[float, float]]:
    from mmengine.runner import Runner
    cfg = cfg.copy()
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=num_iters,
                         val_interval=num_iters + 1)
    clock = IterationClock()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(clock)
    # The in-memory loader in place of the config's (Runner accepts one).
    runner._train_dataloader = loader
    runner.train()
    return clock.starts


def run_hand_written(cfg: Config, loader: DataLoader,
                     num_iters: int) -> List[Tuple[float, float]]:
    from mmengine.registry import PARAM_SCHEDULERS
    from mmengine.runner import set_random_seed
    from tpo.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    set_random_seed(cfg.randomness.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()  # as the Runner does before training
    optim_cfg = cfg.optim_wrapper.to_dict()
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'),
             paramwise_cfg=optim_cfg.pop('paramwise_cfg', None),
             optim_wrapper_cfg=optim_cfg))(model)
    optimizer = wrapper.optimizer  # the torch optimizer, no wrapper
    scheduler_cfgs = cfg.get('param_scheduler') or []
    if isinstance(scheduler_cfgs, dict):
        scheduler_cfgs = [scheduler_cfgs]
    # As the Runner: a scheduler without an `end` runs to the last iteration.
    schedulers = [
        PARAM_SCHEDULERS.build(dict({'end': num_iters}, **s,
                                    optimizer=optimizer))
        for s in scheduler_cfgs
    ]
    clip = (cfg.optim_wrapper.get('clip_grad') or {}).get('max_norm')
    params = [p for g in optimizer.param_groups for p in g['params']]
    model.train()
    starts = []
    batches = iter(loader)
    for _ in range(num_iters):
        starts.append(now())
        data = model.data_preprocessor(next(batches), True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        optimizer.zero_grad()
        for scheduler in schedulers:
            scheduler.step()
    return starts


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(args.config)
    init_default_scope('tpo')
    cfg.load_from, cfg.resume = None, False
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.randomness = dict(seed=args.seed, deterministic=False)
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    # +1: the start of the iteration after the last timed one.
    num_iters = args.warmup + args.iters + 1
    samples = load_samples(cfg, num_iters * batch_size, args.seed)
    times = dict(runner=[], hand_written=[])
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            # Alternate which loop goes first.
            for name in (('hand_written', 'runner') if repeat % 2 == 0 else
                         ('runner', 'hand_written')):
                gc.collect()
                loader = make_loader(samples, batch_size)
                starts = run_hand_written(cfg, loader, num_iters) \
                    if name == 'hand_written' else run_runner(
                        cfg, loader, num_iters, osp.join(tmp, str(repeat)))
                times[name].append(
                    median_iteration(starts, args.warmup, args.iters))
    print(f'config: {args.config}, batch size {batch_size}, '
          f'{args.iters} timed iterations after {args.warmup}, '
          f'{args.repeats} repeats, torch threads {torch.get_num_threads()}')
    result = {}
    for i, clock in enumerate(('wall-clock', 'CPU')):
        best = {k: min(t[i] for t in v) for k, v in times.items()}
        for name, values in times.items():
            print(f'{clock:>10} {name:>12}: {best[name] * 1e3:.1f} '
                  'ms/iteration (repeats: '
                  f"{', '.join(f'{t[i] * 1e3:.1f}' for t in values)})")
        ratio = best['runner'] / best['hand_written']
        print(f'{clock:>10} ratio runner / hand-written: {ratio:.3f}')
        result[clock] = dict(best, ratio=ratio)
    return result


if __name__ == '__main__':
    main()
