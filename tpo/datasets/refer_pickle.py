"""Convert the ``refer`` toolkit's ``refs(unc|umd|google).p`` pickles of
RefCOCO / RefCOCO+ / RefCOCOg into the JSON that
:class:`~tpo.datasets.RefCOCODataset` reads.

A pickle can run arbitrary code when loaded, so the refs are read with a
restricted unpickler that only builds plain containers and scalars; any other
object (a class, a function, ``os.system``...) stops the load with a
:class:`pickle.UnpicklingError` that names it.
"""
import io
import json
import os
import os.path as osp
import pickle
from typing import Any, List, Optional

from .annotation import AnnotationError, AnnotationRecord

# The only globals a refs pickle may name: builtin containers and scalars.
# (list, dict, str, int, float and tuple have their own pickle opcodes and
# never reach find_class; the names here cover protocol-0/2 pickles, which
# spell a few of them as globals.)
SAFE_BUILTINS = frozenset(('list', 'dict', 'str', 'int', 'float', 'tuple',
                           'set', 'frozenset', 'bool', 'bytes', 'unicode',
                           'long'))
SAFE_MODULES = ('builtins', '__builtin__')
# Fields of a ref that RefCOCODataset needs.
REF_FIELDS = dict(
    ref_id=int, ann_id=int, image_id=int, split=str, sentences=list)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only builds builtin containers and scalars."""

    def find_class(self, module: str, name: str) -> Any:
        if module in SAFE_MODULES and name in SAFE_BUILTINS:
            name = {'unicode': 'str', 'long': 'int'}.get(name, name)
            return getattr(__import__('builtins'), name)
        raise pickle.UnpicklingError(
            f'refusing to load {module}.{name}: a refs pickle holds only '
            'lists, dicts, strings and numbers (an object of any other type '
            'could run code when loaded).')

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(
            f'refusing to load persistent id {pid!r}: a refs pickle holds '
            'only lists, dicts, strings and numbers.')


def load_refs_pickle(path: str, encoding: str = 'utf-8') -> List[dict]:
    """Read a ``refs(*).p`` file safely.

    Args:
        path: The pickle.
        encoding: How to decode the byte strings of a Python 2 pickle (the
            released refs files were written by Python 2). Defaults to
            ``'utf-8'``; ``'latin1'`` never fails.

    Returns:
        list[dict]: The refs.

    Raises:
        pickle.UnpicklingError: The pickle names a non-builtin object (the
            message names it and the file) or is corrupt.
        AnnotationError: The pickle is not a list of refs; names the file,
            the ref and the field.
    """
    with open(path, 'rb') as f:
        data = f.read()
    try:
        refs = RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(f'{path}: {error}') from None
    except (EOFError, ValueError, UnicodeDecodeError) as error:
        raise pickle.UnpicklingError(
            f'{path}: not a readable refs pickle ({type(error).__name__}: '
            f'{error}); for a Python 2 pickle with non-UTF-8 text pass '
            "encoding='latin1'.") from None
    check_refs(refs, path)
    return refs


def check_refs(refs: Any, path: str) -> None:
    """Raise :class:`AnnotationError` unless ``refs`` is a list of refs with
    the fields RefCOCODataset reads."""
    if not isinstance(refs, list):
        raise AnnotationError(f'{path}: expected a list of refs at the top '
                              f'level, got {type(refs).__name__}.')
    for index, ref in enumerate(refs):
        record = AnnotationRecord(path, f'index {index}', ref, 'ref_id')
        for field, kind in REF_FIELDS.items():
            record.fetch(field, kind)


def convert_refs_pickle(src: str,
                        dst: Optional[str] = None,
                        encoding: str = 'utf-8',
                        overwrite: bool = False) -> str:
    """Write the refs of ``src`` (a ``refs(*).p``) as JSON.

    Args:
        src: The pickle, e.g. ``data/refcoco/refs(unc).p``.
        dst: The JSON file. Defaults to ``src`` with ``.json`` for ``.p``,
            e.g. ``data/refcoco/refs(unc).json``.
        encoding: See :func:`load_refs_pickle`.
        overwrite: Replace an existing ``dst``. Defaults to False.

    Returns:
        str: ``dst``.
    """
    if dst is None:
        dst = osp.splitext(src)[0] + '.json'
    if osp.exists(dst) and not overwrite:
        raise FileExistsError(f'{dst} exists; pass overwrite=True '
                              '(--overwrite) to replace it.')
    refs = load_refs_pickle(src, encoding)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(refs, f)
    os.replace(tmp, dst)
    return dst
