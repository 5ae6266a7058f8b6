"""DeepSpeed ZeRO and FSDP through mmengine's ``FlexibleRunner``.

A config selects a strategy with ``strategy = dict(...)`` (see
``configs/_base_/strategies/``); :func:`configure_strategy` then fits the
rest of the config to it at launch, so that the per-module learning rates
and the freezing of :class:`TPOOptimWrapperConstructor` are kept:

- DeepSpeed gets the optimizer that the constructor built (its merged
  parameter groups, frozen parameters left out) as a client optimizer; a
  DeepSpeed json with an ``optimizer`` or ``scheduler`` section (which would
  replace it) is refused. Gradient accumulation, clipping and bf16
  autocast move from ``optim_wrapper`` into the DeepSpeed config, whose
  batch fields are filled from the config or checked against it.
- FSDP wraps with ``use_orig_params=True`` (the groups then hold the
  original parameters) and a full state dict (``load_from`` and
  ``SafetensorsCheckpointHook`` see ``TPOModel`` keys).
"""
import copy
import json
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict

from tpo.registry import STRATEGIES
from tpo.utils.safe_loading import weights_only_loading

from .checkpoint import use_safe_checkpoints
from .global_batch import world_size
from .optimizers.tpo_optim_wrapper import NONFINITE_KEYS

try:
    from mmengine._strategy import DeepSpeedStrategy
except ImportError:  # deepspeed is not installed
    DeepSpeedStrategy = None
from mmengine._strategy import FSDPStrategy

# DeepSpeedStrategy keyword arguments that are entries of the DeepSpeed
# config (mmengine copies them into it).
_DS_CONFIG_KWARGS = ('zero_optimization', 'gradient_clipping', 'fp16',
                     'bf16', 'amp', 'activation_checkpointing', 'aio',
                     'train_micro_batch_size_per_gpu',
                     'gradient_accumulation_steps')
_DEEPSPEED_TYPES = ('DeepSpeedStrategy', 'TPODeepSpeedStrategy',
                    'tpo.TPODeepSpeedStrategy')
_FSDP_TYPES = ('FSDPStrategy', 'TPOFSDPStrategy', 'tpo.TPOFSDPStrategy')
_BF16 = ('bfloat16', torch.bfloat16)


def _type_name(strategy: dict) -> str:
    kind = strategy.get('type')
    return kind if isinstance(kind, str) else getattr(kind, '__name__', '')


if DeepSpeedStrategy is not None:

    @STRATEGIES.register_module()
    class TPODeepSpeedStrategy(DeepSpeedStrategy):
        """mmengine's :class:`DeepSpeedStrategy` that loads ``load_from``
        into the model before ``deepspeed.initialize``.

        DeepSpeed copies the weights into its flat (ZeRO-1/2) or partitioned
        (ZeRO-3) buffers and fp32 master copies when it initializes, so a
        checkpoint loaded into the module afterwards would be overwritten by
        the first step; mmengine's own ``load_checkpoint`` only reads
        DeepSpeed folders. ``load_from`` may be a ``.pth``, a
        ``.safetensors`` or a DeepSpeed checkpoint folder (consolidated by
        :func:`~tpo.engine.checkpoint.zero_checkpoint_state_dict`).
        :func:`configure_strategy` moves the config's ``load_from`` here.

        Checkpoints are read weights-only: DeepSpeed's own readers (resume,
        ``load_checkpoint``) pass ``weights_only=False``, so they run inside
        :func:`~tpo.utils.safe_loading.weights_only_loading`.

        Gradients that are not finite skip the optimizer step (DeepSpeed's
        own overflow check, which it runs under fp16 and ZeRO-3, is turned
        on for ZeRO-1/2 in fp32 / autocast too, where DeepSpeed would apply
        them).

        Under ZeRO-3 a ``TPOModel`` runs a task head (and its submodules)
        only on the ranks whose batch holds that head's task, while ZeRO-3
        gathers partitioned weights and checks its trace of module calls
        with collectives, which then wait on each other (the run hangs).
        Here (stage 3 only) DeepSpeed's module hooks are taken off the
        heads, whose weights (and those of ``task_tokens``) must then be
        persistent (whole on every rank, under
        ``stage3_param_persistence_threshold``; checked at launch) and are
        gathered on every rank before each forward pass where ZeRO-3 left
        them partitioned; and DeepSpeed's trace of module calls is dropped
        before each forward pass, so that every rank gathers the weights of
        the other modules (which run the same on every rank) when it uses
        them. This gives up ZeRO-3's prefetching of the next modules'
        weights (their gathers do not overlap computation).

        Args:
            load_from: checkpoint to start from (not a resume).
            **kwargs: arguments of :class:`DeepSpeedStrategy`.
        """

        def __init__(self, *, load_from: Optional[str] = None, **kwargs):
            super().__init__(**kwargs)
            self.load_from = load_from

        def _wrap_model(self, model: nn.Module):
            if self.load_from:
                from mmengine.runner.checkpoint import load_checkpoint
                use_safe_checkpoints()
                self.logger.info(f'Load checkpoint from {self.load_from}')
                load_checkpoint(model, self.load_from, map_location='cpu',
                                strict=False, logger=self.logger)
            engine = super()._wrap_model(model)
            if hasattr(engine.optimizer, 'check_grad_overflow'):
                engine.optimizer.check_grad_overflow = True
            zero = self.config.get('zero_optimization') or {}
            if zero.get('stage') == 3 and hasattr(model, 'heads') and \
                    hasattr(engine.optimizer, 'parameter_offload'):
                _run_heads_per_rank(engine, model, zero)
            return engine

        def load_checkpoint(self, filename: str, **kwargs) -> dict:
            with weights_only_loading(filename):
                return super().load_checkpoint(filename, **kwargs)

        def resume(self, filename: str, **kwargs) -> dict:
            with weights_only_loading(filename):
                return super().resume(filename, **kwargs)


def _run_heads_per_rank(engine, model: nn.Module, zero: dict) -> None:
    """Let the ranks of a ZeRO-3 ``engine`` run different heads (see
    :class:`TPODeepSpeedStrategy`); a :class:`ValueError` naming the
    threshold to set when a head weight is partitioned. Relies on DeepSpeed
    0.19's ZeRO-3 internals (hook handles, trace coordinator)."""
    params = [(f'{name}.{key}', param)
              for name in ('heads', 'task_tokens') if hasattr(model, name)
              for key, param in getattr(model, name).named_parameters()]
    partitioned = [(key, p.ds_numel) for key, p in params
                   if not getattr(p, 'ds_persist', True)]
    if partitioned:
        raise ValueError(
            f'DeepSpeed ZeRO-3 partitions {len(partitioned)} weight(s) of '
            f'the task heads, e.g. {partitioned[0][0]} '
            f'({partitioned[0][1]} elements), but a head runs only on the '
            'ranks whose batch holds its task and cannot gather them. Set '
            'strategy.zero_optimization.stage3_param_persistence_threshold '
            f'to at least {max(n for _, n in partitioned)} (now '
            f"{zero.get('stage3_param_persistence_threshold', 'default')}) "
            'and leave stage3_model_persistence_threshold unset.')
    # No ZeRO-3 module hooks inside the heads: they would gather and
    # release weights and extend DeepSpeed's trace of module calls on this
    # rank only. (Each parameter keeps its gradient-reduction hook.)
    offload = engine.optimizer.parameter_offload
    head_dicts = {id(d) for m in model.heads.modules()
                  for d in (m._forward_pre_hooks, m._forward_hooks)}
    for handle in offload.forward_hooks + offload.backward_hooks:
        hooks = handle.hooks_dict_ref()
        if hooks is not None and id(hooks) in head_dicts:
            handle.remove()
    from deepspeed.runtime.zero.partition_parameters import ZeroParamStatus
    weights = [p for _, p in params]
    coordinator = offload.get_param_coordinator()

    def before_forward(module, args):
        # Head weights are partitioned at initialization and by every
        # GatheredParameters exit (e.g. a checkpoint's 16-bit copy), the
        # same on every rank: gather them on every rank alike.
        partitioned = [p for p in weights
                       if p.ds_status == ZeroParamStatus.NOT_AVAILABLE]
        if partitioned:
            partitioned[0].all_gather(partitioned)
        # DeepSpeed checks its recorded module order across ranks only on
        # the ranks where it changed (a collective the others skip: the
        # hang), and the backward order changes with the heads a batch
        # reaches; without a trace every rank takes the same path.
        if not coordinator.is_invalid_trace():
            coordinator._invalidate_trace()

    # Before DeepSpeed's own pre-hook, which checks the trace.
    model.register_forward_pre_hook(before_forward, prepend=True)


@STRATEGIES.register_module()
class TPOFSDPStrategy(FSDPStrategy):
    """mmengine's :class:`FSDPStrategy` whose gradient clipping by norm
    (``optim_wrapper.clip_grad``) clips by the norm of the whole model.

    mmengine's optimizer wrapper computes the norm over the gradients it
    holds, which under FSDP are this rank's shard only: every rank would clip
    by a different, partial norm. Here the root FSDP module's
    ``clip_grad_norm_`` (a collective over all shards) is used instead, and
    its norm is logged as ``grad_norm``.
    """

    def build_optim_wrapper(self, optim_wrapper, model=None):
        wrapper = super().build_optim_wrapper(optim_wrapper, model)
        if getattr(wrapper, 'clip_func', None) is \
                torch.nn.utils.clip_grad_norm_:
            fsdp_model, kwargs = self.model, dict(wrapper.clip_grad_kwargs)

            def clip_whole_model() -> None:
                norm = fsdp_model.clip_grad_norm_(**kwargs)
                wrapper.message_hub.update_scalar('train/grad_norm',
                                                  float(norm))

            wrapper._clip_grad = clip_whole_model
        return wrapper


def _deepspeed_json(strategy: ConfigDict) -> Tuple[dict, str]:
    """The DeepSpeed config of ``strategy``: its ``config`` (a json path or
    a dict) updated by the keyword arguments that are config entries."""
    source = strategy.pop('config', None)
    if isinstance(source, str):
        if not osp.isfile(source):
            raise FileNotFoundError(
                f'strategy.config={source!r}: no such DeepSpeed json')
        with open(source) as f:
            config, where = json.load(f), f'DeepSpeed config {source}'
    else:
        config = copy.deepcopy(dict(source or {}))
        where = 'strategy.config'
    config = Config(config).to_dict()
    for key in _DS_CONFIG_KWARGS:
        value = strategy.pop(key, None)
        if value is not None:
            config[key] = value.to_dict() if isinstance(
                value, ConfigDict) else value
    return config, where


def _fill_or_check(config: dict, key: str, value, where: str,
                   source: str, fix: str) -> None:
    if key not in config or config[key] in (None, 'auto'):
        config[key] = value
    elif config[key] != value:
        raise ValueError(
            f'{where}: {key}={config[key]!r} but {source}={value!r}. {fix}')


def configure_deepspeed(cfg: Config) -> None:
    """Fit ``cfg`` to its DeepSpeed ``strategy`` (in place).

    - ``train_micro_batch_size_per_gpu`` = ``train_dataloader.batch_size``,
      ``gradient_accumulation_steps`` = ``optim_wrapper.accumulative_counts``
      (1 when absent), ``train_batch_size`` = their product x world size:
      filled when absent, a :class:`ValueError` naming both sides when the
      DeepSpeed config says otherwise;
    - ``optim_wrapper.clip_grad.max_norm`` -> ``gradient_clipping``;
    - ``AmpOptimWrapper`` with ``dtype='bfloat16'`` -> DeepSpeed
      ``torch_autocast`` (bf16): fp32 weights and optimizer, bf16 compute and
      gradient communication, as mmengine's AMP but under ZeRO (with
      ``model.amp_dtype`` required). DeepSpeed's ``bf16`` / ``fp16``
      sections, which cast every weight, are refused: the model's heads and
      losses run in float32;
    - ``optim_wrapper`` becomes a ``DeepSpeedOptimWrapper`` built by the
      same constructor (per-module rates and freezing kept);
    - ``load_from`` (not a resume) moves to the strategy, which loads it
      before DeepSpeed initializes.
    """
    strategy = cfg.strategy
    # FlexibleRunner builds its strategy before it sets the default scope.
    strategy.type = 'tpo.TPODeepSpeedStrategy'
    config, where = _deepspeed_json(strategy)
    for section in ('optimizer', 'scheduler'):
        if section in config:
            raise ValueError(
                f'{where}: {section!r} section: DeepSpeed would build its '
                f'own {section} and drop the per-module learning rates '
                'and freezing of optim_wrapper / param_scheduler. Remove '
                f'it; the optimizer comes from optim_wrapper.optimizer and '
                'the schedule from param_scheduler.')

    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    if kind not in ('OptimWrapper', 'TPOOptimWrapper', 'AmpOptimWrapper',
                    'DeepSpeedOptimWrapper'):
        raise ValueError(
            f'optim_wrapper.type={kind!r} cannot run under DeepSpeed, which '
            'does accumulation, clipping and mixed precision itself: use '
            'OptimWrapper or AmpOptimWrapper (converted at launch).')
    batch_size = cfg.train_dataloader.batch_size
    accumulation = wrapper.pop('accumulative_counts', 1)
    world = world_size()
    _fill_or_check(
        config, 'train_micro_batch_size_per_gpu', batch_size, where,
        'train_dataloader.batch_size',
        'Each process loads train_dataloader.batch_size samples per step: '
        'set the two equal, or remove train_micro_batch_size_per_gpu from '
        'the DeepSpeed config to have it filled in.')
    _fill_or_check(
        config, 'gradient_accumulation_steps', accumulation, where,
        'optim_wrapper.accumulative_counts',
        'Set optim_wrapper.accumulative_counts to the number of steps to '
        'accumulate, or remove gradient_accumulation_steps from the '
        'DeepSpeed config to have it filled in.')
    _fill_or_check(
        config, 'train_batch_size', world * batch_size * accumulation, where,
        f'processes ({world}) x train_dataloader.batch_size ({batch_size}) x '
        f'optim_wrapper.accumulative_counts ({accumulation})',
        'Change the batch size or accumulation of the config (or the number '
        'of processes) to give that total, or remove train_batch_size from '
        'the DeepSpeed config to have it computed.')

    clip = wrapper.pop('clip_grad', None)
    if clip is not None:
        clip = dict(clip)
        if clip.get('type', 'norm') != 'norm' or \
                float(clip.get('norm_type', 2)) != 2.0:
            raise ValueError(
                f'optim_wrapper.clip_grad={clip}: DeepSpeed clips by the '
                'global L2 norm only; use clip_grad=dict(max_norm=...).')
        _fill_or_check(
            config, 'gradient_clipping', float(clip['max_norm']), where,
            'optim_wrapper.clip_grad.max_norm',
            'Set the two equal or remove one of them.')

    dtype = wrapper.pop('dtype', None)
    wrapper.pop('loss_scale', None)
    for section in ('bf16', 'fp16'):
        if config.get(section, {}).get('enabled'):
            raise ValueError(
                f'{where}: {section} casts every weight to 16 bits, but '
                'TPOModel keeps its heads and losses in float32 '
                '(RuntimeError: mat1 and mat2 must have the same dtype). '
                'Remove the section '
                "and use optim_wrapper=dict(type='AmpOptimWrapper', "
                "dtype='bfloat16'): fp32 weights, bf16 autocast.")
    if kind == 'AmpOptimWrapper':
        if dtype not in _BF16:
            raise ValueError(
                f'optim_wrapper: AmpOptimWrapper with dtype={dtype!r}; under '
                "DeepSpeed use dtype='bfloat16'.")
        if not cfg.model.get('amp_dtype'):
            raise ValueError(
                'optim_wrapper asks for bfloat16 but model.amp_dtype is not '
                "set: set model.amp_dtype='bfloat16' (the model keeps its "
                'heads and losses in float32 inside the autocast region).')
        config.setdefault('torch_autocast',
                          {'enabled': True, 'dtype': 'bfloat16'})

    # DeepSpeed skips steps with non-finite gradients itself (see
    # TPODeepSpeedStrategy): the OptimWrapper check has no role there.
    for key in NONFINITE_KEYS:
        wrapper.pop(key, None)
    optim = dict(type='DeepSpeedOptimWrapper')
    for key in ('constructor', 'optimizer', 'paramwise_cfg'):
        if key in wrapper:
            optim[key] = wrapper[key]
    unknown = set(wrapper) - set(optim) - {'type'}
    if unknown:
        raise ValueError(
            f'optim_wrapper keys {sorted(unknown)} have no DeepSpeed '
            'equivalent: remove them or set them in the DeepSpeed config.')
    cfg.optim_wrapper = optim
    strategy.config = config
    if cfg.get('load_from') and not cfg.get('resume'):
        strategy.load_from, cfg.load_from = cfg.load_from, None


def configure_fsdp(cfg: Config, on_gpu: bool) -> None:
    """Fit ``cfg`` to its FSDP ``strategy`` (in place): it becomes a
    :class:`TPOFSDPStrategy` (gradient clipping over all shards); the
    wrapper keeps the original parameters (``use_orig_params=True``, needed
    for the per-module groups and for frozen and trainable parameters
    sharing a unit) and the checkpoints hold full state dicts; on CPUs the
    wrapper gets ``device_id='cpu'``."""
    strategy = cfg.strategy
    strategy.type = 'tpo.TPOFSDPStrategy'
    clip = cfg.optim_wrapper.get('clip_grad')
    if clip is not None and clip.get('type', 'norm') == 'norm' and \
            set(clip) - {'type', 'max_norm', 'norm_type'}:
        raise ValueError(
            f'optim_wrapper.clip_grad={dict(clip)}: under FSDP the norm is '
            'clipped by FSDP.clip_grad_norm_, which takes max_norm and '
            'norm_type only.')
    wrapper = dict(type='MMFullyShardedDataParallel', use_orig_params=True)
    if not on_gpu:
        # torch's FSDP refuses a CPU-only machine unless told the device.
        wrapper['device_id'] = 'cpu'
    wrapper.update(strategy.get('model_wrapper') or {})
    if not wrapper.get('use_orig_params'):
        raise ValueError(
            'strategy.model_wrapper.use_orig_params=False flattens the '
            'parameters, which drops the per-module learning rates and '
            'freezing of TPOOptimWrapperConstructor: leave it True.')
    strategy.model_wrapper = wrapper
    strategy.setdefault('state_dict_cfg', 'full')
    if strategy.state_dict_cfg == 'full' and not on_gpu:
        # 'full' offloads to the CPU, which on a CPU-only machine frees the
        # gathered weights before they are copied (torch 2.13: SIGSEGV in
        # FSDP's state_dict post hook); gather without offloading instead.
        strategy.state_dict_cfg = dict(
            state_dict_type='FULL_STATE_DICT',
            state_dict_config=dict(type='FullStateDictConfig',
                                   rank0_only=True, offload_to_cpu=False),
            optim_state_dict_config=dict(type='FullOptimStateDictConfig',
                                         rank0_only=True,
                                         offload_to_cpu=False))
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and not on_gpu:
        raise ValueError(
            'optim_wrapper: AmpOptimWrapper needs a GPU; on a CPU use '
            "type='OptimWrapper' (model.amp_dtype gives bf16 autocast).")


def configure_strategy(cfg: Config, on_gpu: bool) -> None:
    """Fit ``cfg`` to its ``strategy`` (DeepSpeed or FSDP), in place."""
    kind = _type_name(cfg.strategy)
    if kind in _DEEPSPEED_TYPES:
        if DeepSpeedStrategy is None:
            raise ImportError(
                'strategy: DeepSpeed is not installed (pip install '
                'deepspeed==0.19.6)')
        configure_deepspeed(cfg)
        zero = cfg.strategy.config.get('zero_optimization') or {}
        if not on_gpu and zero.get('stage') == 3:
            # DeepSpeed's coalesced all-gather of a list of parameters (used
            # by GatheredParameters and after every step) now and then gave
            # corrupted weights on CPU (gloo): NaN or wrong losses.
            zero.setdefault('allgather_sequential', True)
    elif kind in _FSDP_TYPES:
        configure_fsdp(cfg, on_gpu)
