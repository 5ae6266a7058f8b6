"""Finding and reading checkpoints without running code from them.

:func:`load_checkpoint_file` reads a ``.safetensors`` file, a pickled
``.pth`` (weights-only, see :mod:`tpo.utils.safe_loading`) or a DeepSpeed
checkpoint folder. :func:`use_safe_checkpoints` makes mmengine's
``load_from`` / ``resume`` use the same readers (and what mmengine saves
readable by them); ``build_runner`` and the tools call it.
"""
import copyreg
import functools
import glob
import os.path as osp
from typing import Callable

from tpo.utils.safe_loading import torch_load, weights_only_loading


def is_deepspeed_checkpoint(path: str) -> bool:
    """Whether ``path`` is a checkpoint folder that DeepSpeed saved (what
    mmengine's DeepSpeedStrategy writes as ``work_dir/iter_N.pth/``)."""
    return osp.isdir(path) and bool(
        glob.glob(osp.join(path, '*model_states.pt')))


def zero_checkpoint_state_dict(path: str) -> dict:
    """The consolidated weights of a DeepSpeed ZeRO checkpoint folder, in
    the keys of the model's ``state_dict()`` (for a ``TPOModel``: every
    tensor but the frozen weights rebuilt from ``pretrained`` sources).

    Trainable parameters get their fp32 master weights, gathered from every
    rank's optimizer partition (DeepSpeed's ``zero_to_fp32``); frozen
    parameters and buffers the values the engine saved. Any number of ranks
    and ZeRO stage 1-3. DeepSpeed's readers run weights-only (a file holding
    anything but tensors and plain types is refused).
    """
    path = path.rstrip('/')
    if not is_deepspeed_checkpoint(path):
        raise FileNotFoundError(
            f'{path} is not a DeepSpeed checkpoint folder (no '
            '*model_states.pt in it)')
    from deepspeed.utils.zero_to_fp32 import \
        get_fp32_state_dict_from_zero_checkpoint
    model_file = sorted(glob.glob(osp.join(path, '*model_states.pt')))[0]
    module = torch_load(model_file, map_location='cpu')['module']
    with weights_only_loading(path):
        fp32 = get_fp32_state_dict_from_zero_checkpoint(
            osp.dirname(path), tag=osp.basename(path))
    state_dict = {}
    for key, value in module.items():
        if key in fp32 and value.is_floating_point():
            value = fp32[key]
        elif not value.numel() and key not in fp32:
            raise KeyError(f'{path}: no weights saved for {key}')
        state_dict[key] = value.detach().clone().contiguous()
    return state_dict


def load_checkpoint_file(filename: str, map_location=None) -> dict:
    """Load a local checkpoint without unpickling code: ``.safetensors``
    through safetensors, a DeepSpeed checkpoint folder as its consolidated
    weights, anything else with ``torch.load(weights_only=True)`` and the
    allow-list of :func:`tpo.utils.safe_loading.allowed_globals`."""
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        return zero_checkpoint_state_dict(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    if filename.endswith('.safetensors'):
        from safetensors.torch import load_file
        device = map_location if isinstance(map_location, str) else 'cpu'
        return load_file(filename, device=device)
    return torch_load(filename, map_location=map_location)


def _weights_only(loader: Callable) -> Callable:
    """``loader`` (one of mmengine's URL / storage schemes) with every
    ``torch.load`` in it weights-only."""

    @functools.wraps(loader)
    def load(filename, *args, **kwargs):
        with weights_only_loading(str(filename)):
            return loader(filename, *args, **kwargs)

    load.weights_only = True
    return load


def _reduce_history_buffer(buffer) -> tuple:
    """Pickle a ``HistoryBuffer`` as its constructor call on plain lists
    (its default pickle names its statistics functions through
    ``getattr``, which weights-only loading rightly refuses)."""
    return type(buffer), (buffer._log_history.tolist(),
                          buffer._count_history.tolist(), buffer.max_length)


def use_safe_checkpoints() -> None:
    """Make the checkpoints mmengine writes and reads safe to read.

    - Writing: the message hub's ``HistoryBuffer`` objects are pickled as a
      constructor call on plain lists (``copyreg``), which weights-only
      loading accepts.
    - Reading: every checkpoint mmengine reads (``load_from``, ``resume``,
      its ``load_checkpoint``; local paths, URLs, ``open-mmlab://`` ...)
      goes through weights-only loading: local paths through
      :func:`load_checkpoint_file` (which also reads DeepSpeed folders and
      ``.safetensors``), the other schemes inside
      :func:`~tpo.utils.safe_loading.weights_only_loading` (mmengine reads
      URLs with torch.hub, which unpickles anything by default).

    mmengine 0.10.7's own local loader calls ``torch.load`` without
    ``weights_only``, which torch >= 2.6 makes weights-only without the
    types mmengine itself saves (resume fails on ``HistoryBuffer``).
    Idempotent; called by :func:`tpo.engine.build_runner` and the tools
    that load checkpoints through mmengine.
    """
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader
    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if loader is load_checkpoint_file or getattr(loader, 'weights_only',
                                                     False):
            continue
        CheckpointLoader.register_scheme(
            prefixes=prefix,
            loader=load_checkpoint_file if prefix == '' else
            _weights_only(loader),
            force=True)


def resolve_checkpoint(path: str, key: str = 'load_from') -> str:
    """A checkpoint file (or DeepSpeed checkpoint folder), or the last
    checkpoint of a work dir; a URL (``https://...``, ``s3://...``) is
    returned as it is, for mmengine's loaders.

    Raises a :class:`FileNotFoundError` naming the config ``key`` when
    neither exists (e.g. the previous training stage has not been run).
    """
    def is_checkpoint(candidate: str) -> bool:
        return osp.isfile(candidate) or is_deepspeed_checkpoint(candidate)

    if is_checkpoint(path) or '://' in path:
        return path
    marker = osp.join(path, 'last_checkpoint')
    if osp.isdir(path) and osp.isfile(marker):
        with open(marker) as f:
            last = f.read().strip()
        if is_checkpoint(last):
            return last
        last = osp.join(path, osp.basename(last))
        if is_checkpoint(last):
            return last
    raise FileNotFoundError(
        f'{key}={path!r}: no checkpoint file, and no work dir with a '
        '`last_checkpoint` there. If it is the previous training stage, '
        'train that stage first (or point the config at its checkpoint).')
