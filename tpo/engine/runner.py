"""Build an mmengine Runner from a tpo config."""
import os
from typing import Union

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.runner import FlexibleRunner, Runner

from .checkpoint import resolve_checkpoint, use_safe_checkpoints
from .global_batch import fit_global_batch


def init_cpu_distributed(cfg: Config) -> None:
    """Distributed training without GPUs (gloo): mmengine's launcher would
    pin a CUDA device and wrap the model with ``device_ids=[rank]``, so the
    process group is started here and DDP gets no device ids (a config with
    a ``strategy`` keeps its own wrapper)."""
    if not dist.is_initialized():
        dist.init_process_group(
            'gloo', rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    if cfg.get('strategy'):
        return
    wrapper = dict(type='MMDistributedDataParallel', device_ids=None,
                   broadcast_buffers=False)
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    cfg.model_wrapper_cfg = wrapper


def build_runner(cfg: Config) -> Union[Runner, FlexibleRunner]:
    """``Runner.from_cfg`` after resolving ``load_from`` (a work dir stands
    for its last checkpoint, and a missing one fails before any work) and,
    for a ``pytorch`` (torchrun) launch on a machine without CUDA, starting
    gloo.

    A config with a ``strategy`` (DeepSpeed ZeRO or FSDP, see
    ``configs/_base_/strategies/``) gets mmengine's ``FlexibleRunner``
    instead, with the config fitted to the strategy by
    :func:`tpo.engine.strategies.configure_strategy` (which checks a
    DeepSpeed config against the batch size and accumulation).

    Checkpoints that mmengine reads (``load_from``, ``resume``) are read
    weights-only (:func:`~tpo.engine.use_safe_checkpoints`).

    The run's global batch (processes x batch size x accumulation) is
    compared with the recipe's ``global_batch_size`` and logged once when
    they differ; ``auto_scale_lr`` scales the learning rates by that ratio,
    accumulation included (:func:`~tpo.engine.global_batch.
    fit_global_batch`).
    """
    use_safe_checkpoints()
    global_batch = fit_global_batch(cfg)
    if cfg.get('load_from'):
        cfg.load_from = resolve_checkpoint(cfg.load_from)
    on_gpu = torch.cuda.is_available()
    if cfg.get('launcher', 'none') == 'pytorch' and not on_gpu:
        init_cpu_distributed(cfg)
    if cfg.get('strategy'):
        from .strategies import configure_strategy
        configure_strategy(cfg, on_gpu)
        runner = FlexibleRunner.from_cfg(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    message = global_batch.message()
    if message:
        runner.logger.warning(message)
    return runner
