"""The ground truth and the box prompt of the sampled frames of a tracking
sequence."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.tasks import BOX_PROMPT_TOKEN
from tpo.utils import describe_sample


@TRANSFORMS.register_module()
class SelectTrackTargets(BaseTransform):
    """Keep the per-frame ground truth of the sampled frames of a tracking
    sequence (LaSOT, GOT-10k) and derive its box prompt.

    The readers give one row per sequence frame; after a loader has sampled
    the clip (``frame_inds``: positions in the sequence, e.g. from
    ``ListFramePaths`` + ``LoadImageSequence``), row ``t`` of every
    per-frame key is the ground truth of clip frame ``t``, which is what the
    mask head (frame 0 = the prompted frame) and ``TrackingMetric``
    (``gt_track_bboxes`` and ``absent`` as long as ``pred_track_bboxes``)
    expect. The prompt is the box of the first sampled frame: the tracker is
    initialised on clip frame 0. A target absent there has a zero-size
    prompt box.

    Required Keys:

    - frame_inds: ``(T,)`` positions in the sequence
    - gt_bboxes_xyxy: ``(N, 4)`` xyxy pixels (one row per sequence frame)
    - gt_track_bboxes, absent, cover, cut_by_image (optional, one row per
      sequence frame)

    Modified Keys:

    - the ``per_frame_keys`` present: their rows at ``frame_inds``

    Added Keys:

    - prompt_bboxes: ``(1, 4)`` float32 xyxy pixels of the first sampled
      frame
    - track_box: ``'<track_box>'`` (the question placeholder whose
      embedding encodes ``prompt_bboxes``), unless present

    With ``all_frames=True`` (the mask head's full-video inference, which
    predicts every sequence frame as the benchmarks score them) every row is
    kept and the prompt is the box of sequence frame 0, where the
    benchmarks initialise the tracker; the sampled frames are then only
    what the MLLM reads.

    A GOT-10k test sequence (``first_box_only``: the first frame's box only)
    keeps its single rows and is prompted with it; without ``all_frames``
    its clip must then start at frame 0 (``LoadImageSequence(sampling=
    'start')``).

    Args:
        per_frame_keys (Sequence[str]): Keys holding one row per sequence
            frame. Defaults to ``('gt_track_bboxes', 'gt_bboxes_xyxy',
            'absent', 'cover', 'cut_by_image')``.
        all_frames (bool): Keep the rows of every frame and prompt with
            frame 0. Defaults to False (the sampled frames).
    """

    def __init__(self,
                 per_frame_keys: Sequence[str] = (
                     'gt_track_bboxes', 'gt_bboxes_xyxy', 'absent', 'cover',
                     'cut_by_image'),
                 all_frames: bool = False) -> None:
        self.per_frame_keys = tuple(per_frame_keys)
        self.all_frames = all_frames

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds'], dtype=np.int64)
        boxes = np.asarray(results['gt_bboxes_xyxy'], dtype=np.float32)
        if self.all_frames:
            results['prompt_bboxes'] = boxes[:1].copy()
        elif results.get('first_box_only'):
            if len(inds) and inds[0] != 0:
                raise ValueError(
                    f'{type(self).__name__}: {describe_sample(results)} has '
                    'only the first frame\'s box, but its clip starts at '
                    f'frame {int(inds[0])}.')
            results['prompt_bboxes'] = boxes[:1].copy()
        else:
            num = len(boxes)
            if len(inds) == 0 or inds.min() < 0 or inds.max() >= num:
                raise ValueError(
                    f'{type(self).__name__}: frame_inds {inds.tolist()} of '
                    f'{describe_sample(results)} are not all inside its '
                    f'{num} annotated frames.')
            results['prompt_bboxes'] = boxes[inds[:1]].copy()
            for key in self.per_frame_keys:
                if results.get(key) is not None:
                    results[key] = np.asarray(results[key])[inds]
        results.setdefault('track_box', BOX_PROMPT_TOKEN)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}('
                f'per_frame_keys={self.per_frame_keys}, '
                f'all_frames={self.all_frames})')
