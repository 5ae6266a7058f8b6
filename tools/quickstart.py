"""The synthetic-world quick start, end to end on CPU.

    python tools/quickstart.py [--work-root work_dirs] [--iters-scale 1.0]

Generates the synthetic world and trains the SAM2 stand-in on its masks
(first use; both cached), trains the tiny base MLLM, then
the TPO stages as the paper does (Table 16): stage 1; stage 2 as three runs
(temporal, mask, region heads), each from stage 1, joined by
``tools/model_converters/combine_stage2_runs.py``; stage 3 in its two parts
(task data, then task + conversation data). It evaluates stage 3 on the
world's test split, scores the trivial baselines on the same split
(``tools/analysis_tools/trivial_baselines.py``) and prints the time of every
step and each metric next to its baselines and target
(``tools/analysis_tools/miniature_table.py``); all of it is also written to
``WORK_ROOT/quickstart_results.json``. Each step's log is in
``WORK_ROOT/<step>.log``.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

# (config, the config whose work dir it starts from); 'tiny_stage2' is the
# three stage-2 runs joined.
CHAIN = (('tiny_mllm_base', None), ('tiny_stage1', 'tiny_mllm_base'),
         ('tiny_stage2_temporal', 'tiny_stage1'),
         ('tiny_stage2_mask', 'tiny_stage1'),
         ('tiny_stage2_region', 'tiny_stage1'),
         ('tiny_stage3_no_conversation', 'tiny_stage2'),
         ('tiny_stage3', 'tiny_stage3_no_conversation'))
STAGE2_RUNS = ('tiny_stage2_temporal', 'tiny_stage2_mask',
               'tiny_stage2_region')
FINAL = CHAIN[-1][0]
CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'configs', 'tpo')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-root', default='work_dirs')
    parser.add_argument(
        '--iters-scale',
        type=float,
        default=1.0,
        help='multiply every stage\'s iterations (e.g. 0.05 for a smoke run)')
    return parser.parse_args(argv)


def scaled(iters: int, scale: float) -> int:
    """``iters`` times ``scale``, at least 2 (a smoke run still steps)."""
    return max(2, int(iters * scale))


def stage_iters(name: str, scale: float) -> int:
    """The iterations a stage runs: its config's, times ``scale``."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    return scaled(cfg.train_cfg.max_iters, scale)


def stage_options(name: str, previous: str, work_root: str,
                  scale: float, sam2: str = None) -> list:
    """--cfg-options of a stage: its checkpoint chain, schedule length and
    the SAM2 stand-in ``sam2`` (frozen, as TPO freezes SAM2)."""
    iters = stage_iters(name, scale)
    # The schedule's warmup and cosine follow train_cfg.max_iters.
    options = [
        f'train_cfg.max_iters={iters}', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None', f'default_hooks.checkpoint.interval={iters}'
    ]
    if previous:
        options.append(f'load_from={osp.join(work_root, previous)}')
    if sam2:
        options.append(f'model.heads.mask.pretrained={sam2}')
    return options


def print_table(header: Sequence[str], rows: Sequence[Sequence]) -> None:
    """A plain-text table on standard output."""
    cells = [list(map(str, header))] + [list(map(str, r)) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    rule = '-+-'.join('-' * w for w in widths)
    for k, row in enumerate(cells):
        print(' | '.join(c.ljust(w) for c, w in zip(row, widths)))
        if k == 0:
            print(rule)


class Stages:
    """Runs the quick start's steps one by one: each step's log goes to
    ``WORK_ROOT/<name>.log``, the terminal shows a line per step, a progress
    bar on standard error while it runs, and its time."""

    def __init__(self, work_root: str, total: int) -> None:
        self.work_root, self.total = work_root, total
        self.minutes: Dict[str, float] = {}

    def run(self, name: str, what: str, fn: Callable, *args, **kwargs):
        from mmengine.logging import MMLogger
        log_file = osp.join(self.work_root, f'{name}.log')
        print(f'[{len(self.minutes) + 1}/{self.total}] {name}: {what} '
              f'(log: {log_file})', flush=True)
        start = time.time()
        os.makedirs(self.work_root, exist_ok=True)
        with open(log_file, 'w') as log, contextlib.redirect_stdout(log):
            # The step's own logger (mmengine's current one) writes there;
            # a runner the step builds makes its own.
            MMLogger.get_instance(f'quickstart_{name}', log_level='INFO')
            result = fn(*args, **kwargs)
        self.minutes[name] = (time.time() - start) / 60
        print(f'    done in {self.minutes[name]:.1f} min', flush=True)
        return result


def train(argv: list) -> None:
    """``tools/train.py ARGV`` with a progress bar over the iterations."""
    import train as train_tool
    from tpo.engine import build_runner
    cfg = train_tool.build_config(train_tool.parse_args(argv))
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='ProgressBarHook', train=True)]
    build_runner(cfg).train()


def main(argv=None) -> dict:
    args = parse_args(argv)
    import test as test_tool
    from mmengine.config import Config

    from analysis_tools.miniature_table import markdown, table_rows
    from analysis_tools.trivial_baselines import trivial_metrics
    from model_converters import combine_stage2_runs
    from tpo.datasets.synthetic import ensure_synthetic_world
    from tpo.engine.sam2_standin import STANDIN_ITERS, ensure_sam2_standin

    start = time.time()
    stages = Stages(args.work_root, len(CHAIN) + 5)
    world_cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{CHAIN[0][0]}.py'))
    stages.run('world', f'the synthetic world in {world_cfg.data_root}',
               ensure_synthetic_world, world_cfg.data_root,
               **world_cfg.world.to_dict())
    sam2 = stages.run(
        'sam2_standin', 'train the SAM2 stand-in on the world\'s masks '
        '(cached)', ensure_sam2_standin,
        osp.join(CONFIG_DIR, f'{CHAIN[0][0]}.py'),
        cache_dir=osp.join(args.work_root, 'standins'),
        iters=scaled(STANDIN_ITERS, args.iters_scale))
    for name, previous in CHAIN:
        if previous == 'tiny_stage2':  # join the three runs first
            stages.run(
                'combine_stage2', 'join the three stage-2 runs',
                combine_stage2_runs.main, [
                    *(osp.join(CONFIG_DIR, f'{run}.py')
                      for run in STAGE2_RUNS), '--checkpoints',
                    *(osp.join(args.work_root, run) for run in STAGE2_RUNS),
                    '--out', osp.join(args.work_root, previous),
                    '--overwrite'])
        options = stage_options(name, previous, args.work_root,
                                args.iters_scale, sam2)
        iters = stage_iters(name, args.iters_scale)
        stages.run(name, f'train {iters} iterations'
                   + (f' from {previous}' if previous else ''), train,
                   [osp.join(CONFIG_DIR, f'{name}.py'), '--work-dir',
                    osp.join(args.work_root, name), '--cfg-options',
                    *options])
    final_config = osp.join(CONFIG_DIR, f'{FINAL}.py')
    metrics = stages.run(
        'test', f'evaluate {FINAL} on the test split', test_tool.main, [
            final_config, osp.join(args.work_root, FINAL), '--work-dir',
            osp.join(args.work_root, 'test'), '--out',
            osp.join(args.work_root, 'test', 'predictions.json'),
            '--cfg-options', f'model.heads.mask.pretrained={sam2}'])
    baselines = stages.run('baselines', 'score the trivial baselines',
                           trivial_metrics, Config.fromfile(final_config))
    rows = table_rows(metrics, baselines)
    results = dict(
        metrics={k: float(v) for k, v in metrics.items()},
        baselines=baselines, rows=rows, stage_minutes=stages.minutes,
        minutes=(time.time() - start) / 60)
    with open(osp.join(args.work_root, 'quickstart_results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    print('\nStage times (minutes):')
    print_table(('step', 'minutes'),
                [(k, f'{v:.1f}') for k, v in stages.minutes.items()] +
                [('total', f"{results['minutes']:.1f}")])
    print(f'\nMetrics of {FINAL} on the synthetic test split:')
    print_table(('metric', 'value'),
                [(k, f'{v:.2f}') for k, v in results['metrics'].items()])
    print('\nTargets (tools/analysis_tools/miniature_table.py):')
    print(markdown(rows))
    print(f"\nResults: {osp.join(args.work_root, 'quickstart_results.json')}")
    return results


if __name__ == '__main__':
    main()
