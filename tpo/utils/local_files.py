"""Checks for weights and data that users download themselves."""
import json
import os
import os.path as osp
from typing import Sequence

#: Weight files of a Hugging Face model folder (one of them, or shards).
HF_WEIGHT_SUFFIXES = ('.safetensors', '.safetensors.index.json', '.bin',
                      '.bin.index.json')


def require_local_path(path: str, component: str, expected: Sequence[str],
                       where: str) -> str:
    """Return ``path`` if it exists (a folder: a non-empty one), else raise
    an error a user can act on.

    Args:
        path: the local file or folder named in the config.
        component: which part of the model or data needs it.
        expected: the files the folder should hold.
        where: where users usually obtain them.
    """
    if osp.exists(path) and not (osp.isdir(path) and not os.listdir(path)):
        return path
    problem = 'is an empty folder' if osp.exists(path) else 'does not exist'
    raise FileNotFoundError(
        f'{component}: {path!r} {problem}. Expected '
        f'{", ".join(expected)} there. Obtain them from {where}, then point '
        'the config at the local copy (no download is attempted).')


def require_hf_model_folder(path: str, component: str, where: str) -> str:
    """Return ``path`` if it is a Hugging Face model folder that this
    transformers can load (``config.json`` with a known ``model_type``, and
    weights), else raise an error naming the folder and what it lacks."""
    expected = ['config.json', '*.safetensors (or pytorch_model*.bin)']
    require_local_path(path, component, expected, where)
    fix = (f'A model folder holds {" and ".join(expected)}; obtain them '
           f'from {where}, then point the config at that folder.')
    if not osp.isdir(path):
        raise NotADirectoryError(
            f'{component}: {path!r} is a file, not a model folder. {fix}')
    names = sorted(os.listdir(path))
    missing = [] if 'config.json' in names else ['config.json']
    if not any(name.endswith(HF_WEIGHT_SUFFIXES) for name in names):
        missing.append('weights (*.safetensors or pytorch_model*.bin)')
    if missing:
        shown = ', '.join(names[:6]) + (' ...' if len(names) > 6 else '')
        raise FileNotFoundError(
            f'{component}: the folder {path!r} has no '
            f'{" and no ".join(missing)} (it holds: {shown}). {fix}')
    config_file = osp.join(path, 'config.json')
    try:
        with open(config_file) as f:
            model_type = json.load(f).get('model_type')
    except (ValueError, AttributeError) as error:
        raise ValueError(f'{component}: {config_file} is not a JSON object '
                         f'({error}). {fix}') from None
    import transformers
    from transformers import CONFIG_MAPPING
    if model_type not in CONFIG_MAPPING:
        raise ValueError(
            f'{component}: {config_file} gives model_type={model_type!r}, '
            f'which transformers {transformers.__version__} does not know '
            '(is it the config of a model folder, and is transformers recent '
            f'enough?). {fix}')
    return path
