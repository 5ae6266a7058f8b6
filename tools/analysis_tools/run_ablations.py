"""Train and evaluate the paper's ablations (Tables 11, 12, 15) in miniature.

    python tools/analysis_tools/run_ablations.py [--seeds 0 1] [--rows ...]
        [--work-dir work_dirs/ablations] [--jobs 2] [--row-iters N] [--quick]

On the synthetic world, the base MLLM and the task-assignment stage
(``configs/tpo/ablations/{mllm_base,stage1}.py``) are trained once and
shared; every row (``configs/tpo/ablations/<row>.py``) is then trained from
the shared checkpoint (the textualized row from the base MLLM) once per
seed and evaluated on fixed test subsets. A finished stage or (row, seed)
is cached in the work dir (``results/<row>_seed<seed>.json``) and skipped
when the script runs again, so an interrupted run resumes. The table of
every metric (mean and standard deviation over seeds), the hardware, the
wall time and the command go between the markers of ``--out``
(``docs/ablations.md``); the text around them is kept.
"""
import argparse
import gc
import json
import os
import os.path as osp
import platform
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO_DIR = osp.dirname(TOOLS_DIR)
CONFIG_DIR = osp.join(REPO_DIR, 'configs', 'tpo', 'ablations')
BEGIN, END = '<!-- ablations:begin -->', '<!-- ablations:end -->'

#: The shared stages, in order: (name, config, the stage it starts from).
SHARED = (('mllm_base', None), ('stage1', 'mllm_base'))

#: Every row: its config (``configs/tpo/ablations/<name>.py`` unless
#: ``config`` names another), the shared stage it starts from, its heads
#: (T, R, M), whether it has conversation data (C) and its label. The
#: ``empty_answers`` row trains nothing: the base MLLM answers with a single
#: token, so every task answer is malformed (an empty prediction) and the
#: row shows what the metrics give for no prediction at all. The
#: ``trivial`` row uses no model (:func:`trivial_metrics`). Both are
#: deterministic and run once (first seed).
ROWS = {
    'tpo_full': dict(start='stage1', heads='TRM', conv=True,
                     label='TPO: CG-DETR T + R + M + C, two temporal sources'),
    'no_conversation': dict(start='stage1', heads='TRM', conv=False,
                            label='w/o conversation data (T + R + M)'),
    'mlp_temporal_head': dict(start='stage1', heads='TRM', conv=True,
                              label='simple MLP temporal head'),
    'textualized': dict(start='mllm_base', heads='', conv=True,
                        label='textualized task data (P2S, LM loss only)'),
    'heads_t': dict(start='stage1', heads='T', conv=False, label='T only'),
    'heads_r': dict(start='stage1', heads='R', conv=False, label='R only'),
    'heads_m': dict(start='stage1', heads='M', conv=False, label='M only'),
    'heads_rm': dict(start='stage1', heads='RM', conv=False, label='R + M'),
    'one_temporal_dataset': dict(
        start='stage1', heads='TRM', conv=True,
        label='one temporal source (QVHighlights only)'),
    'empty_answers': dict(
        start='mllm_base', heads='', conv=False, config='textualized',
        train=False, label='no prediction at all (scoring floor)'),
    'trivial': dict(
        start=None, heads='', conv=False, config='tpo_full', train=False,
        label='trivial predictions (mean training box, whole video, '
        'prompt box held still, always option A)'),
}

#: Reported metrics: (column, metric key, tasks whose head it needs).
METRICS = (
    ('box Acc@0.5', 'refcoco/Acc@0.5'),
    ('moment R1@0.3', 'temporal/R@1,IoU=0.3'),
    ('moment R1@0.5', 'temporal/R@1,IoU=0.5'),
    ('moment R1@0.7', 'temporal/R@1,IoU=0.7'),
    ('moment mIoU', 'temporal/mIoU'),
    ('J&F', 'rvos/J&F'),
    ('track AUC', 'tracking/AUC'),
    ('MCQ acc', 'mvbench/Avg'),
    ('task assign acc', 'task_assign/Acc'),
)
#: Malformed-answer counts per task: every task of the textualized row,
#: multiple choice (no option letter) of every row.
MALFORMED = (('region', 'refcoco'), ('temporal', 'temporal'),
             ('mask', 'rvos'), ('track', 'tracking'), ('mcq', 'mvbench'))

#: The paper's directions: (table, claim, better row, worse row, metric).
CLAIMS = (
    ('11', 'TPO beats textualized task data (temporal)', 'tpo_full',
     'textualized', 'temporal/R@1,IoU=0.5'),
    ('11', 'TPO beats textualized task data (MCQ)', 'tpo_full',
     'textualized', 'mvbench/Avg'),
    ('11', 'TPO beats textualized task data (boxes)', 'tpo_full',
     'textualized', 'refcoco/Acc@0.5'),
    ('11', 'CG-DETR beats a simple MLP temporal head', 'tpo_full',
     'mlp_temporal_head', 'temporal/R@1,IoU=0.5'),
    ('11', 'conversation data helps the temporal head', 'tpo_full',
     'no_conversation', 'temporal/R@1,IoU=0.5'),
    ('11', 'conversation data helps MCQ', 'tpo_full', 'no_conversation',
     'mvbench/Avg'),
    ('12', 'co-training helps T (T+R+M vs T)', 'no_conversation', 'heads_t',
     'temporal/R@1,IoU=0.5'),
    ('12', 'co-training helps R (R+M vs R)', 'heads_rm', 'heads_r',
     'refcoco/Acc@0.5'),
    ('12', 'co-training helps M (R+M vs M)', 'heads_rm', 'heads_m',
     'rvos/J&F'),
    ('12', 'adding T helps R (T+R+M vs R+M)', 'no_conversation', 'heads_rm',
     'refcoco/Acc@0.5'),
    ('12', 'conversation data helps R (+C)', 'tpo_full', 'no_conversation',
     'refcoco/Acc@0.5'),
    ('12', 'conversation data helps M (+C)', 'tpo_full', 'no_conversation',
     'rvos/J&F'),
    ('15', 'two temporal sources beat one (temporal)', 'tpo_full',
     'one_temporal_dataset', 'temporal/R@1,IoU=0.5'),
    ('15', 'two temporal sources beat one (MCQ)', 'tpo_full',
     'one_temporal_dataset', 'mvbench/Avg'),
)

#: The quick setting (a smoke test of the whole pipeline, not results).
QUICK = dict(base_iters=2, stage1_iters=2, row_iters=2, test_samples=4,
             batch_size=2, max_new_tokens=16)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--rows', nargs='+', default=list(ROWS), choices=list(ROWS),
        metavar='ROW', help=f'rows to run (default: all of {list(ROWS)})')
    parser.add_argument(
        '--work-dir',
        help='default: work_dirs/ablations (work_dirs/ablations_quick with '
        '--quick)')
    parser.add_argument(
        '--out',
        help='markdown file whose results section is (re)written; default: '
        'docs/ablations.md (WORK_DIR/ablations.md with --quick)')
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='(row, seed) trainings run at once, each in its own process')
    parser.add_argument('--base-iters', type=int,
                        help='iterations of the base MLLM (config default)')
    parser.add_argument('--stage1-iters', type=int,
                        help='iterations of stage 1 (config default)')
    parser.add_argument('--row-iters', type=int,
                        help='iterations of every row (config default)')
    parser.add_argument(
        '--quick', action='store_true',
        help=f'a smoke run of the whole pipeline: {QUICK}')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        for key in ('base_iters', 'stage1_iters', 'row_iters'):
            setattr(args, key, getattr(args, key) or QUICK[key])
    args.work_dir = osp.abspath(args.work_dir or (
        'work_dirs/ablations_quick' if args.quick else 'work_dirs/ablations'))
    args.out = args.out or (osp.join(args.work_dir, 'ablations.md')
                            if args.quick else osp.join(
                                REPO_DIR, 'docs', 'ablations.md'))
    if len(set(args.seeds)) < 1 or args.jobs < 1:
        parser.error('give at least one seed and --jobs >= 1')
    return args


def _load(name: str):
    from mmengine.config import Config
    return Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))


def schedule_options(iters: int) -> Dict[str, object]:
    """Config changes of a training: ``iters`` iterations (the schedule's
    warmup ratio applies to them), no validation, one checkpoint at the
    end."""
    return {
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
        'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': max(1, min(20, iters // 4))
    }


def quick_options(cfg) -> Dict[str, object]:
    """Config changes of the quick setting: small batches and test sets."""
    options = {
        'train_dataloader.batch_size': QUICK['batch_size'],
        'test_dataloader.batch_size': QUICK['batch_size'],
        'model.max_new_tokens': QUICK['max_new_tokens']
    }
    for i in range(len(cfg.test_dataloader.dataset.datasets)):
        options[f'test_dataloader.dataset.datasets.{i}.dataset.indices'] = \
            QUICK['test_samples']
    return options


def _checkpoint_done(work_dir: str) -> bool:
    return osp.isfile(osp.join(work_dir, 'last_checkpoint'))


def resolve_iterations(args) -> None:
    """Fill in the iterations of every stage and row (config defaults)
    and ``args.tag``, which names the shared stages' schedule: cached
    stages and results are only reused under the same tag and iterations.
    """
    args.base_iters = args.base_iters or \
        _load('mllm_base').train_cfg.max_iters
    args.stage1_iters = args.stage1_iters or \
        _load('stage1').train_cfg.max_iters
    args.iters = {
        row: args.row_iters or _load(ROWS[row].get(
            'config', row)).train_cfg.max_iters
        for row in args.rows
    }
    args.tag = ('quick_' if args.quick else '') + \
        f'base{args.base_iters}_stage1{args.stage1_iters}'


def shared_dir(args, name: str) -> str:
    return osp.join(args.work_dir, 'shared', args.tag, name)


def job_name(args, row: str, seed: int) -> str:
    return f'{row}_it{args.iters[row]}_seed{seed}'


def build_config(args, name: str, work_dir: str, changes: dict):
    """The config ``name`` with ``changes`` (and the quick setting)."""
    cfg = _load(name)
    if args.quick:
        cfg.merge_from_dict(quick_options(cfg))
    cfg.merge_from_dict(changes)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    return cfg


def train_shared(args) -> bool:
    """Train the shared stages that have no checkpoint yet; whether any
    was trained."""
    from tpo.engine import build_runner
    trained = False
    for name, start in SHARED:
        work_dir = shared_dir(args, name)
        if _checkpoint_done(work_dir):
            continue
        trained = True
        iters = args.base_iters if name == 'mllm_base' else args.stage1_iters
        changes = dict(schedule_options(iters), load_from=shared_dir(
            args, start) if start else None)
        changes['randomness.seed'] = 0
        _log(f'training the shared stage {name}')
        build_runner(build_config(args, name, work_dir, changes)).train()
    return trained


def result_file(args, row: str, seed: int) -> str:
    return osp.join(args.work_dir, 'results', args.tag,
                    job_name(args, row, seed) + '.json')


def trivial_metrics(args) -> Dict[str, float]:
    """The test metrics of predictions that look at no video
    (``trivial_baselines.py``'s ``blind`` baseline: the mean training box,
    the whole video as the moment, the tracking prompt's box held still in
    every frame, no mask, and option A of every multiple-choice
    question)."""
    from analysis_tools.trivial_baselines import \
        trivial_metrics as baseline_metrics
    cfg = _load('tpo_full')
    if args.quick:
        cfg.merge_from_dict(quick_options(cfg))
    return baseline_metrics(cfg, ('blind', ))['blind']


def run_job(args, row: str, seed: int) -> dict:
    """Train one (row, seed) and test it with the same runner (a trained
    checkpoint found in its work dir is tested without training); cache and
    return its result."""
    from tpo.engine import build_runner, resolve_checkpoint
    spec = ROWS[row]
    work_dir = osp.join(args.work_dir, 'rows', args.tag,
                        job_name(args, row, seed))
    start = time.time()
    if row == 'trivial':
        return _save_result(args, row, seed, trivial_metrics(args), start,
                            start)
    changes = dict(schedule_options(args.iters[row]))
    changes['randomness.seed'] = seed
    to_train = spec.get('train', True) and not _checkpoint_done(work_dir)
    if to_train:
        changes['load_from'] = shared_dir(args, spec['start'])
    elif spec.get('train', True):
        changes['load_from'] = resolve_checkpoint(work_dir)
    else:
        changes['load_from'] = resolve_checkpoint(
            shared_dir(args, spec['start']))
        changes['model.max_new_tokens'] = 1
    runner = build_runner(
        build_config(args, spec.get('config', row), work_dir, changes))
    if to_train:
        runner.train()
    trained = time.time()
    return _save_result(args, row, seed, runner.test(), start, trained)


def _save_result(args, row: str, seed: int, metrics: dict, start: float,
                 trained: float) -> dict:
    """Cache and return the result of a (row, seed)."""
    result = dict(
        row=row, seed=seed, metrics={k: float(v)
                                     for k, v in metrics.items()},
        iters=args.iters[row] if ROWS[row].get('train', True) else 0,
        train_s=trained - start, test_s=time.time() - trained)
    path = result_file(args, row, seed)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        json.dump(result, f, indent=1)
    os.replace(path + '.tmp', path)
    return result


def _claim(args, row: str, seed: int) -> bool:
    """Atomically claim a job for this process (parallel workers)."""
    path = osp.join(args.work_dir, 'claims', args.tag,
                    job_name(args, row, seed))
    os.makedirs(osp.dirname(path), exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL))
        return True
    except FileExistsError:
        return False


def row_seeds(args, row: str) -> List[int]:
    """The seeds of a row: the first only for a row that trains nothing."""
    return args.seeds if ROWS[row].get('train', True) else args.seeds[:1]


def pending_jobs(args) -> List[tuple]:
    return [(row, seed) for seed in args.seeds for row in args.rows
            if seed in row_seeds(args, row)
            and not osp.isfile(result_file(args, row, seed))]


def run_worker(args) -> None:
    """Run the pending jobs that no other worker claimed."""
    for row, seed in pending_jobs(args):
        if _claim(args, row, seed):
            _log(f'start {row} seed {seed}')
            result = run_job(args, row, seed)
            # free the finished runner's dataloader workers now
            gc.collect()
            _log(f'done {row} seed {seed}: train {result["train_s"]:.0f} s, '
                 f'test {result["test_s"]:.0f} s')


def _log(message: str) -> None:
    print(f'[run_ablations {time.strftime("%H:%M:%S")}] {message}',
          flush=True)


def run_parallel(args, argv: Sequence[str]) -> None:
    """``args.jobs`` worker processes; report each finished job."""
    import shutil
    shutil.rmtree(osp.join(args.work_dir, 'claims', args.tag),
                  ignore_errors=True)
    todo = pending_jobs(args)
    log_dir = osp.join(args.work_dir, 'logs')
    os.makedirs(log_dir, exist_ok=True)
    env = dict(os.environ,
               OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 1) //
                                       args.jobs)))
    workers = []
    for k in range(args.jobs):
        log = open(osp.join(log_dir, f'worker{k}.log'), 'a')
        workers.append((subprocess.Popen(
            [sys.executable, osp.abspath(__file__), *argv, '--worker',
             str(k)], stdout=log, stderr=subprocess.STDOUT, env=env), log))
    _log(f'{len(todo)} jobs on {args.jobs} workers (logs: {log_dir})')
    start, done = time.time(), set()
    while True:
        finished = [job for job in todo
                    if job not in done and osp.isfile(
                        result_file(args, *job))]
        for job in finished:
            done.add(job)
            elapsed = time.time() - start
            eta = elapsed / len(done) * (len(todo) - len(done))
            _log(f'[{len(done)}/{len(todo)}] {job[0]} seed {job[1]} done; '
                 f'{elapsed / 60:.1f} min elapsed, ~{eta / 60:.1f} min left')
        if all(p.poll() is not None for p, _ in workers):
            break
        time.sleep(5)
    for process, log in workers:
        log.close()
        if process.returncode:
            raise RuntimeError(
                f'an ablation worker failed (exit {process.returncode}); '
                f'see {log_dir}. Finished rows are kept: run the same '
                'command again to resume.')


def load_results(args) -> Dict[str, List[dict]]:
    """Cached results of the requested rows and seeds."""
    results = {}
    for row in args.rows:
        for seed in args.seeds:
            path = result_file(args, row, seed)
            if osp.isfile(path):
                with open(path) as f:
                    results.setdefault(row, []).append(json.load(f))
    return results


def _values(runs: List[dict], key: str) -> Optional[np.ndarray]:
    values = [r['metrics'][key] for r in runs if key in r['metrics']]
    return np.array(values) if len(values) == len(runs) and values else None


def fmt(values: Optional[np.ndarray]) -> str:
    """``mean ± sd`` (sample standard deviation over seeds), ``-`` when
    the row has no such metric."""
    if values is None:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{values.mean():.1f} ± {values.std(ddof=1):.1f}'


#: Gap (points) by which every seed of one row must beat every seed of the
#: other for a direction to count: ties and differences below one test
#: sample out of 64 (1.6 points) are not findings.
MIN_GAP = 1.0
#: Rows that need no training: a trained row is only informative where it
#: beats them.
BASELINE_ROWS = ('empty_answers', 'trivial')


def claim_verdict(results: Dict[str, List[dict]], better: str, worse: str,
                  key: str) -> tuple:
    """``(difference of means, verdict)``. The direction holds (or is
    reversed) only when every seed of one row beats every seed of the other
    by more than :data:`MIN_GAP`, and the winning row beats the best
    baseline row (no training) on that metric."""
    a = _values(results.get(better, []), key)
    b = _values(results.get(worse, []), key)
    if a is None or b is None:
        return None, 'not run'
    diff = a.mean() - b.mean()
    if len(a) < 2 or len(b) < 2:
        return diff, 'needs >= 2 seeds'
    baselines = [
        v.max() for v in (_values(results.get(row, []), key)
                          for row in BASELINE_ROWS) if v is not None
    ]
    floor = max(baselines) if baselines else -np.inf
    if a.min() > b.max() + MIN_GAP:
        verdict = 'holds'
    elif a.max() < b.min() - MIN_GAP:
        verdict = 'reversed'
    else:
        return diff, 'within seed noise'
    if max(a.mean(), b.mean()) <= floor:
        return diff, f'{verdict}, but both rows are at or below a ' \
            f'baseline without training ({floor:.1f})'
    return diff, verdict


def add_wall_time(args, seconds: float) -> List[float]:
    """Record the wall time of an invocation that trained or tested
    something; return all recorded for the same shared stages and row
    iterations."""
    row_iters = '-'.join(sorted({str(i) for i in args.iters.values()}))
    path = osp.join(args.work_dir, 'wall_times',
                    f'{args.tag}_rows{row_iters}.json')
    walls = []
    if osp.isfile(path):
        with open(path) as f:
            walls = json.load(f)
    if seconds:
        walls.append(seconds)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(walls, f)
    return walls


def render(args, results: Dict[str, List[dict]], command: str,
           walls: Sequence[float]) -> str:
    """The markdown results section."""
    seeds = ', '.join(map(str, args.seeds))
    cpu = platform.processor() or platform.machine()
    lines = [
        BEGIN, '', f'Command: `{command}`', '',
        f'Hardware: {os.cpu_count()} CPU cores ({cpu}), Python '
        f'{platform.python_version()}, {args.jobs} job(s) at once. Wall '
        f'time: {sum(walls) / 60:.1f} min in {len(walls)} invocation(s) '
        'that trained or tested (finished stages and rows are cached in the '
        'work dir and reused).', '',
        f'Seeds: {seeds}. Every cell is the mean ± sample standard '
        'deviation over the seeds, in percent; `-`: the row has no head or '
        'data for that metric.', ''
    ]
    header = ['row', 'T', 'R', 'M', 'C', 'iters'] + [m[0] for m in METRICS] \
        + ['malformed answers']
    lines += ['| ' + ' | '.join(header) + ' |',
              '|' + '---|' * len(header)]
    for row in args.rows:
        runs = results.get(row)
        if not runs:
            continue
        spec = ROWS[row]
        flags = ['✓' if h in spec['heads'] else '' for h in 'TRM']
        flags.append('✓' if spec['conv'] else '')
        malformed = []
        for task, prefix in MALFORMED:
            counts = _values(runs, f'{prefix}/malformed')
            total = _values(runs, f'{prefix}/answers')
            if counts is not None:
                malformed.append(f'{task} {counts.mean():.1f}/'
                                 f'{total.mean():.0f}')
        cells = [f'{spec["label"]} (`{row}`)'] + flags + [
            str(runs[0]['iters'])
        ] + [fmt(_values(runs, key)) for _, key in METRICS] + [
            ', '.join(malformed) or '-'
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += [
        '', 'Malformed answers: mean count per seed / answers of the task '
        '(a malformed answer is scored as a miss).', '',
        '### The paper\'s directions, checked', '',
        'A direction *holds* (or is *reversed*) only when every seed of one '
        f'row beats every seed of the other by more than {MIN_GAP:g} point; '
        'otherwise the difference is within seed noise and is not a finding. '
        'A direction between two rows that are both at or below a baseline '
        f'without training ({", ".join(f"`{r}`" for r in BASELINE_ROWS)}) '
        'says nothing about the heads.', '',
        '| table | claim | rows (better vs worse) | metric | Δ (points) | '
        'verdict |', '|---|---|---|---|---|---|'
    ]
    for table, claim, better, worse, key in CLAIMS:
        if better not in args.rows or worse not in args.rows:
            continue
        diff, verdict = claim_verdict(results, better, worse, key)
        delta = '-' if diff is None else f'{diff:+.1f}'
        lines.append(f'| {table} | {claim} | `{better}` vs `{worse}` | '
                     f'{key} | {delta} | {verdict} |')
    timing = [r for runs in results.values() for r in runs]
    if timing:
        lines += [
            '', 'Per (row, seed): training '
            f'{np.mean([r["train_s"] for r in timing]):.0f} s and test '
            f'{np.mean([r["test_s"] for r in timing]):.0f} s on average.'
        ]
    return '\n'.join(lines + ['', END])


def write_markdown(path: str, section: str) -> None:
    """Replace the section between the markers of ``path`` (append it, or
    create the file, when there is none)."""
    text = ''
    if osp.isfile(path):
        with open(path) as f:
            text = f.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = (text.rstrip() + '\n\n' if text else
                '# Ablations in miniature\n\n') + section + '\n'
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def main(argv=None) -> Dict[str, List[dict]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if TOOLS_DIR not in sys.path:  # tools/analysis_tools as a package
        sys.path.insert(0, TOOLS_DIR)
    resolve_iterations(args)
    if args.worker is not None:
        run_worker(args)
        return {}
    start = time.time()
    worked = train_shared(args)
    todo = pending_jobs(args)
    if args.jobs > 1 and len(todo) > 1:
        run_parallel(args, argv)
    else:
        for i, (row, seed) in enumerate(todo):
            _log(f'[{i + 1}/{len(todo)}] {row} seed {seed}')
            run_job(args, row, seed)
            gc.collect()
    walls = add_wall_time(args, time.time() - start
                          if worked or todo else 0.0)
    results = load_results(args)
    command = 'python tools/analysis_tools/run_ablations.py ' + ' '.join(
        shlex.quote(a) for a in argv)
    write_markdown(args.out, render(args, results, command, walls))
    _log(f'wrote {args.out} ({(time.time() - start) / 60:.1f} min)')
    return results


if __name__ == '__main__':
    main()
