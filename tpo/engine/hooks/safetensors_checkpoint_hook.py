"""Write a ``.safetensors`` copy of the model weights next to every
checkpoint that mmengine's :class:`~mmengine.hooks.CheckpointHook` saves."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper

from tpo.registry import HOOKS

PRODUCER = 'SafetensorsCheckpointHook'
METADATA_KEY = 'tpo'


def safetensors_state_dict(state_dict: dict) -> Tuple[Dict[str, torch.Tensor],
                                                       List[str]]:
    """Tensors of ``state_dict`` as safetensors accepts them: detached,
    contiguous, on the CPU, and no two sharing memory (a tied weight is
    stored under each of its names, as a copy).

    Returns the tensors and the names of the entries that are not plain
    tensors (skipped).
    """
    tensors, skipped, storages = {}, [], set()
    for name, value in state_dict.items():
        if not isinstance(value, torch.Tensor) or \
                type(value) not in (torch.Tensor, torch.nn.Parameter):
            # e.g. `_extra_state` objects, or sharded (DTensor/ShardedTensor)
            # values of an FSDP local state dict.
            skipped.append(str(name))
            continue
        tensor = value.detach()
        if tensor.device.type != 'cpu':
            tensor = tensor.cpu()
        tensor = tensor.contiguous()
        if tensor.numel():
            ptr = tensor.untyped_storage().data_ptr()
            if ptr in storages:
                tensor = tensor.clone()
            else:
                storages.add(ptr)
        tensors[str(name)] = tensor
    return tensors, skipped


def save_safetensors(state_dict: dict, filename: str,
                     metadata: Optional[dict] = None) -> List[str]:
    """Save ``state_dict`` to ``filename`` (written to a temporary file and
    renamed, so a reader never sees half a file). ``metadata`` is stored as
    JSON under the ``'tpo'`` key of the safetensors header. Returns the
    names of the skipped non-tensor entries."""
    from safetensors.torch import save_file
    tensors, skipped = safetensors_state_dict(state_dict)
    header = {'format': 'pt'}
    if metadata is not None:
        header[METADATA_KEY] = json.dumps(metadata, sort_keys=True)
    tmp = f'{filename}.tmp'
    save_file(tensors, tmp, metadata=header)
    os.replace(tmp, filename)
    return skipped


def read_metadata(filename: str) -> dict:
    """The JSON metadata that :func:`save_safetensors` stored (``{}`` when
    the file has none)."""
    from safetensors import safe_open
    with safe_open(filename, framework='pt') as f:
        header = f.metadata() or {}
    try:
        return json.loads(header.get(METADATA_KEY, '{}'))
    except json.JSONDecodeError:
        return {}


@HOOKS.register_module()
class SafetensorsCheckpointHook(Hook):
    """After each checkpoint of ``CheckpointHook`` (periodic, last or best),
    write the model's state dict as ``<checkpoint stem>.safetensors`` in the
    same folder, e.g. ``work_dir/iter_500.pth`` ->
    ``work_dir/iter_500.safetensors``.

    The file holds what ``model.state_dict()`` holds (model wrappers
    unwrapped), so ``load_from='.../iter_500.safetensors'`` restores the
    same weights as the ``.pth``; no optimizer state, no pickle. Its header
    carries JSON metadata under the ``'tpo'`` key: iteration, epoch, step,
    config file name, checkpoint file name, producer.

    mmengine has no ``after_save_checkpoint`` stage, so this hook runs at
    the ``LOWEST`` priority, after ``CheckpointHook`` (``VERY_LOW``), in the
    stages where that hook saves (``after_train_iter``,
    ``after_train_epoch``, ``after_val_epoch``) and exports the checkpoints
    that hook has saved since the last look. The weights are the ones
    handed to ``before_save_checkpoint`` when the runner/strategy passes the
    checkpoint there (Runner, DDP, FSDP), otherwise (DeepSpeed) gathered
    from the model.

    Files are pruned like the ``.pth`` files: an exported file whose
    checkpoint was removed is removed, and at most ``max_keep_ckpts``
    periodic files are kept (default: ``CheckpointHook``'s).

    Limits:
        - Local folders only: a checkpoint ``out_dir`` on a remote backend
          (``s3://`` ...) is not exported (a warning is logged once).
        - DeepSpeed: ZeRO-1/2 use the engine's module state dict; ZeRO-3
          gathers the 16-bit weights on rank 0 (a collective every rank
          runs), which needs host memory for the full model on rank 0.
        - FSDP: exported only with a full state dict
          (``state_dict_cfg='full'``); with a local/sharded state dict the
          hook logs a warning and writes nothing.
        - A failure while writing is logged as a warning and does not stop
          training (the ``.pth`` is the checkpoint of record).

    Args:
        max_keep_ckpts: periodic files to keep; None follows
            ``CheckpointHook.max_keep_ckpts``, <= 0 keeps all.
    """

    priority = 'LOWEST'

    def __init__(self, max_keep_ckpts: Optional[int] = None) -> None:
        self.max_keep_ckpts = max_keep_ckpts
        self._seen: Dict[str, str] = {}
        self._captured: Optional[dict] = None
        self._captured_meta: dict = {}
        self._warned = set()

    # ------------------------------------------------------------ stages
    def before_train(self, runner) -> None:
        # Checkpoints that exist already (a resumed run) are not exported.
        self._seen = self._checkpoints(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state_dict = checkpoint.get('state_dict')
        self._captured = state_dict if isinstance(state_dict, dict) else None
        meta = checkpoint.get('meta') or {}
        self._captured_meta = {
            k: meta[k]
            for k in ('iter', 'epoch') if isinstance(meta.get(k), int)
        }

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._export_new(runner, dict(iter=runner.iter + 1,
                                      epoch=runner.epoch))

    def after_train_epoch(self, runner) -> None:
        self._export_new(runner, dict(iter=runner.iter,
                                      epoch=runner.epoch + 1))

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._export_new(runner, dict(iter=runner.iter, epoch=runner.epoch))

    # ------------------------------------------------------------ helpers
    def _warn_once(self, runner, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            runner.logger.warning(f'{PRODUCER}: {message}')

    @staticmethod
    def _checkpoint_hook(runner) -> Optional[CheckpointHook]:
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook):
                return hook
        return None

    def _checkpoints(self, runner) -> Dict[str, str]:
        """``{slot: path}`` of the checkpoints ``CheckpointHook`` knows."""
        hook = self._checkpoint_hook(runner)
        if hook is None:
            return {}
        paths = {
            'last': getattr(hook, 'last_ckpt', None),
            'best': getattr(hook, 'best_ckpt_path', None)
        }
        for key, path in (getattr(hook, 'best_ckpt_path_dict', None)
                          or {}).items():
            paths[f'best_{key}'] = path
        return {k: str(v) for k, v in paths.items() if v}

    def _gather_state_dict(self, runner) -> Optional[dict]:
        """The full state dict of the unwrapped model. Every rank calls
        this (ZeRO-3 and FSDP gather collectively); non-zero ranks may get
        an empty dict."""
        model = runner.model
        if type(model).__name__ == 'MMDeepSpeedEngineWrapper':
            engine = model.model
            if engine.zero_optimization_partition_weights():
                return engine._zero3_consolidated_16bit_state_dict()
            return engine.module_state_dict()
        strategy = getattr(runner, 'strategy', None)
        if strategy is not None:
            is_full = getattr(strategy, '_is_full_state_dict', None)
            if is_full is not None and not is_full():
                return None
            return strategy.model_state_dict()
        if is_model_wrapper(model):
            model = model.module
        return model.state_dict()

    def _export_new(self, runner, stage_meta: dict) -> None:
        current = self._checkpoints(runner)
        new = [(slot, path) for slot, path in current.items()
               if self._seen.get(slot) != path]
        self._seen = current
        captured, self._captured = self._captured, None
        meta, self._captured_meta = (self._captured_meta
                                     or stage_meta), {}
        if not new:
            return
        state_dict = captured if captured is not None else \
            self._gather_state_dict(runner)
        if state_dict is None:
            self._warn_once(
                runner, 'sharded', 'the strategy does not give a full state '
                'dict (e.g. FSDP with a local/sharded state_dict_cfg); no '
                '.safetensors is written.')
            return
        if not is_main_process():
            return
        if state_dict and all(k.startswith('module.') for k in state_dict):
            # A strategy's DDP-wrapped model (what mmengine's loader strips).
            state_dict = {k[len('module.'):]: v for k, v in state_dict.items()}
        hook = self._checkpoint_hook(runner)
        for slot, path in new:
            if '://' in path:
                self._warn_once(
                    runner, 'remote', f'{path} is not a local path; '
                    '.safetensors copies are only written to local folders.')
                continue
            try:
                self._write(runner, state_dict, path, slot, meta, hook)
            except Exception as error:  # noqa: BLE001 (never stop training)
                runner.logger.warning(
                    f'{PRODUCER}: could not write the .safetensors copy of '
                    f'{path}: {error!r}')
        try:
            self._prune(runner, osp.dirname(new[0][1]), hook)
        except Exception as error:  # noqa: BLE001
            runner.logger.warning(f'{PRODUCER}: pruning failed: {error!r}')

    def _write(self, runner, state_dict: dict, path: str, slot: str,
               meta: dict, hook: CheckpointHook) -> None:
        filename = osp.splitext(path.rstrip('/'))[0] + '.safetensors'
        by_epoch = bool(getattr(hook, 'by_epoch', False))
        step = meta.get('epoch' if by_epoch else 'iter')
        config = getattr(runner.cfg, 'filename', None)
        metadata = dict(
            producer=PRODUCER,
            kind='best' if slot.startswith('best') else 'last',
            iter=meta.get('iter'),
            epoch=meta.get('epoch'),
            step=step,
            checkpoint=osp.basename(path.rstrip('/')),
            config=osp.basename(config) if config else None,
            experiment_name=getattr(runner, 'experiment_name', None))
        skipped = save_safetensors(state_dict, filename, metadata)
        if skipped:
            more = ' ...' if len(skipped) > 5 else ''
            self._warn_once(
                runner, 'skipped', 'entries that are not plain tensors are '
                f'not written: {skipped[:5]}{more}')
        runner.logger.info(f'Saved the weights to {filename}')

    def _prune(self, runner, directory: str,
               hook: Optional[CheckpointHook]) -> None:
        """Remove our files whose checkpoint is gone, then the oldest
        periodic files beyond ``max_keep_ckpts``."""
        periodic = []
        for name in sorted(os.listdir(directory)):
            if not name.endswith('.safetensors'):
                continue
            filename = osp.join(directory, name)
            meta = read_metadata(filename)
            if meta.get('producer') != PRODUCER:
                continue  # not ours (e.g. a file the user put there)
            checkpoint = osp.join(directory, meta.get('checkpoint') or '')
            if not meta.get('checkpoint') or not osp.exists(checkpoint):
                os.remove(filename)
                continue
            if meta.get('kind') != 'best':
                step = meta.get('step')
                periodic.append((step if isinstance(step, int) else -1,
                                 osp.getmtime(filename), filename))
        max_keep = self.max_keep_ckpts
        if max_keep is None:
            max_keep = getattr(hook, 'max_keep_ckpts', -1)
        if max_keep is not None and max_keep > 0 and \
                len(periodic) > max_keep:
            for *_, filename in sorted(periodic)[:len(periodic) - max_keep]:
                os.remove(filename)
