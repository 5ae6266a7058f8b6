"""Read pickled checkpoints without running code from them.

Every ``.pth`` / ``.pt`` that tpo reads goes through :func:`torch_load`:
``torch.load(weights_only=True)``, which builds tensors, containers and
numbers only, plus an allow-list of the plain types that mmengine and
DeepSpeed write into their checkpoints (:func:`allowed_globals`). Loaders of
other libraries (DeepSpeed's ``load_checkpoint`` and ``zero_to_fp32``, which
pass ``weights_only=False``; mmengine's URL loaders) run inside
:func:`weights_only_loading`, which makes every ``torch.load`` within it
weights-only. A file holding anything else raises
:class:`UnsafeCheckpointError`, naming the file, the refused object and how
to convert a file one trusts.
"""
import contextlib
import os
import pickle
import re
import sys
from typing import Iterator, List, Optional

import numpy as np
import torch

#: The converter named in refusals (the one place that unpickles code, for a
#: file its user declares trusted).
TRUSTED_CONVERTER = 'tools/model_converters/trusted_pickle_to_safetensors.py'
_FORCE = 'TORCH_FORCE_WEIGHTS_ONLY_LOAD'
_FORCE_NOT = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds an object that is not a tensor or an allowed plain
    type; loading it could run code, so it is refused."""


def allowed_globals() -> List[type]:
    """The plain types a checkpoint may hold besides tensors and containers.

    - numpy arrays, scalars and dtypes (mmengine's message hub, metrics);
    - mmengine's ``HistoryBuffer`` (built from plain lists, as
      :func:`tpo.engine.use_safe_checkpoints` makes mmengine save it) and
      ``ConfigDict`` (DeepSpeed's config);
    - DeepSpeed's loss scalers, ZeRO stage enum and fragment addresses (its
      optimizer states), when DeepSpeed is imported (it is, whenever a
      DeepSpeed checkpoint is read).

    None of these runs code of the file's choosing when built.
    """
    from mmengine.config import ConfigDict
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = getattr(np, '_core', None) or np.core
    allowed = [
        np.ndarray, np.dtype, multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar, HistoryBuffer, ConfigDict
    ]
    allowed += [
        type(np.dtype(kind)) for kind in (np.float16, np.float32, np.float64,
                                          np.int8, np.int16, np.int32,
                                          np.int64, np.uint8, np.bool_)
    ]
    if 'deepspeed' in sys.modules:
        from deepspeed.runtime.fp16.loss_scaler import (DynamicLossScaler,
                                                        LossScaler)
        from deepspeed.runtime.zero.config import ZeroStageEnum
        from deepspeed.utils.tensor_fragment import fragment_address
        allowed += [LossScaler, DynamicLossScaler, ZeroStageEnum,
                    fragment_address]
    return allowed


def refusal_message(source: str, error: Exception) -> str:
    """Why ``source`` was refused (the object torch's unpickler would not
    build) and what to do."""
    text = str(error)
    detail = text.split('WeightsUnpickler error:', 1)[-1].strip()
    found = re.search(r'GLOBAL ([\w.]+)', detail) or re.search(
        r"got <class '([\w.]+)'>", detail)
    what = f'`{found.group(1)}`' if found else \
        f'an object torch cannot load safely ({detail.splitlines()[0]})' \
        if detail else 'an object that is not a tensor'
    return (
        f'{source}: refused to load: it holds {what}, which is neither a '
        'tensor nor one of the plain types a checkpoint needs, and loading '
        'it could run code (tpo never unpickles code from a checkpoint). '
        'If the file comes from a source you trust, convert it once to '
        f'safetensors with `python {TRUSTED_CONVERTER} {source} '
        'OUT.safetensors --trust-pickled-code` and use OUT.safetensors '
        'instead.')


@contextlib.contextmanager
def weights_only_loading(source: str) -> Iterator[None]:
    """Within the block every ``torch.load`` (also of other libraries, with
    ``weights_only=False`` passed) is weights-only with
    :func:`allowed_globals`; a refusal raises :class:`UnsafeCheckpointError`
    naming ``source`` (the file or folder being read).

    The switch is torch's process-wide ``TORCH_FORCE_WEIGHTS_ONLY_LOAD``,
    set for the duration of the block only.
    """
    saved = {key: os.environ.pop(key, None) for key in (_FORCE, _FORCE_NOT)}
    os.environ[_FORCE] = '1'
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            yield
    except UnsafeCheckpointError:
        raise
    except pickle.UnpicklingError as error:
        if 'Weights only load failed' not in str(error):  # a damaged file
            raise pickle.UnpicklingError(
                f'{source}: not a readable checkpoint ({error})') from None
        raise UnsafeCheckpointError(refusal_message(source, error)) from None
    finally:
        os.environ.pop(_FORCE, None)
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value


def torch_load(path: str, map_location=None, mmap: Optional[bool] = None):
    """``torch.load(path, weights_only=True)`` with :func:`allowed_globals`;
    a refused file raises :class:`UnsafeCheckpointError` naming it."""
    with weights_only_loading(str(path)):
        return torch.load(path, map_location=map_location, mmap=mmap,
                          weights_only=True)
