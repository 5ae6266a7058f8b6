"""Make sure a complete synthetic world with given parameters exists."""
import json
import os
import os.path as osp
import shutil
import tempfile

from mmengine.dist import barrier, get_rank, is_distributed
from mmengine.logging import print_log

from .generator import FORMAT_VERSION, WORLD_ENTRIES, generate_world, \
    world_params


def _generate_atomically(data_root: str, generate_kwargs: dict) -> None:
    """Generate into a sibling temporary folder, then rename it."""
    if osp.isdir(data_root):
        foreign = sorted(set(os.listdir(data_root)) - set(WORLD_ENTRIES))
        if foreign:
            raise ValueError(
                f'{data_root} has no meta.json and holds {foreign}, which a '
                'synthetic world does not: refusing to replace it.')
        print_log(
            f'Removing the incomplete synthetic world {data_root}.',
            logger='current')
        shutil.rmtree(data_root)
    parent = osp.dirname(osp.abspath(data_root))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(
        prefix=f'.{osp.basename(osp.abspath(data_root))}.partial-', dir=parent)
    try:
        generate_world(tmp_dir, **generate_kwargs)
        try:
            os.rename(tmp_dir, data_root)
        except OSError:
            # Another process may have completed the same world meanwhile.
            if not osp.isfile(osp.join(data_root, 'meta.json')):
                raise
    finally:
        if osp.isdir(tmp_dir):
            shutil.rmtree(tmp_dir)


def ensure_synthetic_world(data_root: str, **generate_kwargs) -> str:
    """Generate the synthetic world in ``data_root`` unless it is complete.

    A world is complete when ``data_root/meta.json`` exists. Otherwise rank 0
    generates it (see :func:`generate_world` for ``generate_kwargs``) in a
    temporary folder that is renamed to ``data_root`` when done, so an
    interrupted run never leaves a world that looks complete; leftovers of
    such a run in ``data_root`` are replaced. Under ``torch.distributed`` the
    other ranks wait on a barrier.

    Returns:
        str: ``data_root``.

    Raises:
        ValueError: If the existing world was generated with other
            parameters (``num_workers`` does not count).
    """
    meta_path = osp.join(data_root, 'meta.json')
    params = world_params(**{
        k: v
        for k, v in generate_kwargs.items() if k != 'num_workers'
    })
    if get_rank() == 0:
        if osp.isfile(meta_path):
            print_log(
                f'Using the synthetic world in {data_root}.', logger='current')
        else:
            print_log(
                f'Generating a synthetic world in {data_root}: '
                f'{params}.',
                logger='current')
            _generate_atomically(data_root, generate_kwargs)
    if is_distributed():
        barrier()
    with open(meta_path) as f:
        meta = json.load(f)
    expected = dict(params, format_version=FORMAT_VERSION)
    found = dict(meta['params'], format_version=meta.get('format_version'))
    differing = sorted(k for k in expected.keys() | found.keys()
                       if expected.get(k) != found.get(k))
    if differing:
        details = '; '.join(f'{k}: {found.get(k)} in the file, '
                            f'{expected.get(k)} requested' for k in differing)
        raise ValueError(f'{meta_path} was generated with different '
                         f'parameters ({details}). Use another data_root or '
                         'delete the world.')
    return data_root
