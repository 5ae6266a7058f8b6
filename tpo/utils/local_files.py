"""Checks for weights and data that users download themselves."""
import os.path as osp
from typing import Sequence


def require_local_path(path: str, component: str, expected: Sequence[str],
                       where: str) -> str:
    """Return ``path`` if it exists, else raise an error a user can act on.

    Args:
        path: the local file or folder named in the config.
        component: which part of the model or data needs it.
        expected: the files the folder should hold.
        where: where users usually obtain them.
    """
    if osp.exists(path):
        return path
    raise FileNotFoundError(
        f'{component}: {path!r} does not exist. Expected '
        f'{", ".join(expected)} there. Obtain them from {where}, then point '
        'the config at the local copy (no download is attempted).')
