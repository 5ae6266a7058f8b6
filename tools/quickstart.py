"""The synthetic-world quick start, end to end on CPU.

    python tools/quickstart.py [--work-root work_dirs] [--iters-scale 1.0]

Generates the synthetic world (first use), trains the tiny base MLLM, then
the TPO stages as the paper does (Table 16): stage 1; stage 2 as three runs
(temporal, mask, region heads), each from stage 1, joined by
``tools/model_converters/combine_stage2_runs.py``; stage 3 in its two parts
(task data, then task + conversation data). It evaluates stage 3 on the
world's test split, computes the mean-box baseline, and prints a metric
table (also written to ``WORK_ROOT/quickstart_results.json``).
"""
import argparse
import json
import os.path as osp
import sys
import time

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


def stage_options(name: str, previous: str, work_root: str,
                  scale: float) -> list:
    """--cfg-options of a stage: its checkpoint chain and schedule length."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    iters = max(2, int(cfg.train_cfg.max_iters * scale))
    warmup = max(1, int(0.2 * iters))
    options = [
        f'train_cfg.max_iters={iters}', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None',
        f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
        f'param_scheduler.1.end={iters}',
        f'default_hooks.checkpoint.interval={iters}'
    ]
    if previous:
        options.append(f'load_from={osp.join(work_root, previous)}')
    return options


def print_table(rows: list) -> None:
    width = max(len(r[0]) for r in rows)
    print('\n' + '-' * (width + 12))
    for name, value in rows:
        print(f'{name:<{width}}  {value:>8.2f}')
    print('-' * (width + 12))


def main(argv=None) -> dict:
    args = parse_args(argv)
    import test as test_tool
    import train as train_tool
    from analysis_tools import mean_box_baseline
    from model_converters import combine_stage2_runs

    start = time.time()
    for name, previous in CHAIN:
        if previous == 'tiny_stage2':  # join the three runs first
            combine_stage2_runs.main([
                *(osp.join(CONFIG_DIR, f'{run}.py') for run in STAGE2_RUNS),
                '--checkpoints',
                *(osp.join(args.work_root, run) for run in STAGE2_RUNS),
                '--out', osp.join(args.work_root, previous), '--overwrite'])
        train_tool.main([
            osp.join(CONFIG_DIR, f'{name}.py'), '--work-dir',
            osp.join(args.work_root, name), '--cfg-options',
            *stage_options(name, previous, args.work_root, args.iters_scale)
        ])
    final = osp.join(args.work_root, FINAL)
    metrics = test_tool.main([
        osp.join(CONFIG_DIR, f'{FINAL}.py'), final, '--work-dir',
        osp.join(args.work_root, 'test'), '--out',
        osp.join(args.work_root, 'test', 'predictions.json')
    ])
    baseline = mean_box_baseline.main([osp.join(CONFIG_DIR, f'{FINAL}.py')])
    results = dict(
        metrics=metrics,
        mean_box_baseline_acc=baseline['Acc@0.5'],
        minutes=(time.time() - start) / 60)
    with open(osp.join(args.work_root, 'quickstart_results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    rows = [(k, float(v)) for k, v in metrics.items()]
    rows.append(('mean-box baseline refcoco/Acc@0.5', baseline['Acc@0.5']))
    rows.append(('wall-clock minutes', results['minutes']))
    print_table(rows)
    return results


if __name__ == '__main__':
    main()
