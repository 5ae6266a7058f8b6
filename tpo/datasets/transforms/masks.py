"""Load the ground-truth masks of the sampled frames of a mask sample."""
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadPaletteMasks(BaseTransform):
    """Read the palette-PNG masks (Ref-YouTube-VOS, DAVIS) of the sampled
    frames: ``gt_masks`` is the union of ``obj_ids`` in
    ``{mask_dir}/{frame_names[i]}.png`` for each ``i`` of ``frame_inds``
    (positions in ``frame_names``; all frames when absent).

    A sample without ``mask_dir`` (a split without masks) passes unchanged.

    Required Keys: mask_dir, frame_names, obj_ids, frame_inds (optional)

    Added Keys: gt_masks ``(T, H, W)`` bool

    Args:
        ext (str): Extension of the mask files. Defaults to ``'.png'``.
    """

    def __init__(self, ext: str = '.png') -> None:
        self.ext = ext

    def transform(self, results: dict) -> dict:
        if 'mask_dir' not in results:
            return results
        from ..ref_youtube_vos import decode_palette_masks
        results['gt_masks'] = decode_palette_masks(
            results['mask_dir'], results['frame_names'], results['obj_ids'],
            results.get('frame_inds'), self.ext)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ext={self.ext!r})'


@TRANSFORMS.register_module()
class LoadMaskletMasks(BaseTransform):
    """Read the SA-V masklet masks of the sampled video frames: ``gt_masks``
    holds, for each of ``frame_inds``, the mask of the nearest annotated
    frame (SA-V annotates every ``mask_stride``-th frame; sample multiples of
    it for exact masks).

    Required Keys: mask_rles or (mask_file, masklet_index), mask_stride,
    ori_shape, frame_inds

    Added Keys: gt_masks ``(T, H, W)`` bool
    """

    def transform(self, results: dict) -> dict:
        from ..sav import decode_masklet, load_masklet
        rles = results.get('mask_rles')
        if rles is None:
            rles = load_masklet(results['mask_file'],
                                results['masklet_index'])
        shape = tuple(rles[results.get('first_visible', 0)]['size'])
        results['gt_masks'] = decode_masklet(rles, shape,
                                             results['frame_inds'],
                                             results['mask_stride'])
        return results


@TRANSFORMS.register_module()
class DecodeRLEMasks(BaseTransform):
    """Decode the MeViS ``mask_rles`` of the sampled frames: ``gt_masks``
    holds, for each of ``frame_inds`` (positions in the video's frames, as
    ``LoadVideoFrames`` and ``LoadImageSequence`` record them; all frames
    when absent), the union of the expression's objects, at the RLEs' size.

    ``ReferringVOSMetric`` and the mask head read ``gt_masks``. A sample
    without ``mask_rles`` (a split without masks) passes unchanged.

    Required Keys: mask_rles, frame_inds (optional), ori_shape (when every
    RLE is None)

    Added Keys: gt_masks ``(T, H, W)`` bool
    """

    def transform(self, results: dict) -> dict:
        rles = results.get('mask_rles')
        if rles is None:
            return results
        from ..mevis import decode_masks
        sizes = [rle['size'] for obj in rles for rle in obj if rle is not None]
        shape = tuple(sizes[0]) if sizes else tuple(results['ori_shape'][:2])
        results['gt_masks'] = decode_masks(rles, shape,
                                           results.get('frame_inds'))
        return results
