"""Speed of the training data pipeline on the synthetic world, and how long
a tiny-model training iteration waits for it.

    python tools/analysis_tools/benchmark_data_pipeline.py [CONFIG]
        [--world DIR] [--num-frames 16] [--img-size S] [--samples 200]
        [--workers 2] [--iters 40] [--warmup 5] [--json OUT]

1. Per worker: ``--samples`` random samples of the config's training set
   (its readers over the world, ``LoadVideoFrames`` with decord seeking
   ``--num-frames`` frames sampled at random, the transforms, then
   ``pseudo_collate`` of a batch), in this process: samples/s of one worker
   (wall-clock and CPU time), per reader, with the share of each transform
   and what each sample opens and decodes (:class:`FileAccess`: videos
   and images opened, frames asked from the decoder, other files opened:
   annotation files re-read per sample show up there).
2. Data wait: the config's tiny model trains ``--warmup`` + ``--iters``
   iterations through the Runner with the config's dataloader
   (``--workers`` worker processes, persistent); the time each iteration
   waits for its batch (from the end of one iteration to the start of the
   next: the loop's ``next()`` on the dataloader) over the time of the
   iteration, wall-clock, plus the main process's CPU time per iteration.

On a machine shared with other jobs the workers compete for the cores with
the training process, so the wait share is an upper bound.
"""
import argparse
import builtins
import contextlib
import copy
import os
import os.path as osp
import random
import statistics
import sys
import tempfile
import time
from typing import Dict, List

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
for path in (HERE, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?',
                        default=osp.join(ROOT, 'configs/tpo/tiny_stage3.py'))
    parser.add_argument('--world', help='an existing or new synthetic world '
                        "folder (default: the config's data_root)")
    parser.add_argument('--world-size', type=int, nargs=2,
                        metavar=('TRAIN', 'VAL'),
                        help='videos of the world (default: the config\'s)')
    parser.add_argument('--num-frames', type=int,
                        help='frames sampled per clip (default: the '
                        "config's)")
    parser.add_argument('--backend', choices=['decord', 'pyav'],
                        help="LoadVideoFrames' decoder (default: the "
                        "config's)")
    parser.add_argument('--img-size', type=int,
                        help='frame size after resizing (default: the '
                        "config's)")
    parser.add_argument('--samples', type=int, default=200,
                        help='samples timed in this process')
    parser.add_argument('--batch-size', type=int,
                        help="default: the config's train batch size")
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--iters', type=int, default=40,
                        help='timed training iterations')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--skip-training', action='store_true',
                        help='only the per-worker throughput')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the result here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def readers(dataset_cfg) -> List[dict]:
    """The reader configs of a (Concat/Mixed/Repeat) dataset config."""
    kind = dataset_cfg.get('type')
    if kind in ('ConcatDataset', 'MixedDataset'):
        return [r for entry in dataset_cfg['datasets']
                for r in readers(entry['dataset'] if 'ratio' in entry
                                 else entry)]
    if kind == 'RepeatDataset':
        return readers(dataset_cfg['dataset'])
    return [dataset_cfg]


def adapt(cfg, args: argparse.Namespace):
    """The config with the world, frames, size and batch of the run."""
    cfg = copy.deepcopy(cfg)
    loader = cfg.train_dataloader
    if args.batch_size:
        loader.batch_size = args.batch_size
    loader.num_workers = args.workers
    loader.persistent_workers = args.workers > 0
    for source in readers(loader.dataset):
        if source.get('type') != 'SyntheticWorldDataset':
            continue
        if args.world:
            # The reader's root is the world's or a folder in it (LaSOT's).
            inner = osp.relpath(source.dataset.data_root, source.data_root)
            source.data_root = args.world
            source.dataset.data_root = osp.normpath(
                osp.join(args.world, inner)) + '/'
        if args.world_size:
            source.world = dict(source.get('world') or {}, num_videos=dict(
                train=args.world_size[0], val=args.world_size[1]))
        for step in source.dataset.pipeline:
            if step['type'] in ('LoadVideoFrames', 'LoadImageSequence') \
                    and args.num_frames:
                step['num_frames'] = args.num_frames
            if step['type'] == 'LoadVideoFrames' and args.backend:
                step['backend'] = args.backend
            if step['type'] == 'ResizeFrames' and args.img_size:
                step['size'] = (args.img_size, args.img_size)
    return cfg


class TimedTransform:
    """Wrap a transform; add its wall-clock time to a shared table."""

    def __init__(self, transform, table: Dict[str, float]) -> None:
        self.transform, self.table = transform, table
        self.name = type(transform).__name__

    def __call__(self, results):
        start = time.perf_counter()
        out = self.transform(results)
        self.table[self.name] = self.table.get(self.name, 0.0) + \
            time.perf_counter() - start
        return out


VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


class FileAccess:
    """Counts, while :meth:`patched` is on, the videos opened (decord's
    ``VideoReader``, PyAV's ``av.open``), the frames asked from decord's
    ``get_batch`` (PyAV: those returned), the images opened (PIL) and every
    other file opened with ``open()``."""

    KEYS = ('videos', 'frames', 'images', 'other_files')

    def __init__(self) -> None:
        self.counts = dict.fromkeys(self.KEYS, 0)
        self.other_paths: List[str] = []

    def snapshot(self) -> Dict[str, int]:
        return dict(self.counts)

    @contextlib.contextmanager
    def patched(self):
        import PIL.Image
        counts, others = self.counts, self.other_paths
        restore = []

        def swap(owner, name, value):
            restore.append((owner, name, getattr(owner, name)))
            setattr(owner, name, value)

        real_open = builtins.open

        def counted_open(file, *a, **k):
            path = str(file).lower()
            if not isinstance(file, int) and not path.endswith(
                    VIDEO_EXTENSIONS + IMAGE_EXTENSIONS):
                counts['other_files'] += 1
                others.append(str(file))
            return real_open(file, *a, **k)

        swap(builtins, 'open', counted_open)
        real_image_open = PIL.Image.open

        def image_open(*a, **k):
            counts['images'] += 1
            return real_image_open(*a, **k)

        swap(PIL.Image, 'open', image_open)
        with contextlib.suppress(ImportError):
            import decord

            class CountedReader(decord.VideoReader):

                def __init__(self, *a, **k):
                    counts['videos'] += 1
                    super().__init__(*a, **k)

                def get_batch(self, indices):
                    counts['frames'] += len(indices)
                    return super().get_batch(indices)

            swap(decord, 'VideoReader', CountedReader)
        with contextlib.suppress(ImportError):
            import av
            real_av_open = av.open

            def av_open(*a, **k):
                if k.get('mode', 'r') == 'r':
                    counts['videos'] += 1
                return real_av_open(*a, **k)

            swap(av, 'open', av_open)
        try:
            yield self
        finally:
            for owner, name, value in reversed(restore):
                setattr(owner, name, value)


def per_worker(cfg, args: argparse.Namespace) -> dict:
    """Samples/s of one worker: the training set's samples read in this
    process, each reader's, and the time of each transform."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from tpo.registry import DATASETS
    init_default_scope('tpo')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    leaves = []

    def collect(ds):
        if hasattr(ds, 'datasets'):
            for d in ds.datasets:
                collect(d)
        elif hasattr(ds, 'dataset'):
            collect(ds.dataset)
        else:
            leaves.append(ds)

    collect(dataset)
    stages: Dict[str, float] = {}
    for leaf in leaves:
        leaf.pipeline.transforms = [
            TimedTransform(t, stages) for t in leaf.pipeline.transforms
        ]
    rng = random.Random(args.seed)
    order = [rng.randrange(len(dataset)) for _ in range(args.samples)]
    by_reader: Dict[str, List[tuple]] = {}
    wall, cpu, batch = [], [], []
    batch_size = cfg.train_dataloader.batch_size
    access = FileAccess()
    with access.patched():
        for index in order:
            before = access.snapshot()
            w0, c0 = time.perf_counter(), time.process_time()
            sample = dataset[index]
            w1, c1 = time.perf_counter(), time.process_time()
            opened = {k: v - before[k] for k, v in access.counts.items()}
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
            source = sample['data_samples'].get('source', 'unknown')
            by_reader.setdefault(source, []).append(
                (w1 - w0, c1 - c0, opened))
            batch.append(sample)
    collate = []
    for start in range(0, len(batch) - batch_size + 1, batch_size):
        w0 = time.perf_counter()
        pseudo_collate(batch[start:start + batch_size])
        collate.append(time.perf_counter() - w0)
    total = sum(wall)
    return dict(
        samples=len(wall), samples_per_s=len(wall) / total,
        cpu_samples_per_s=len(cpu) / sum(cpu),
        mean_ms=1000 * total / len(wall),
        median_ms=1000 * statistics.median(wall),
        collate_ms_per_batch=1000 * statistics.mean(collate)
        if collate else 0.0,
        readers={k: dict(samples=len(v),
                         mean_ms=1000 * statistics.mean(r[0] for r in v),
                         cpu_mean_ms=1000 * statistics.mean(r[1] for r in v),
                         per_sample={
                             key: statistics.mean(r[2][key] for r in v)
                             for key in FileAccess.KEYS
                         })
                 for k, v in sorted(by_reader.items())},
        other_files=sorted(set(access.other_paths)),
        stages={k: v / total for k, v in
                sorted(stages.items(), key=lambda kv: -kv[1])})


def training_wait(cfg, args: argparse.Namespace) -> dict:
    """Data-wait share of tiny-model training iterations through the
    Runner with the config's dataloader."""
    from benchmark_scale import StepClock, timing_config
    from tpo.engine import build_runner
    clock = StepClock('cpu', args.warmup)
    with tempfile.TemporaryDirectory() as work_dir:
        runner = build_runner(timing_config(
            cfg, args.warmup + args.iters, work_dir))
        runner.register_hook(clock.hook())
        runner.train()
    starts = [m[1:] for m in clock.marks if m[0] == 'start']
    ends = [m[1:] for m in clock.marks if m[0] == 'end']
    # iteration i (i >= 1) = end of i-1 -> end of i; its wait = end of i-1
    # -> start of i (the loop's next() on the dataloader)
    timed = range(max(1, args.warmup), len(starts))
    waits = [starts[i][0] - ends[i - 1][0] for i in timed]
    steps = [ends[i][0] - ends[i - 1][0] for i in timed]
    cpu = [ends[i][1] - ends[i - 1][1] for i in timed]
    return dict(
        iterations=len(steps), workers=args.workers,
        batch_size=cfg.train_dataloader.batch_size,
        wait_share=sum(waits) / sum(steps),
        wait_ms_median=1000 * statistics.median(waits),
        iteration_ms_median=1000 * statistics.median(steps),
        iteration_cpu_ms_median=1000 * statistics.median(cpu),
        main_process_cpu_share=sum(cpu) / sum(steps))


def main(argv=None) -> dict:
    import torch
    from mmengine.config import Config
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg = adapt(cfg, args)
    frames = [s['num_frames'] for r in readers(cfg.train_dataloader.dataset)
              for s in r['dataset']['pipeline']
              if s['type'] == 'LoadVideoFrames'][:1]
    result = dict(config=args.config, num_frames=frames[0] if frames
                  else None, torch_threads=torch.get_num_threads(),
                  cpus=os.cpu_count(), load_average_before=os.getloadavg())
    result['per_worker'] = per_worker(cfg, args)
    pw = result['per_worker']
    lines = [
        f"config: {args.config}, {result['num_frames']} frames per clip, "
        f"batch {cfg.train_dataloader.batch_size}, torch threads "
        f"{result['torch_threads']}",
        f"one worker: {pw['samples_per_s']:.1f} samples/s wall-clock "
        f"({pw['cpu_samples_per_s']:.1f} samples/s of CPU time), mean "
        f"{pw['mean_ms']:.1f} ms, median {pw['median_ms']:.1f} ms per "
        f"sample over {pw['samples']} samples; collate "
        f"{pw['collate_ms_per_batch']:.2f} ms per batch",
        '  per reader, mean ms wall-clock / CPU (samples): ' + ', '.join(
            f"{k} {v['mean_ms']:.1f} / {v['cpu_mean_ms']:.1f} "
            f"({v['samples']})" for k, v in pw['readers'].items()),
        '  opened / decoded per sample (videos, frames asked, images, other '
        'files): ' + ', '.join(
            f"{k} " + '/'.join(f'{v["per_sample"][key]:g}'
                               for key in FileAccess.KEYS)
            for k, v in pw['readers'].items()),
        '  share of the time per transform: ' + ', '.join(
            f'{k} {100 * v:.0f} %' for k, v in pw['stages'].items()),
    ]
    if not args.skip_training:
        wait = result['wait'] = training_wait(cfg, args)
        # independent of other jobs on the machine: the workers' CPU time
        # for one batch, shared by the workers, over the training
        # process's CPU time per iteration
        wait['loader_cpu_ms_per_batch'] = 1000 * wait['batch_size'] / \
            pw['cpu_samples_per_s']
        wait['loader_cpu_share'] = wait['loader_cpu_ms_per_batch'] / \
            wait['workers'] / wait['iteration_cpu_ms_median']
        lines.append(
            f"training ({wait['workers']} workers, batch "
            f"{wait['batch_size']}, {wait['iterations']} iterations): "
            f"data wait {100 * wait['wait_share']:.1f} % of the iteration "
            f"time (median wait {wait['wait_ms_median']:.1f} ms of "
            f"{wait['iteration_ms_median']:.1f} ms); main-process CPU time "
            f"{wait['iteration_cpu_ms_median']:.1f} ms per iteration "
            f"({100 * wait['main_process_cpu_share']:.0f} % of the wall "
            'clock)')
        lines.append(
            f"  CPU time: a batch costs the loader "
            f"{wait['loader_cpu_ms_per_batch']:.1f} ms, "
            f"{100 * wait['loader_cpu_share']:.1f} % of an iteration's "
            f"main-process CPU time per worker ({wait['workers']} workers "
            'in parallel; below 100 % the workers keep up when they have '
            'cores of their own)')
    result['load_average_after'] = os.getloadavg()
    lines.append(
        f"host: {result['cpus']} CPUs, load average (1, 5, 15 min) "
        'before ' + ', '.join(f'{v:.1f}' for v in
                              result['load_average_before']) +
        ', after ' + ', '.join(f'{v:.1f}' for v in
                               result['load_average_after']))
    print('\n'.join(lines))
    if args.json:
        import json
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
