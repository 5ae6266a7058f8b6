"""Dataset builders that wrap other dataset configs."""
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
