"""DecodeRLEMasks: MeViS RLEs of the sampled frames as ``gt_masks``."""
import numpy as np

from tpo.datasets.transforms import DecodeRLEMasks
from tpo.structures.masks import mask_to_rle

SHAPE = (12, 16)


def _mask(top, left):
    mask = np.zeros(SHAPE, dtype=bool)
    mask[top:top + 4, left:left + 5] = True
    return mask


def test_union_of_objects_at_the_sampled_frames():
    first = [_mask(0, 0), _mask(2, 2), _mask(4, 4)]
    second = [None, _mask(6, 10), None]  # absent in frames 0 and 2
    rles = [[mask_to_rle(m) for m in first],
            [None if m is None else mask_to_rle(m) for m in second]]
    out = DecodeRLEMasks()(dict(mask_rles=rles, frame_inds=[2, 1]))
    masks = np.asarray(out['gt_masks'])
    assert masks.shape == (2, *SHAPE) and masks.dtype == bool
    assert np.array_equal(masks[0], first[2])
    assert np.array_equal(masks[1], first[1] | second[1])
    every = np.asarray(DecodeRLEMasks()(dict(mask_rles=rles))['gt_masks'])
    assert len(every) == 3 and np.array_equal(every[0], first[0])


def test_absent_objects_give_empty_masks_at_ori_shape():
    out = DecodeRLEMasks()(dict(mask_rles=[[None, None]], ori_shape=SHAPE))
    masks = np.asarray(out['gt_masks'])
    assert masks.shape == (2, *SHAPE) and not masks.any()


def test_a_split_without_masks_passes_unchanged():
    results = dict(frame_inds=[0, 1])
    assert DecodeRLEMasks()(dict(results)) == results
