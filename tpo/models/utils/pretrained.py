"""The one way components load pretrained weights: a checkpoint in
``TPOModel`` key layout (converted offline by ``tools/model_converters``, or
a component's own release), read without unpickling code."""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from torch import nn

from tpo.utils.local_files import require_local_path
from tpo.utils.safe_loading import torch_load

#: Where converted checkpoints come from (named when one is missing).
CONVERTERS = ('tools/model_converters (convert a release to TPOModel keys '
              'first)')


def _torch_load(path: str) -> Dict[str, torch.Tensor]:
    """A pickled state dict, read with ``weights_only=True`` (memory-mapped
    when the file allows it), unwrapped from a ``model`` / ``module`` /
    ``state_dict`` entry."""
    try:
        obj = torch_load(path, map_location='cpu', mmap=True)
    except RuntimeError:  # legacy (non-zip) format: no mmap
        obj = torch_load(path, map_location='cpu')
    for key in ('model', 'module', 'state_dict'):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    return dict(obj)


def checkpoint_files(path: str) -> List[str]:
    """The weight files of a checkpoint: a file, a sharded
    ``*.safetensors.index.json``, or a folder holding one of those."""
    if osp.isdir(path):
        index = [f for f in sorted(os.listdir(path))
                 if f.endswith('.safetensors.index.json')]
        if index:
            return checkpoint_files(osp.join(path, index[0]))
        files = [osp.join(path, f) for f in sorted(os.listdir(path))
                 if f.endswith('.safetensors')]
        if files:
            return files
        raise FileNotFoundError(f'{path!r} holds no *.safetensors or '
                                '*.safetensors.index.json')
    if path.endswith('.json'):
        with open(path) as f:
            weight_map = json.load(f)['weight_map']
        folder = osp.dirname(path)
        return [
            osp.join(folder, f) for f in dict.fromkeys(weight_map.values())
        ]
    return [path]


def read_state_dict(path: str,
                    select: Optional[Callable[[str], bool]] = None
                    ) -> Dict[str, torch.Tensor]:
    """Read a checkpoint (safetensors, sharded index, folder, or a pickle
    read with :func:`tpo.utils.safe_loading.torch_load`) into one state dict,
    keeping only the keys ``select`` accepts (all when None)."""
    from safetensors import safe_open
    state = {}
    for file in checkpoint_files(path):
        if file.endswith('.safetensors'):
            with safe_open(file, framework='pt', device='cpu') as f:
                for key in f.keys():
                    if select is None or select(key):
                        state[key] = f.get_tensor(key)
        else:
            state.update((k, v) for k, v in _torch_load(file).items()
                         if select is None or select(k))
    return state


def state_dict_keys(path: str) -> List[str]:
    """The keys of a checkpoint without reading its tensors (pickles are
    memory-mapped)."""
    from safetensors import safe_open
    keys = []
    for file in checkpoint_files(path):
        if file.endswith('.safetensors'):
            with safe_open(file, framework='pt', device='cpu') as f:
                keys += list(f.keys())
        else:
            keys += list(_torch_load(file))
    return keys


def load_pretrained(module: nn.Module,
                    path: Union[str, Sequence[str]],
                    prefix: str = '',
                    owner: Optional[str] = None,
                    source: str = CONVERTERS) -> None:
    """Load the keys of ``path`` that start with ``prefix`` (stripped) into
    ``module``, strictly: a missing, unexpected or misshapen key fails,
    naming the keys, before any tensor is copied.

    Args:
        module: the component.
        path: a checkpoint file, sharded index or folder; or several, the
            later ones overriding the earlier (e.g. a base checkpoint and
            its fine-tuned part).
        prefix: e.g. ``'vision_encoder.'`` for the encoder part of a
            converted ``TPOModel`` checkpoint; ``''``: the whole file is
            the component's.
        owner: how errors name the component (default: its class).
        source: where a missing file is obtained (named in the error).
    """
    owner = owner or type(module).__name__
    paths = [path] if isinstance(path, str) else list(path)
    state = {}
    for file in paths:
        require_local_path(
            file, f'{owner} (pretrained)',
            [f'a checkpoint with {prefix or "the component"}* keys'],
            source)
        state.update((k[len(prefix):], v) for k, v in read_state_dict(
            file, lambda k: k.startswith(prefix)).items())
    own = module.state_dict()
    unexpected = sorted(set(state) - set(own))
    missing = sorted(set(own) - set(state))
    mismatched = sorted(k for k in set(state) & set(own)
                        if state[k].shape != own[k].shape)
    if unexpected or missing or mismatched:
        raise RuntimeError(
            f'{owner}: {path!r} (keys {prefix!r}*) does not fit: '
            f'{len(missing)} missing {missing[:8]}, {len(unexpected)} '
            f'unexpected {unexpected[:8]}, {len(mismatched)} of the wrong '
            f'shape {mismatched[:8]}. Convert a release with '
            'tools/model_converters first, and check the prefix.')
    module.load_state_dict(state)
    print_log(f'{owner}: loaded {len(state)} tensors from {path}', 'current')
