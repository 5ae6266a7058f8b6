"""Checkpoint paths and a ``weights_only`` loader for mmengine checkpoints."""
import copyreg
import glob
import os.path as osp

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader



def _reduce_history_buffer(buffer: HistoryBuffer) -> tuple:
    """Pickle a HistoryBuffer as its constructor call on plain lists, not as
    an object dict holding bound methods (which ``weights_only`` refuses)."""
    return HistoryBuffer, (buffer._log_history.tolist(),
                           buffer._count_history.tolist(), buffer.max_length)


copyreg.pickle(HistoryBuffer, _reduce_history_buffer)

# What mmengine writes into a checkpoint besides tensors: the message hub's
# history buffers and numpy scalars. Allowing these few types keeps
# ``weights_only=True`` (no arbitrary code from a pickle) while letting
# mmengine 0.10.7 resume on torch >= 2.6.
_SAFE_GLOBALS = [
    HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
    np.core.multiarray.scalar
] + [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32,
                                 np.bool_)]


def is_deepspeed_checkpoint(path: str) -> bool:
    """Whether ``path`` is a checkpoint folder that DeepSpeed saved (what
    mmengine's DeepSpeedStrategy writes as ``work_dir/iter_N.pth/``)."""
    return osp.isdir(path) and bool(
        glob.glob(osp.join(path, '*model_states.pt')))


def load_checkpoint_file(filename: str, map_location=None) -> dict:
    """Load a local checkpoint without unpickling arbitrary objects:
    ``.safetensors`` through safetensors, a DeepSpeed checkpoint folder as
    its consolidated weights (DeepSpeed's own pickles), anything else with
    ``torch.load(weights_only=True)``."""
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        from .strategies import zero_checkpoint_state_dict
        return zero_checkpoint_state_dict(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    if filename.endswith('.safetensors'):
        from safetensors.torch import load_file
        device = map_location if isinstance(map_location, str) else 'cpu'
        return load_file(filename, device=device)
    with torch.serialization.safe_globals(_SAFE_GLOBALS):
        return torch.load(
            filename, map_location=map_location, weights_only=True)


CheckpointLoader.register_scheme(
    prefixes='', loader=load_checkpoint_file, force=True)


def resolve_checkpoint(path: str, key: str = 'load_from') -> str:
    """A checkpoint file (or DeepSpeed checkpoint folder), or the last
    checkpoint of a work dir.

    Raises a :class:`FileNotFoundError` naming the config ``key`` when
    neither exists (e.g. the previous training stage has not been run).
    """
    def is_checkpoint(candidate: str) -> bool:
        return osp.isfile(candidate) or is_deepspeed_checkpoint(candidate)

    if is_checkpoint(path):
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
