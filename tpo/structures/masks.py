"""Mask encodings: COCO run-length encoding and tight boxes."""
from typing import Optional

import numpy as np
import pycocotools.mask as mask_utils
import torch


def mask_to_rle(mask: np.ndarray) -> dict:
    """COCO RLE ``{'size': [h, w], 'counts': str}`` of an ``(H, W)`` mask."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=[int(v) for v in rle['size']],
                counts=rle['counts'].decode('ascii'))


def rle_to_mask(rle: dict) -> np.ndarray:
    """``(H, W)`` bool mask of a COCO RLE (compressed str/bytes counts or an
    uncompressed list)."""
    if isinstance(rle['counts'], list):
        rle = mask_utils.frPyObjects(rle, *rle['size'])
    elif isinstance(rle['counts'], str):
        rle = dict(size=rle['size'], counts=rle['counts'].encode('ascii'))
    return mask_utils.decode(rle).astype(bool)


def mask_box_xyxy(mask: torch.Tensor) -> Optional[torch.Tensor]:
    """Tight ``(x0, y0, x1, y1)`` pixel-edge box of an ``(H, W)`` mask
    (``x1 = last column + 1``), None when empty."""
    ys, xs = torch.nonzero(mask, as_tuple=True)
    if len(ys) == 0:
        return None
    return torch.stack([xs.min(), ys.min(), xs.max() + 1,
                        ys.max() + 1]).float()
