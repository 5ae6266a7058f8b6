"""Speed, memory and MFU of a TPO recipe at its real shape.

    python tools/analysis_tools/benchmark_scale.py CONFIG [--random-weights]
        [--steps 10] [--warmup 3] [--micro-batch B] [--text-len 256]
        [--strategy config|none|deepspeed_zero2|deepspeed_zero3|fsdp]
        [--device cuda|cpu] [--peak-tflops T] [--json OUT]
        [--cfg-options KEY=VALUE ...]
    ... --count-only           parameters, FLOPs and the memory estimate of
                               the model built with empty (meta) weights
    ... --probe-activations    bytes that autograd keeps, per component
    ... --infer [--repeats 10] head path vs textualized answer

Training (default): builds the model of CONFIG (``--random-weights``: at
full shape from published hyper-parameters, nothing read from disk, see
``scale_model.py``) and runs ``--warmup`` + ``--steps`` iterations of the
configured stage through the project's runner (``tpo.engine.build_runner``:
the config's frozen modules, LoRA, per-module optimizer, bf16 autocast,
gradient checkpointing, gradient accumulation and strategy) on synthetic
samples of the recipe's shapes: the recipe's clips (frames and size of its
training pipeline), one conversation turn of ``--text-len`` text tokens,
one sample per task head (region box, temporal window, tracking prompt box
+ masks) and the rest conversations. Reports per GPU: samples/s, LLM
tokens/s, the peak memory next to ``estimate_memory.py``'s estimate of the
same setting (and, on any device, the static bytes the optimizer holds),
and MFU = model FLOPs per sample (``model_flops.py``, formula printed)
x samples/s / the card's peak dense bf16 FLOP/s.

``--infer``: the head path against the textualized answer (the same
batched KV-cache decoding as ``benchmark_head_vs_text.py``) for one box,
one window and a track of the clip's frames, each structure written by
``tpo.tasks.text_forms``, plus the first-token latency (video encoding,
splicing, prefill and the first token).

CPU runs (tests, tiny configs) take the same code path; on a CPU without
fast bf16 the recipes' bf16 autocast is very slow: pass
``--cfg-options model.amp_dtype=None``.
"""
import argparse
import contextlib
import copy
import gc
import json
import os
import os.path as osp
import resource
import statistics
import sys
import tempfile
import time
from typing import Dict, List

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
for path in (HERE, osp.join(ROOT, 'tools'), ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

import estimate_memory  # noqa: E402
import model_flops  # noqa: E402
import scale_model  # noqa: E402

GiB = 2**30
#: Peak dense bf16 tensor FLOP/s by card name (vendor data sheets; SXM
#: parts). Pass --peak-tflops for other cards.
PEAK_TFLOPS = {'H200': 989.4, 'H100 PCIe': 756.0, 'H100': 989.4,
               'A100': 312.0, 'L40S': 362.1, 'A10G': 125.0}
STRATEGIES = osp.join(ROOT, 'configs/_base_/strategies')


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--random-weights', action='store_true',
                        help='build every pretrained component at its '
                        'published shape with random weights (no files)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--count-only', action='store_true',
                      help='no compute: count the parameters and FLOPs of '
                      'the model built with empty weights')
    mode.add_argument('--probe-activations', action='store_true',
                      help="one forward pass: the bytes autograd keeps for "
                      'backward, per component, next to the estimate')
    mode.add_argument('--infer', action='store_true',
                      help='head path vs textualized answer, first-token '
                      'latency')
    parser.add_argument('--steps', type=int, default=10,
                        help='timed training iterations')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations (--infer: runs) first')
    parser.add_argument('--repeats', type=int, default=10,
                        help='--infer: timed runs of each path')
    parser.add_argument('--micro-batch', type=int,
                        help="samples per iteration (default: the config's "
                        'train batch size)')
    parser.add_argument('--text-len', type=int, default=256,
                        help='text tokens per sample (template included)')
    parser.add_argument('--instruction-len', type=int, default=32,
                        help='words of each question (the Q-Former reads it)')
    parser.add_argument('--frames', type=int,
                        help="frames per clip (default: the recipe's)")
    parser.add_argument('--tasks', nargs='+',
                        help='task of each sample of a micro-batch, e.g. '
                        'region temporal track chat (default: one per head, '
                        'the rest chat)')
    parser.add_argument('--strategy', default='config',
                        help="'config' (the config's own, if any), 'none', "
                        'or a file of configs/_base_/strategies/')
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--peak-tflops', type=float,
                        help='peak dense bf16 TFLOP/s of the device (MFU)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='--count-only: GPUs of the memory estimate')
    parser.add_argument('--json', help='write the result here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys (after --random-weights)')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- setup
def load_config(args: argparse.Namespace):
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    if args.random_weights:
        scale_model.random_weights(cfg)
    cfg.load_from, cfg.resume = None, False
    if args.strategy == 'none':
        cfg.pop('strategy', None)
    elif args.strategy != 'config':
        cfg.strategy = Config.fromfile(
            osp.join(STRATEGIES, f'{args.strategy}.py')).strategy
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def plain(cfg_node):
    return cfg_node.to_dict() if hasattr(cfg_node, 'to_dict') else \
        copy.deepcopy(cfg_node)


def setting(args: argparse.Namespace, cfg, model) -> dict:
    """The shapes of the run: micro-batch, clip, text and the tasks."""
    frames, side = scale_model.recipe_clip_shape(cfg)
    frames = args.frames or frames
    micro = args.micro_batch or cfg.train_dataloader.get('batch_size', 1)
    tasks = args.tasks or scale_model.default_tasks(model, micro)
    if len(tasks) != micro:
        raise SystemExit(f'--tasks names {len(tasks)} samples, the '
                         f'micro-batch has {micro}')
    return dict(micro_batch=micro, frames=frames, side=side, tasks=tasks,
                text_len=args.text_len,
                instruction_len=args.instruction_len)


def zero_stage(cfg) -> int:
    strategy = cfg.get('strategy') or {}
    if 'DeepSpeed' not in str(strategy.get('type', '')):
        return 0
    return int((strategy.get('zero_optimization') or {}).get('stage', 0))


def memory_estimate(arch: dict, run: dict, cfg, gpus: int,
                    device: str = 'cuda') -> dict:
    zero = zero_stage(cfg)
    ds = (cfg.get('strategy') or {}).get('zero_optimization') or {}
    # DeepSpeed's torch_autocast (two gradient dtypes) comes from an
    # AmpOptimWrapper, which runs on GPUs only
    amp = device.startswith('cuda') and \
        cfg.optim_wrapper.get('type') == 'AmpOptimWrapper'
    result = estimate_memory.estimate(
        arch, gpus, run['micro_batch'], zero, True,
        float(ds.get('reduce_bucket_size', 5e8)),
        bool(ds.get('overlap_comm', False)), 2 if amp else 1)
    checkpointing = bool(cfg.model.get('gradient_checkpointing', False))
    result['predicted'] = result['peak_ckpt'] if checkpointing else \
        result['peak']
    result['checkpointing'] = checkpointing
    result['zero'] = zero
    return result


def describe_model(model, run: dict, cfg, gpus: int,
                   device: str = 'cuda') -> dict:
    """Parameter counts (built vs estimate), FLOPs and memory estimate."""
    arch = scale_model.arch_from_model(
        model, run['frames'], run['text_len'], run['instruction_len'],
        title=osp.basename(str(cfg.filename)))
    estimate = memory_estimate(arch, run, cfg, gpus, device)
    counted = scale_model.component_counts(model)
    rows = []
    for row in estimate['rows']:
        built = counted.get(row['name'], (0, 0))
        rows.append(dict(name=row['name'], built=built[0],
                         built_trainable=built[1], estimate=row['params'],
                         estimate_trainable=row['trainable']))
    missing = sorted(set(counted) - {r['name'] for r in rows})
    flops = model_flops.training_flops(arch, run['micro_batch'],
                                       estimate['seq_len'])
    return dict(arch=arch, estimate=estimate, params=rows,
                params_unmatched=missing, flops=flops)


def weights_note(args: argparse.Namespace) -> str:
    if not args.random_weights:
        return ''
    return ' (random weights, ' + (
        'shape changed by --cfg-options)' if args.cfg_options else
        'full shape)')


def render_params(desc: dict) -> List[str]:
    lines = [f"{'component':<20}{'built':>15}{'estimate':>15}"
             f"{'trainable':>15}{'estimate':>15}"]
    for row in desc['params']:
        mark = '' if (row['built'], row['built_trainable']) == (
            row['estimate'], row['estimate_trainable']) else '  <- differs'
        lines.append(f"{row['name']:<20}{row['built']:>15,}"
                     f"{row['estimate']:>15,}{row['built_trainable']:>15,}"
                     f"{row['estimate_trainable']:>15,}{mark}")
    total = [sum(r[k] for r in desc['params'])
             for k in ('built', 'estimate', 'built_trainable',
                       'estimate_trainable')]
    lines.append(f"{'total':<20}{total[0]:>15,}{total[1]:>15,}"
                 f'{total[2]:>15,}{total[3]:>15,}')
    if desc['params_unmatched']:
        lines.append(f"not in the estimate: {desc['params_unmatched']}")
    return lines


def render_setting(args, run: dict, desc: dict, cfg) -> List[str]:
    est = desc['estimate']
    visual = est['seq_len'] - run['text_len']
    strategy = cfg.get('strategy')
    return [
        f'config: {args.config}' +
        weights_note(args),
        f"micro-batch {run['micro_batch']} ({', '.join(run['tasks'])}), "
        f"{run['frames']} frames {run['side']}x{run['side']}, LLM sequence "
        f"{visual} visual + {run['text_len']} text = {est['seq_len']} "
        'tokens',
        f"strategy: {strategy.get('type') if strategy else 'none'}"
        f"{' ZeRO-%d' % est['zero'] if est['zero'] else ''}, amp "
        f"{cfg.model.get('amp_dtype')}, gradient checkpointing "
        f"{'on' if est['checkpointing'] else 'off'}, accumulation "
        f"{cfg.optim_wrapper.get('accumulative_counts', 1)}",
    ]


def host_load() -> str:
    """The host's CPUs and load average: on a shared machine the timings
    depend on it."""
    return f'host: {os.cpu_count()} CPUs, load average (1, 5, 15 min) ' + \
        ', '.join(f'{v:.1f}' for v in os.getloadavg())


# ---------------------------------------------------------------- count
def count_only(args, cfg) -> dict:
    model = scale_model.build_model(plain(cfg.model), meta=True)
    run = setting(args, cfg, model)
    desc = describe_model(model, run, cfg, args.gpus)
    lines = render_setting(args, run, desc, cfg)
    lines += ['', 'parameters (model built with empty weights vs '
              'estimate_memory.py):'] + render_params(desc)
    lines += ['', 'model FLOPs:'] + model_flops.describe(desc['flops'])
    est = desc['estimate']
    lines += ['', f"memory estimate per GPU ({args.gpus} GPU(s)): static "
              f"{est['static'] / GiB:.2f} GiB + activations "
              f"{(est['predicted'] - est['static']) / GiB:.2f} GiB = "
              f"{est['predicted'] / GiB:.2f} GiB"]
    print('\n'.join(lines))
    return dict(mode='count', setting=run, params=desc['params'],
                flops_per_sample=desc['flops']['per_sample'],
                flops_terms=desc['flops']['terms'],
                estimate_bytes=est['predicted'],
                estimate_static_bytes=est['static'])


# ---------------------------------------------------------------- train
class StepClock:
    """Wall-clock and process CPU time at the start and end of every
    training iteration (device synchronised); resets the CUDA peak-memory
    counter after the warm-up."""

    def __init__(self, device: str, warmup: int) -> None:
        self.cuda = device.startswith('cuda')
        self.warmup = warmup
        self.marks: List[tuple] = []

    def now(self) -> tuple:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter(), time.process_time()

    def hook(self):
        from mmengine.hooks import Hook
        clock = self

        class _Hook(Hook):
            priority = 'VERY_HIGH'

            def before_train_iter(self, runner, batch_idx, data_batch=None):
                if batch_idx == clock.warmup and clock.cuda:
                    torch.cuda.reset_peak_memory_stats()
                clock.marks.append(('start', ) + clock.now())

            def after_train_iter(self, runner, batch_idx, data_batch=None,
                                 outputs=None):
                clock.marks.append(('end', ) + clock.now())

        return _Hook()

    def step_times(self) -> Dict[str, List[float]]:
        """Wall and CPU seconds of each timed iteration (start to start,
        the data fetch and every hook included)."""
        starts = [m[1:] for m in self.marks if m[0] == 'start']
        timed = starts[self.warmup:]
        ends = [m[1:] for m in self.marks if m[0] == 'end']
        if len(timed) > 1:
            pairs = list(zip(timed, timed[1:]))
        else:
            pairs = []
        # the last timed iteration ends at its own end mark
        if timed and ends:
            pairs.append((timed[-1], ends[-1]))
        return dict(wall=[b[0] - a[0] for a, b in pairs],
                    cpu=[b[1] - a[1] for a, b in pairs])


def single_process_env() -> None:
    from gpu_smoke import single_process_env as set_env
    set_env()


def timing_config(cfg, iters: int, work_dir: str):
    """``cfg`` reduced to ``iters`` training iterations to time: no
    checkpoints, logs, schedules, visualizer or evaluation."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.load_from, cfg.resume = None, False
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters + 1)
    cfg.param_scheduler = None
    cfg.default_hooks = dict(
        timer=dict(type='IterTimerHook'),
        logger=dict(type='LoggerHook', interval=10**6),
        checkpoint=dict(type='CheckpointHook', interval=10**9,
                        save_last=False),
        sampler_seed=None, param_scheduler=None)
    cfg.custom_hooks = []
    cfg.log_level = 'WARNING'
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg',
                'test_dataloader', 'test_evaluator'):
        cfg[key] = None
    return cfg


def train_config(cfg, run: dict, iters: int, work_dir: str, device: str):
    """:func:`timing_config` on synthetic batches of ``run``'s
    micro-batch, on ``device``."""
    cfg = timing_config(cfg, iters, work_dir)
    cfg.train_dataloader = dict(batch_size=run['micro_batch'])
    cfg.randomness = dict(seed=0, deterministic=False)
    wrapper = cfg.optim_wrapper
    if not device.startswith('cuda') and \
            wrapper.get('type') == 'AmpOptimWrapper':
        # mmengine's AMP wrapper needs a GPU; the model's own autocast
        # (model.amp_dtype) still applies.
        wrapper.type = 'OptimWrapper'
        wrapper.pop('dtype', None)
        wrapper.pop('loss_scale', None)
    if cfg.get('strategy'):
        single_process_env()
        cfg.launcher = 'pytorch'
        if not device.startswith('cuda'):
            cfg.env_cfg.dist_cfg = dict(backend='gloo')
    else:
        cfg.launcher = 'none'
    return cfg


def unwrap(model):
    while hasattr(model, 'module'):
        model = model.module
    return model


def static_bytes(runner) -> Dict[str, int]:
    """Bytes of the tensors the training state holds between iterations,
    by kind: the model's parameters, their gradients, the optimizer's state
    (torch optimizers) or DeepSpeed ZeRO's float32 master partition,
    gradient partition, moments and gradient buckets."""
    seen = set()
    out: Dict[str, int] = {}

    def add(kind: str, tensor) -> None:
        if not torch.is_tensor(tensor) or tensor.numel() == 0:
            return
        storage = tensor.untyped_storage()
        key = (storage.data_ptr(), tensor.device)
        if key in seen:
            return
        seen.add(key)
        out[kind] = out.get(kind, 0) + storage.nbytes()

    def walk(kind: str, node, depth: int = 0) -> None:
        if depth > 4:
            return
        if torch.is_tensor(node):
            add(kind, node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(kind, value, depth + 1)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(kind, value, depth + 1)
        elif hasattr(node, 'buffer'):  # DeepSpeed's IPGBucket
            walk(kind, node.buffer, depth + 1)

    model = unwrap(runner.model)
    optimizer = runner.optim_wrapper.optimizer
    zero = optimizer if hasattr(optimizer,
                                'single_partition_of_fp32_groups') else None
    if zero is not None:
        walk('optimizer', zero.single_partition_of_fp32_groups)
        walk('gradients', getattr(zero, 'averaged_gradients', {}))
        walk('optimizer', zero.optimizer.state)
        if getattr(zero, 'contiguous_gradients', False):
            # allocated at each backward pass, released by the step
            out['buffers'] = len(zero.ipg_buckets) * (
                2 if zero.overlap_comm else 1) * int(
                    zero.reduce_bucket_size) * torch.finfo(
                        zero.dtype).bits // 8
    else:
        walk('optimizer', getattr(optimizer, 'state', {}))
    for param in model.parameters():
        add('weights', param)
        if param.grad is not None:
            add('gradients', param.grad)
    return out


def build_training_runner(cfg, device: str):
    """The project's runner for ``cfg``, its model initialised directly on
    ``device`` (a 7B model on a GPU, not on the host): a Runner builds it
    in its constructor, a FlexibleRunner (strategy) when training starts,
    so it gets one built here."""
    from tpo.engine import build_runner
    on_device = torch.device(device) if device.startswith('cuda') else \
        contextlib.nullcontext()
    if not cfg.get('strategy'):
        with on_device:
            return build_runner(cfg)
    runner = build_runner(cfg)
    if device.startswith('cuda'):
        with on_device:
            runner.model = scale_model.build_model(plain(cfg.model))
    return runner


def train(args, cfg) -> dict:
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader
    meta = scale_model.build_model(plain(cfg.model), meta=True)
    run = setting(args, cfg, meta)
    gpus = int(os.environ.get('WORLD_SIZE', 1))
    desc = describe_model(meta, run, cfg, gpus, args.device)
    samples = scale_model.synthetic_samples(
        meta, run['tasks'], run['frames'], run['side'], run['text_len'],
        run['instruction_len'])
    del meta
    accumulation = cfg.optim_wrapper.get('accumulative_counts', 1)
    steps = -(-args.steps // accumulation) * accumulation
    warmup = -(-args.warmup // accumulation) * accumulation
    iters = warmup + steps
    clock = StepClock(args.device, warmup)
    with tempfile.TemporaryDirectory() as work_dir:
        tcfg = train_config(cfg, run, iters, work_dir, args.device)
        runner = build_training_runner(tcfg, args.device)
        runner.register_hook(clock.hook())
        runner._train_dataloader = DataLoader(
            samples * iters, batch_size=run['micro_batch'], shuffle=False,
            num_workers=0, collate_fn=pseudo_collate)
        start = time.perf_counter()
        runner.train()
        total_seconds = time.perf_counter() - start
        held = static_bytes(runner)
        if args.device.startswith('cuda'):
            peak = torch.cuda.max_memory_allocated()
            reserved = torch.cuda.max_memory_reserved()
        else:
            peak = reserved = None
        device_name = torch.cuda.get_device_name(0) if \
            args.device.startswith('cuda') else 'CPU'
        del runner
        gc.collect()
    times = clock.step_times()
    wall = statistics.median(times['wall'])
    cpu = statistics.median(times['cpu'])
    b, s = run['micro_batch'], desc['estimate']['seq_len']
    result = dict(
        mode='train', config=args.config, device=device_name,
        threads=torch.get_num_threads(), setting=run, steps=steps,
        warmup=warmup, accumulation=accumulation,
        step_seconds=wall, step_seconds_min=min(times['wall']),
        step_seconds_max=max(times['wall']), step_cpu_seconds=cpu,
        samples_per_s=b / wall, tokens_per_s=b * s / wall,
        seq_len=s, total_seconds=total_seconds,
        peak_bytes=peak, reserved_bytes=reserved,
        host_peak_rss_bytes=resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss * 1024,
        static_bytes=held, host=host_load(),
        estimate_bytes=desc['estimate']['predicted'],
        estimate_static_bytes=desc['estimate']['static'],
        flops_per_sample=desc['flops']['per_sample'],
        flops_terms=desc['flops']['terms'], params=desc['params'])
    peak_flops = args.peak_tflops or next(
        (v for k, v in PEAK_TFLOPS.items() if k in device_name), None)
    achieved = result['flops_per_sample'] * result['samples_per_s']
    result['achieved_tflops'] = achieved / 1e12
    result['peak_tflops'] = peak_flops
    result['mfu'] = achieved / (peak_flops * 1e12) if peak_flops else None
    print('\n'.join(render_train(args, cfg, run, desc, result)))
    return result


def render_train(args, cfg, run, desc, r) -> List[str]:
    lines = render_setting(args, run, desc, cfg)
    lines.append(
        f"device: {r['device']} ({r['threads']} threads), {r['steps']} "
        f"timed iterations after {r['warmup']} warm-up; {r['host']}")
    lines.append(
        f"iteration: median {r['step_seconds']:.3f} s (min "
        f"{r['step_seconds_min']:.3f}, max {r['step_seconds_max']:.3f}), "
        f"CPU time {r['step_cpu_seconds']:.3f} s")
    lines.append(f"throughput per GPU: {r['samples_per_s']:.3f} samples/s, "
                 f"{r['tokens_per_s']:.1f} LLM tokens/s")
    est = desc['estimate']
    if r['peak_bytes'] is not None:
        diff = 100 * (est['predicted'] / r['peak_bytes'] - 1)
        lines.append(
            f"peak memory: {r['peak_bytes'] / GiB:.2f} GiB allocated "
            f"({r['reserved_bytes'] / GiB:.2f} GiB reserved); estimate "
            f"{est['predicted'] / GiB:.2f} GiB ({diff:+.1f} %)")
    else:
        lines.append(f"host peak RSS: {r['host_peak_rss_bytes'] / GiB:.2f} "
                     'GiB (no device peak on a CPU)')
    total = est['total']
    expected = dict(weights=total['weights'], gradients=total['grads'],
                    optimizer=total['optim'], buffers=est['buffers'])
    lines.append(
        'training state after the last step, MiB (measured / estimate): ' +
        ', '.join(f"{k} {r['static_bytes'].get(k, 0) / 2**20:.1f} / "
                  f'{v / 2**20:.1f}' for k, v in expected.items()) +
        ' (gradients are freed by the step; the ZeRO-2 buffers, counted '
        "from DeepSpeed's buckets and settings, live from the backward "
        'pass to the step)')
    lines += model_flops.describe(desc['flops'])
    achieved = f"{r['achieved_tflops']:.1f} TFLOP/s" if \
        r['achieved_tflops'] >= 1 else \
        f"{1000 * r['achieved_tflops']:.2f} GFLOP/s"
    lines.append(f'achieved: {achieved} (model FLOPs per sample x '
                 'samples/s)' + (
        f", MFU {100 * r['mfu']:.1f} % of {r['peak_tflops']} TFLOP/s"
        if r['mfu'] is not None else
        ' (MFU: no peak FLOP/s known for this device; --peak-tflops)'))
    return lines


# ---------------------------------------------------------------- probe
class _FusedAttention(torch.autograd.Function):
    """Scaled dot-product attention that keeps for backward what CUDA's
    flash / memory-efficient kernels keep: Q, K, V, the output and a
    float32 log-sum-exp per query (for accounting only: no backward)."""

    kernel = None  # torch's own, set while the patch is on

    @staticmethod
    def forward(ctx, query, key, value, mask, dropout, causal, scale, gqa):
        with torch.no_grad():
            out = _FusedAttention.kernel(
                query, key, value, attn_mask=mask, dropout_p=dropout,
                is_causal=causal, scale=scale, enable_gqa=gqa)
        lse = query.new_empty(query.shape[:-1], dtype=torch.float32)
        ctx.save_for_backward(query, key, value, out, lse)
        return out

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError('accounting only')


@contextlib.contextmanager
def cuda_like_kernels():
    """On a CPU, make a forward pass keep for backward what it keeps on a
    GPU: LayerNorm and softmax in float32 under autocast (CUDA autocast's
    float32 list), bool dropout masks (CUDA's fused dropout; the CPU keeps
    a float mask) and fused attention without the score matrix (the CPU's
    math path, taken with a mask or dropout, keeps it)."""
    import torch.nn.functional as F
    originals = (F.layer_norm, F.softmax, F.dropout,
                 F.scaled_dot_product_attention)

    def layer_norm(x, shape, weight=None, bias=None, eps=1e-5):
        if torch.is_autocast_enabled('cpu'):
            with torch.autocast('cpu', enabled=False):
                return originals[0](
                    x.float(), shape,
                    None if weight is None else weight.float(),
                    None if bias is None else bias.float(), eps)
        return originals[0](x, shape, weight, bias, eps)

    def softmax(x, dim=None, _stacklevel=3, dtype=None):
        if torch.is_autocast_enabled('cpu') and dtype is None:
            dtype = torch.float32
        return originals[1](x, dim=dim, dtype=dtype)

    def dropout(x, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return x
        return torch.native_dropout(x, p, True)[0]

    def attention(query, key, value, attn_mask=None, dropout_p=0.0,
                  is_causal=False, scale=None, enable_gqa=False):
        dtype = torch.get_autocast_dtype('cpu') if \
            torch.is_autocast_enabled('cpu') else query.dtype
        query, key, value = (t.to(dtype) for t in (query, key, value))
        return _FusedAttention.apply(query, key, value, attn_mask,
                                     dropout_p, is_causal, scale,
                                     enable_gqa)

    _FusedAttention.kernel = originals[3]
    (F.layer_norm, F.softmax, F.dropout,
     F.scaled_dot_product_attention) = (layer_norm, softmax, dropout,
                                        attention)
    try:
        yield
    finally:
        (F.layer_norm, F.softmax, F.dropout,
         F.scaled_dot_product_attention) = originals


def probe_activations(args, cfg) -> dict:
    """One forward pass of ``model.loss``: the bytes of every tensor
    autograd saves for backward (each storage once; parameters and the
    bf16 copies of parameters that autocast caches counted apart),
    attributed to the component running when it was saved."""
    model_cfg = plain(cfg.model)
    meta = scale_model.build_model(model_cfg, meta=True)
    run = setting(args, cfg, meta)
    desc = describe_model(meta, run, cfg, 1)
    samples = scale_model.synthetic_samples(
        meta, run['tasks'], run['frames'], run['side'], run['text_len'],
        run['instruction_len'])
    del meta
    model = scale_model.build_model(model_cfg).to(args.device)
    model.train()
    data = model.data_preprocessor(dict(
        inputs=[s['inputs'] for s in samples],
        data_samples=[s['data_samples'] for s in samples]), True)
    params = {p.untyped_storage().data_ptr(): p for p in model.parameters()}
    trained_fp32 = {}
    for param in model.parameters():
        if param.requires_grad and param.dtype == torch.float32:
            trained_fp32.setdefault(tuple(param.shape), []).append(param)

    def is_weight_copy(tensor) -> bool:
        """A bf16 copy (possibly transposed) of a trained fp32 weight."""
        if tensor.dtype == torch.float32:
            return False
        for view in (tensor, tensor.t() if tensor.dim() == 2 else None):
            for param in trained_fp32.get(
                    () if view is None else tuple(view.shape), []):
                if torch.equal(view, param.detach().to(view.dtype)):
                    return True
        return False

    components = {'vision encoder': model.vision_encoder,
                  'connector': model.connector, 'LLM': model.llm}
    # (the loss and the splicing run outside these: counted with the LLM)
    active = ['other']

    def enter(name):
        def hook(*_):
            active.append(name)
        return hook

    def leave(*_):
        active.pop()

    handles = []
    for name, module in components.items():
        handles.append(module.register_forward_pre_hook(enter(name)))
        handles.append(module.register_forward_hook(leave))
    saved: Dict[int, tuple] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in params and ptr not in saved:
            saved[ptr] = (active[-1], storage.nbytes(),
                          is_weight_copy(tensor))
        return tensor

    patch = cuda_like_kernels() if args.device == 'cpu' else \
        contextlib.nullcontext()
    with patch, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        losses = model(**data, mode='loss')
    del losses
    for handle in handles:
        handle.remove()
    measured: Dict[str, int] = {}
    for name, nbytes, is_copy in saved.values():
        key = 'weight copies' if is_copy else name
        measured[key] = measured.get(key, 0) + nbytes
    # The loss runs outside the LLM module: it joins the LLM's row.
    measured['LLM'] = measured.get('LLM', 0) + measured.pop('other', 0)
    rows = {r['name']: r for r in desc['estimate']['rows']}
    copies = estimate_memory.weight_copy_bytes(
        desc['arch'], desc['estimate']['rows'])
    estimate = {'weight copies': sum(copies.values())}
    for key, names in (('vision encoder', ['vision encoder']),
                       ('connector', ['connector']),
                       ('LLM', ['LLM (frozen base)', 'LoRA + token rows'])):
        estimate[key] = sum(rows[n]['act'] - copies.get(n, 0)
                            for n in names)
    lines = render_setting(args, run, desc, cfg) + [
        'bytes autograd keeps for backward (gradient checkpointing off'
        + (", the GPU's kernels emulated on the CPU" if args.device == 'cpu'
           else '') + '):',
        f"{'component':<18}{'measured MiB':>14}{'estimate MiB':>14}"
        f"{'difference':>12}"]
    for name in list(estimate) + [k for k in measured if k not in estimate]:
        got, want = measured.get(name, 0), estimate.get(name)
        diff = f'{100 * (want / got - 1):+.1f} %' if want and got else ''
        lines.append(f'{name:<18}{got / 2**20:>14.2f}'
                     f"{'' if want is None else f'{want / 2**20:.2f}':>14}"
                     f'{diff:>12}')
    print('\n'.join(lines))
    return dict(mode='probe', setting=run, measured=measured,
                estimate=estimate)


# ---------------------------------------------------------------- infer
def infer(args, cfg) -> dict:
    from benchmark_head_vs_text import time_paths
    from tpo.tasks.text_forms import (box_sequence_to_text, box_to_text,
                                      text_to_box_sequence, text_to_boxes,
                                      text_to_windows, windows_to_text)
    cfg.model.gradient_checkpointing = False
    meta = scale_model.build_model(plain(cfg.model), meta=True)
    run = setting(args, cfg, meta)
    visual = estimate_memory.visual_tokens(scale_model.arch_from_model(
        meta, run['frames'], run['text_len'], run['instruction_len']))
    del meta
    with torch.device(args.device):
        model = scale_model.build_model(plain(cfg.model))
    model.eval()
    tasks = {head.task for head in model.heads.values()}
    side = run['side']
    box = [0.2 * side, 0.25 * side, 0.6 * side, 0.7 * side]
    cases = []
    if 'region' in tasks:
        cases.append(('region', 'box', box_to_text(box, side, side),
                      lambda t: text_to_boxes(t, side, side)))
    if 'temporal' in tasks:
        cases.append(('temporal', 'window', windows_to_text([[8.0, 16.0]]),
                      text_to_windows))
    if 'mask' in tasks:
        track = [[c + 0.01 * side * i for c in box]
                 for i in range(run['frames'])]
        cases.append((
            'track', f"{run['frames']}-frame track",
            box_sequence_to_text(track, side, side),
            lambda t: text_to_box_sequence(t, side, side, run['frames'])))
    samples = scale_model.synthetic_samples(
        model, [task for task, *_ in cases] or ['chat'], run['frames'],
        side, min(run['text_len'], 64), run['instruction_len'])
    results = {}
    lines = [f'config: {args.config}' + weights_note(args),
             f"{run['frames']} frames {side}x{side}, question of "
             f"{run['instruction_len']} words, device {args.device}, "
             f'median (minimum) of {args.repeats} runs']
    host = host_load()
    for (task, label, text, parse), packed in zip(cases, samples):
        sample = packed['data_samples']
        sample.set_metainfo(dict(conversation=[
            dict(sample.conversation[0], answer='')]))
        timing = time_paths(model, packed['inputs'], sample, task, text,
                            parse, args.repeats, warmup=args.warmup,
                            device=args.device)
        results[label] = timing
        lines.append(
            f"{label:<16} head {timing['head_ms']:9.2f} ms "
            f"({timing['head_min_ms']:.2f})  text "
            f"{timing['text_ms']:9.2f} ms ({timing['text_min_ms']:.2f}, "
            f"{timing['text_tokens']} tokens + EOS)  ratio "
            f"{timing['ratio']:.1f}x ({timing['ratio_of_minima']:.1f}x)")
    first = first_token_latency(model, samples[0], visual, args.repeats,
                                args.warmup, args.device)
    lines.append(f"first token: {first['median_ms']:.2f} ms "
                 f"({first['min_ms']:.2f}; video encoding + prefill of "
                 f"{first['prompt_tokens']} tokens)")
    lines.append(host)
    print('\n'.join(lines))
    return dict(mode='infer', setting=run, paths=results, first_token=first,
                host=host,
                device=torch.cuda.get_device_name(0)
                if args.device.startswith('cuda') else 'CPU')


def first_token_latency(model, packed: dict, visual_tokens: int,
                        repeats: int, warmup: int, device: str) -> dict:
    """Preprocessing, video encoding, prompt splicing, the prefill and the
    choice of the first token of one request (``model.predict`` stopped
    after one token)."""
    sample = copy.deepcopy(packed['data_samples'])
    sample.set_metainfo(dict(conversation=[
        dict(sample.conversation[0], answer='')]))
    eos = model.tokenizer.eos_token_id

    def force_eos(step, logits):
        logits = logits.clone()
        logits[:, eos] = logits.max() + 1
        return logits

    times = []
    for i in range(repeats + warmup):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.no_grad():
            data = model.data_preprocessor(
                dict(inputs=[packed['inputs']],
                     data_samples=[copy.deepcopy(sample)]), False)
            model(**data, mode='predict', max_new_tokens=1,
                  logits_processor=force_eos)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    ids = model.prompt.encode_prompt(model.tokenizer, sample.conversation)
    return dict(median_ms=1000 * statistics.median(times),
                min_ms=1000 * min(times),
                prompt_tokens=len(ids) - 1 + visual_tokens)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args)
    if args.count_only:
        result = count_only(args, cfg)
    elif args.probe_activations:
        result = probe_activations(args, cfg)
    elif args.infer:
        result = infer(args, cfg)
    else:
        result = train(args, cfg)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2, default=str)
    return result


if __name__ == '__main__':
    main()
