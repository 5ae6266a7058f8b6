"""Build an mmengine Runner from a tpo config."""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.runner import Runner

from .checkpoint import resolve_checkpoint


def init_cpu_distributed(cfg: Config) -> None:
    """Distributed training without GPUs (gloo): mmengine's launcher would
    pin a CUDA device and wrap the model with ``device_ids=[rank]``, so the
    process group is started here and DDP gets no device ids."""
    if not dist.is_initialized():
        dist.init_process_group(
            'gloo', rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(type='MMDistributedDataParallel', device_ids=None,
                   broadcast_buffers=False)
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    cfg.model_wrapper_cfg = wrapper


def build_runner(cfg: Config) -> Runner:
    """``Runner.from_cfg`` after resolving ``load_from`` (a work dir stands
    for its last checkpoint, and a missing one fails before any work) and,
    for a ``pytorch`` (torchrun) launch on a machine without CUDA, starting
    gloo."""
    if cfg.get('load_from'):
        cfg.load_from = resolve_checkpoint(cfg.load_from)
    if cfg.get('launcher', 'none') == 'pytorch' and \
            not torch.cuda.is_available():
        init_cpu_distributed(cfg)
    return Runner.from_cfg(cfg)
