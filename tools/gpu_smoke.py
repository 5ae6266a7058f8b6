"""Smoke test of DeepSpeed training on one GPU (or the CPU).

    python tools/gpu_smoke.py --out DIR [--device cuda|cpu] [--iters 20]
        [--zero-stage 2|3]

Trains the tiny TPO model (configs/tpo/tiny_stage3.py) on a small synthetic
world generated into DIR/world, with DeepSpeed ZeRO (default 2) through
mmengine's FlexibleRunner and bf16 as the recipes use it (AmpOptimWrapper
-> DeepSpeed torch_autocast: fp32 weights, bf16 compute).
Prints the losses and the peak memory, checks that every loss is finite and
that the losses decrease (mean of the last 5 below the mean of the first
5), consolidates the last DeepSpeed checkpoint, loads it into a freshly
built model and compares it with the weights saved next to it. Writes a
JSON summary to DIR/gpu_smoke.json; exits with 1 when a check fails.

One process, no torchrun: the distributed environment variables are set
here when absent.
"""
import argparse
import json
import math
import os
import os.path as osp
import socket
import sys
import time
import traceback

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True,
                        help='folder for the world, the run and the JSON')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--zero-stage', type=int, choices=[2, 3], default=2)
    args = parser.parse_args(argv)
    if args.iters < 10:
        parser.error('--iters must be at least 10 (5 first + 5 last losses)')
    return args


def single_process_env() -> None:
    """The variables a torchrun launch would set, for one process."""
    if 'MASTER_PORT' not in os.environ:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            os.environ['MASTER_PORT'] = str(sock.getsockname()[1])
    for key, value in (('RANK', '0'), ('LOCAL_RANK', '0'),
                       ('WORLD_SIZE', '1'), ('MASTER_ADDR', '127.0.0.1')):
        os.environ.setdefault(key, value)
    os.environ.setdefault(
        'TORCH_EXTENSIONS_DIR',
        osp.join(osp.expanduser('~'), '.cache', 'tpo_torch_extensions'))


def build_cfg(args: argparse.Namespace, world: str, work_dir: str):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, 'configs/tpo/tiny_stage3.py'))
    cfg.strategy = Config.fromfile(osp.join(
        ROOT, 'configs/_base_/strategies',
        f'deepspeed_zero{args.zero_stage}.py')).strategy
    # bf16 as in the recipes: AmpOptimWrapper -> DeepSpeed torch_autocast
    # (fp32 weights and optimizer, bf16 compute) + the model's autocast.
    cfg.model.amp_dtype = 'bfloat16'
    cfg.optim_wrapper.update(type='AmpOptimWrapper', dtype='bfloat16')
    cfg.launcher = 'pytorch'
    cfg.load_from, cfg.resume, cfg.work_dir = None, False, work_dir
    iters, warmup = args.iters, max(1, args.iters // 5)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=warmup),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup,
             end=iters, eta_min_ratio=0.1)
    ]
    cfg.default_hooks.checkpoint.interval = iters // 2
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor.window_size = 1  # the loss of each iteration
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    for source in loader.dataset.datasets:
        if source.type == 'RepeatDataset':
            source = source.dataset
        source.data_root = source.dataset.data_root = world
        source.world = dict(num_videos=dict(train=24, val=3), seed=0)
    return cfg


def read_losses(work_dir: str) -> list:
    import glob
    losses = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row:
                    losses[row['iter']] = row['loss']
    return [losses[i] for i in sorted(losses)]


def reload_check(cfg, work_dir: str) -> dict:
    """Consolidate the last checkpoint, load it into a new model, compare
    with SafetensorsCheckpointHook's copy (the engine's own weights)."""
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import load_checkpoint
    from safetensors.torch import load_file

    from tpo.engine import resolve_checkpoint, use_safe_checkpoints
    from tpo.registry import MODELS
    use_safe_checkpoints()
    last = resolve_checkpoint(work_dir)
    init_default_scope('tpo')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, last, map_location='cpu', strict=True)
    saved = load_file(osp.splitext(last)[0] + '.safetensors')
    loaded = model.state_dict()
    diff = max((loaded[k].float() - saved[k].float()).abs().max().item()
               for k in saved)
    scale = max(saved[k].float().abs().max().item() for k in saved)
    return dict(checkpoint=last, tensors=len(saved),
                same_keys=sorted(saved) == sorted(loaded),
                max_abs_diff=diff, max_abs_weight=scale)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = osp.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    single_process_env()
    summary = dict(ok=False, device=args.device, zero_stage=args.zero_stage,
                   iters=args.iters)
    try:
        import deepspeed
        import mmengine
        import torch
        summary.update(torch=torch.__version__,
                       deepspeed=deepspeed.__version__,
                       mmengine=mmengine.__version__)
        if args.device == 'cuda':
            if not torch.cuda.is_available():
                raise RuntimeError('--device cuda but torch sees no GPU '
                                   '(use --device cpu)')
            summary['gpu'] = torch.cuda.get_device_name(0)
        elif torch.cuda.is_available():
            raise RuntimeError('--device cpu on a machine with a GPU: hide '
                               'it with CUDA_VISIBLE_DEVICES=""')
        from tpo.datasets.synthetic import generate_world
        world = osp.join(out, 'world')
        if not osp.isfile(osp.join(world, 'meta.json')):
            generate_world(world, num_videos={'train': 24, 'val': 3}, seed=0)
        work_dir = osp.join(out, 'work')
        cfg = build_cfg(args, world, work_dir)
        from tpo.engine import build_runner
        runner = build_runner(cfg)
        summary['deepspeed_config'] = runner.strategy.config
        start = time.time()
        runner.train()
        summary['train_seconds'] = round(time.time() - start, 2)
        if args.device == 'cuda':
            summary['peak_gpu_memory_mib'] = round(
                torch.cuda.max_memory_allocated() / 2**20, 1)
        else:
            import resource
            summary['peak_host_memory_mib'] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        losses = read_losses(work_dir)
        summary['losses'] = losses
        first, last = losses[:5], losses[-5:]
        summary['first5_mean'] = sum(first) / len(first)
        summary['last5_mean'] = sum(last) / len(last)
        summary['reload'] = reload_check(cfg, work_dir)
        checks = dict(
            all_iterations_logged=len(losses) == args.iters,
            losses_finite=all(math.isfinite(v) for v in losses),
            losses_decrease=summary['last5_mean'] < summary['first5_mean'],
            reload_same_keys=summary['reload']['same_keys'],
            reload_matches=summary['reload']['max_abs_diff'] <= 1e-6)
        summary['checks'] = checks
        summary['ok'] = all(checks.values())
    except Exception as error:  # noqa: BLE001 (reported in the JSON)
        summary['error'] = f'{type(error).__name__}: {error}'
        summary['traceback'] = traceback.format_exc()
    path = osp.join(out, 'gpu_smoke.json')
    with open(path, 'w') as f:
        json.dump(summary, f, indent=2)
    for key in ('losses', 'first5_mean', 'last5_mean', 'peak_gpu_memory_mib',
                'peak_host_memory_mib', 'train_seconds', 'reload', 'checks',
                'error'):
        if key in summary:
            print(f'{key}: {summary[key]}')
    print(f"gpu_smoke: {'PASSED' if summary['ok'] else 'FAILED'} "
          f'(summary: {path})')
    return 0 if summary['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
