"""Dataset builders that wrap other dataset configs."""
import os.path as osp
from typing import Optional

from mmengine.dataset import BaseDataset

from tpo.registry import DATASETS


@DATASETS.register_module()
def SyntheticWorldDataset(dataset: dict,
                          data_root: str,
                          world: Optional[dict] = None) -> BaseDataset:
    """Build ``dataset`` over the synthetic video world, generating the world
    first when ``data_root`` holds none (``data_root/meta.json`` missing).

    Returns the inner dataset itself: nothing downstream sees the wrapper.

    Args:
        dataset: config of a reader of one of the world's formats.
        data_root: the world's folder.
        world: keyword arguments of
            :func:`tpo.datasets.synthetic.generate_world` (sizes, seed).
    """
    from .synthetic import ensure_synthetic_world
    ensure_synthetic_world(data_root, **(world or {}))
    return DATASETS.build(dataset)


@DATASETS.register_module()
def SyntheticCharadesSTADataset(dataset: dict,
                                data_root: str,
                                out_dir: str,
                                world: Optional[dict] = None) -> BaseDataset:
    """Build ``dataset`` (a ``CharadesSTADataset`` config) over the
    Charades-STA-style files of the synthetic world, writing them into
    ``out_dir`` first when ``out_dir/charades_sta_train.txt`` is missing
    (see :mod:`tpo.datasets.synthetic.formats.charades_sta`).

    Args:
        dataset: config of the reader; its ``ann_file`` and ``meta_file``
            name files of ``out_dir``.
        data_root: the world's folder (generated first when missing).
        out_dir: where the Charades-STA files are written.
        world: keyword arguments of
            :func:`tpo.datasets.synthetic.generate_world` (sizes, seed).
    """
    from .synthetic import ensure_synthetic_world
    from .synthetic.formats.charades_sta import write_charades_sta
    ensure_synthetic_world(data_root, **(world or {}))
    if not osp.isfile(osp.join(out_dir, 'charades_sta_train.txt')):
        write_charades_sta(data_root, out_dir)
    return DATASETS.build(dataset)
