"""Collate packed TPO samples of different frame counts and sizes."""
from typing import Any, List, Sequence

import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate

from tpo.registry import FUNCTIONS


def pad_clips(clips: Sequence[torch.Tensor],
              frame_pad: str = 'repeat') -> torch.Tensor:
    """Stack ``(T_i, C, H_i, W_i)`` clips into ``(B, T, C, H, W)``.

    Shorter clips are padded at the end in time (repeating their last frame
    with ``frame_pad='repeat'``, or zeros with ``'zero'``) and at the bottom
    and right in space (zeros).
    """
    if frame_pad not in ('repeat', 'zero'):
        raise ValueError(
            f"frame_pad must be 'repeat' or 'zero', got {frame_pad!r}.")
    if not clips:
        raise ValueError('no clip to collate.')
    dims = {c.dim() for c in clips}
    if dims != {4}:
        raise ValueError('clips must be (T, C, H, W) tensors, got shapes '
                         f'{sorted(tuple(c.shape) for c in clips)}.')
    if len({c.shape[1] for c in clips}) > 1:
        raise ValueError('clips differ in channels: '
                         f'{sorted({c.shape[1] for c in clips})}.')
    num_frames = max(c.shape[0] for c in clips)
    height = max(c.shape[2] for c in clips)
    width = max(c.shape[3] for c in clips)
    padded = []
    for clip in clips:
        clip = F.pad(clip,
                     (0, width - clip.shape[3], 0, height - clip.shape[2]))
        missing = num_frames - clip.shape[0]
        if missing:
            tail = (clip[-1:].expand(missing, *clip.shape[1:])
                    if frame_pad == 'repeat' else clip.new_zeros(
                        (missing, *clip.shape[1:])))
            clip = torch.cat([clip, tail])
        padded.append(clip)
    return torch.stack(padded)


@FUNCTIONS.register_module()
def tpo_collate(data_batch: Sequence[dict],
                frame_pad: str = 'repeat') -> Any:
    """Collate the outputs of ``PackTPOInputs``.

    ``inputs`` (``(T_i, 3, H_i, W_i)`` clips) become one ``(B, T, 3, H, W)``
    tensor, padded as :func:`pad_clips` does when the clips differ (e.g. a
    still image with one frame beside 16-frame videos, or frame counts of
    tracking sequences); each data sample records ``num_valid_frames`` (its
    own ``T_i``) and ``pad_shape`` (the batch's ``(T, H, W)``) in its
    metainfo.
    ``data_samples`` stay a list (their boxes, windows, masks and tasks may
    differ or be absent), and any other key is collated as
    ``pseudo_collate`` does. ``TPODataPreprocessor`` stacks and normalises
    the batch as it does for ``pseudo_collate``'s list.

    Use it from a dataloader config as
    ``collate_fn=dict(type='tpo.tpo_collate')``: mmengine's Runner looks
    collate functions up in its root registry without switching to the
    default scope, so the ``tpo.`` scope prefix is needed.

    Args:
        data_batch: The packed samples.
        frame_pad: ``'repeat'`` (the last frame) or ``'zero'``.
    """
    if not data_batch:
        return {}
    if not all(isinstance(d, dict) and torch.is_tensor(d.get('inputs'))
               for d in data_batch):
        return pseudo_collate(data_batch)
    clips: List[torch.Tensor] = [d['inputs'] for d in data_batch]
    rest = pseudo_collate([{k: v
                            for k, v in d.items() if k != 'inputs'}
                           for d in data_batch])
    same = len({tuple(c.shape) for c in clips}) == 1
    inputs = torch.stack(clips) if same else pad_clips(clips, frame_pad)
    samples = rest.get('data_samples')
    if samples is not None:
        for clip, sample in zip(clips, samples):
            sample.set_metainfo(
                dict(
                    num_valid_frames=int(clip.shape[0]),
                    pad_shape=tuple(int(s) for s in (inputs.shape[1],
                                                      *inputs.shape[3:]))))
    return dict(inputs=inputs, **rest)
