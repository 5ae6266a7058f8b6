"""Load precomputed query (word) features (the CG-DETR / Moment-DETR
release layout) for the temporal heads."""
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.utils import describe_sample


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation (CG-DETR's ``l2_normalize_np_array``)."""
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-5, None)


def read_npz(owner: BaseTransform, path: str, key: str,
             results: dict) -> np.ndarray:
    """The ``(L, D)`` float32 array ``key`` of ``path``; errors name the
    transform, the file and the sample."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{type(owner).__name__}: no {path} for '
                                f'{describe_sample(results)}')
    with np.load(path) as archive:
        if key not in archive:
            raise KeyError(f'{path} has no key {key!r} '
                           f'(keys: {sorted(archive.files)})')
        feats = archive[key].astype(np.float32)
    return feats.reshape(-1, feats.shape[-1])


@TRANSFORMS.register_module()
class LoadQueryFeatures(BaseTransform):
    """Read ``<root>/<prefix><qid>.npz`` (key ``last_hidden_state``,
    ``(num_words, D)``).

    Required Keys: qid

    Added Keys: query_features ``(num_words, D)`` float32

    Args:
        root: the folder.
        key: the array name (``last_hidden_state``, or ``pooler_output``
            for one vector per query).
        prefix: file name prefix before the qid.
        normalize: L2-normalise the features (CG-DETR's default).
        max_len: keep at most this many words (CG-DETR ``max_q_l``: 32 on
            QVHighlights); None keeps all.
    """

    def __init__(self,
                 root: str,
                 key: str = 'last_hidden_state',
                 prefix: str = 'qid',
                 normalize: bool = True,
                 max_len: Optional[int] = 32) -> None:
        self.root = root
        self.key = key
        self.prefix = prefix
        self.normalize = normalize
        self.max_len = max_len

    def transform(self, results: dict) -> dict:
        if results.get('qid') is None:
            raise KeyError(f'LoadQueryFeatures needs the qid of '
                           f'{describe_sample(results)}')
        path = osp.join(self.root, f'{self.prefix}{results["qid"]}.npz')
        feats = read_npz(self, path, self.key, results)[:self.max_len]
        results['query_features'] = l2_normalize(feats) if self.normalize \
            else feats
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(root={self.root!r}, key={self.key!r},'
                f' prefix={self.prefix!r}, normalize={self.normalize}, '
                f'max_len={self.max_len})')
