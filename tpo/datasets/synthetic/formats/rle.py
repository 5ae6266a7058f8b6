"""COCO compressed RLE with JSON-ready (str) counts."""
from typing import List

import numpy as np
import pycocotools.mask as mask_utils


def encode_masks(masks: np.ndarray) -> List[dict]:
    """Encode ``(N, H, W)`` bool masks as ``{'size': [h, w], 'counts': str}``
    dicts, the form stored in COCO and MeViS annotation files."""
    rles = mask_utils.encode(
        np.asfortranarray(masks.transpose(1, 2, 0), dtype=np.uint8))
    return [
        dict(
            size=[int(v) for v in rle['size']],
            counts=rle['counts'].decode('ascii')) for rle in rles
    ]
