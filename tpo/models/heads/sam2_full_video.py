"""Masks and tracks on every frame of a video, at SAM2's input size.

The MLLM reads its 16 sampled frames; SAM2 does not need to. Here SAM2
reads every frame of the video (a frame folder or a video file), each
resized to its own ``image_size`` as sam2's video predictor does, and the
prompt of the task token (the mask adapter's sparse tokens) or a box on
frame 0 propagates through SAM2's memory over all of them. Frames are
decoded ``chunk_size`` at a time and only the memory SAM2 can still read is
kept, so memory does not grow with the video's length; each frame's mask is
stored as a COCO RLE at the original resolution.

The propagation is sam2's own :class:`SAM2VideoPredictor` machinery
(``add_new_points_or_box``, ``propagate_in_video``, its per-frame
inference, memory encoding and upsampling); this module supplies the frames
lazily and trims the predictor's per-frame outputs behind the memory
window, which the predictor itself keeps for every frame.

:class:`SAM2FullVideoInference` is the inference mode of ``SAM2MaskHead``
that runs this path from ``predict`` (config: ``full_video=dict(type=
'SAM2FullVideoInference')`` on the head, ``AttachFullVideo`` in the test
pipeline).
"""
import contextlib
import logging
import os.path as osp
import time
from collections import OrderedDict
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmengine.logging import print_log
from PIL import Image

from tpo.registry import TASK_UTILS
from tpo.utils import describe_sample

#: sam2's video-frame normalisation (``sam2.utils.misc.load_video_frames``).
SAM2_MEAN = (0.485, 0.456, 0.406)
SAM2_STD = (0.229, 0.224, 0.225)
IMAGE_ENDINGS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
#: The SAM2 class whose video machinery the full-video path uses.
VIDEO_PREDICTOR = 'sam2.sam2_video_predictor.SAM2VideoPredictor'


class VideoFrames(Sequence):
    """Every frame of a video as SAM2 inputs ``(3, S, S)`` float32, read
    ``chunk_size`` frames at a time; only the current chunk is held.

    Args:
        source: the frame files in order, or a video file.
        image_size: SAM2's input side ``S``.
        chunk_size: frames decoded together.
    """

    def __init__(self, source, image_size: int,
                 chunk_size: int = 16) -> None:
        self.image_size = int(image_size)
        self.chunk_size = max(1, int(chunk_size))
        self._chunk: Tuple[int, Optional[torch.Tensor]] = (-1, None)
        self.chunks_read = 0
        if isinstance(source, str) and not source.lower().endswith(
                IMAGE_ENDINGS):
            if not osp.isfile(source):
                raise FileNotFoundError(f'VideoFrames: no video file '
                                        f'{source!r}')
            import decord
            decord.bridge.set_bridge('native')
            self._video = decord.VideoReader(source, num_threads=1)
            self._paths = None
            self.height, self.width = self._video[0].shape[:2]
            self._count = len(self._video)
        else:
            paths = [source] if isinstance(source, str) else list(source)
            if not paths:
                raise ValueError('VideoFrames: no frame files given.')
            if not osp.isfile(paths[0]):
                raise FileNotFoundError(
                    f'VideoFrames: frame {paths[0]!r} does not exist.')
            self._video = None
            self._paths = paths
            with Image.open(paths[0]) as image:
                self.width, self.height = image.size
            self._count = len(paths)
        mean = torch.tensor(SAM2_MEAN).view(3, 1, 1)
        std = torch.tensor(SAM2_STD).view(3, 1, 1)
        self._mean, self._std = mean, std

    def __len__(self) -> int:
        return self._count

    @property
    def shape(self) -> Tuple[int, int]:
        """``(H, W)`` of the original frames."""
        return int(self.height), int(self.width)

    def _rgb(self, start: int, stop: int) -> List[np.ndarray]:
        if self._video is not None:
            return list(self._video.get_batch(list(range(start, stop)))
                        .asnumpy())
        frames = []
        for path in self._paths[start:stop]:
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'VideoFrames: frame {path!r} does not exist.')
            with Image.open(path) as image:
                frames.append(np.asarray(image.convert('RGB')))
        return frames

    def _load(self, first: int) -> torch.Tensor:
        """Frames ``first ...`` of one chunk, resized as sam2 resizes
        (PIL's default filter to ``S x S``) and normalised."""
        stop = min(first + self.chunk_size, len(self))
        size = (self.image_size, self.image_size)
        chunk = torch.stack([
            torch.from_numpy(np.array(Image.fromarray(rgb).resize(size)))
            .permute(2, 0, 1) for rgb in self._rgb(first, stop)
        ]).float().div_(255)
        self.chunks_read += 1
        return (chunk - self._mean) / self._std

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f'frame {index} of {len(self)}')
        first = index - index % self.chunk_size
        if self._chunk[0] != first:
            self._chunk = (first, None)  # free the previous chunk first
            self._chunk = (first, self._load(first))
        return self._chunk[1][index - first]


def memory_window(sam) -> int:
    """How many past non-conditioning frames SAM2's memory attention may
    still read (masks: ``num_maskmem`` x the evaluation stride; object
    pointers: ``max_obj_ptrs_in_encoder``)."""
    stride = max(1, int(sam.memory_temporal_stride_for_eval))
    return max(sam.num_maskmem * stride + 2,
               int(sam.max_obj_ptrs_in_encoder) + 1)


def streaming_state(predictor, frames: VideoFrames) -> dict:
    """An inference state of :class:`SAM2VideoPredictor` over ``frames``:
    the one ``init_state`` builds (sam2 1.1.0 keys), without reading every
    frame into memory first."""
    device = predictor.device
    state = dict(
        images=frames, num_frames=len(frames), offload_video_to_cpu=True,
        offload_state_to_cpu=False, video_height=frames.shape[0],
        video_width=frames.shape[1], device=device, storage_device=device,
        obj_id_to_idx=OrderedDict(), obj_idx_to_id=OrderedDict(),
        obj_ids=[])
    for key in ('point_inputs_per_obj', 'mask_inputs_per_obj',
                'cached_features', 'constants', 'output_dict_per_obj',
                'temp_output_dict_per_obj', 'frames_tracked_per_obj'):
        state[key] = {}
    return state


@contextlib.contextmanager
def sparse_prompt(predictor, tokens: Optional[torch.Tensor]):
    """Replace the prompt encoder's sparse output by ``tokens`` (the mask
    adapter's ``(1, K, C)``) while prompts are added."""
    if tokens is None:
        yield
        return

    def hook(module, args, output):
        sparse, dense = output
        return tokens.to(sparse), dense

    handle = predictor.sam_prompt_encoder.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


class SAM2FullVideoTracker:
    """One object over every frame of a video with SAM2's video predictor.

    Args:
        predictor: a ``sam2.sam2_video_predictor.SAM2VideoPredictor`` (e.g.
            the ``sam`` of a ``SAM2MaskHead`` built with
            ``video_predictor=True``); its weights are used as they are.
        chunk_size: frames decoded at once.
    """

    def __init__(self, predictor, chunk_size: int = 16) -> None:
        from sam2.sam2_video_predictor import SAM2VideoPredictor
        if not isinstance(predictor, SAM2VideoPredictor):
            raise TypeError(
                'SAM2FullVideoTracker needs a SAM2VideoPredictor (build SAM2 '
                "with _target_ 'sam2.sam2_video_predictor."
                f"SAM2VideoPredictor'), got {type(predictor).__name__}.")
        self.predictor = predictor
        self.chunk_size = chunk_size
        self.window = memory_window(predictor)
        #: the most per-frame outputs held at once by the last propagation
        self.max_retained = 0

    def frames(self, source) -> VideoFrames:
        """The frames of ``source`` (frame files or a video file)."""
        return VideoFrames(source, self.predictor.image_size,
                           self.chunk_size)

    @torch.inference_mode()
    def propagate(self, frames: VideoFrames,
                  prompt: Optional[torch.Tensor] = None,
                  box_norm: Optional[torch.Tensor] = None
                  ) -> Iterator[Tuple[int, torch.Tensor, float]]:
        """Per frame, in order: ``(index, logits (H, W) at the original
        size, object-presence probability)``. Frame 0 is prompted by the
        adapter tokens ``prompt`` ``(1, K, C)`` or by SAM2's encoding of the
        normalised xyxy ``box_norm``."""
        if (prompt is None) == (box_norm is None):
            raise ValueError('give exactly one of prompt and box_norm')
        predictor = self.predictor
        was_training = predictor.training
        predictor.eval()  # SAM2 returns object scores in eval mode only
        state = streaming_state(predictor, frames)
        height, width = frames.shape
        scale = torch.tensor([width, height, width, height],
                             dtype=torch.float32)
        # a whole-frame box occupies the two corner slots the adapter
        # tokens replace (one mask decoded, as for a box)
        box = (scale if box_norm is None else
               box_norm.float().cpu().view(4) * scale)
        try:
            with sparse_prompt(predictor, prompt):
                predictor.add_new_points_or_box(state, frame_idx=0, obj_id=0,
                                                box=box)
            outputs = state['output_dict_per_obj'][0]
            self.max_retained = 0
            for index, _, logits in predictor.propagate_in_video(state):
                self.max_retained = max(
                    self.max_retained,
                    len(outputs['non_cond_frame_outputs']) +
                    len(outputs['cond_frame_outputs']))
                out = (outputs['cond_frame_outputs'].get(index)
                       or outputs['non_cond_frame_outputs'][index])
                score = out['object_score_logits']
                yield (index, logits[0, 0],
                       float(score.sigmoid().max()) if score is not None
                       else float((logits > 0).any()))
                # trim the outputs SAM2 will not read again
                outputs['non_cond_frame_outputs'].pop(
                    index - self.window, None)
        finally:
            predictor.train(was_training)

    def run(self, frames: VideoFrames,
            prompt: Optional[torch.Tensor] = None,
            box_norm: Optional[torch.Tensor] = None) -> dict:
        """Masks, boxes and scores of every frame: ``rles`` (COCO RLEs at
        the original size), ``bboxes`` ``(T, 4)`` xywh (the tight box of
        each mask; an empty mask repeats the previous box, zeros before
        any), ``scores`` ``(T,)`` and ``seconds`` ``(T,)`` (wall time per
        frame, decoding included)."""
        rles, boxes, scores, seconds = [], [], [], []
        last = [0.0, 0.0, 0.0, 0.0]
        tick = time.perf_counter()
        for _, logits, score in self.propagate(frames, prompt, box_norm):
            mask = (logits > 0).cpu().numpy()
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            if mask.any():
                last = [float(v) for v in mask_utils.toBbox(rle)]
            rles.append(dict(size=[int(v) for v in rle['size']],
                             counts=rle['counts'].decode('ascii')))
            boxes.append(list(last))
            scores.append(score)
            now = time.perf_counter()
            seconds.append(now - tick)
            tick = now
        return dict(rles=rles,
                    bboxes=torch.tensor(boxes, dtype=torch.float32).view(
                        -1, 4),
                    scores=torch.tensor(scores, dtype=torch.float32),
                    seconds=torch.tensor(seconds, dtype=torch.float64))


@TASK_UTILS.register_module()
class SAM2FullVideoInference:
    """Inference mode of ``SAM2MaskHead``: masks and tracks on every frame
    of a sample's video at SAM2's input size, while the MLLM keeps its
    sampled frames.

    The video is the sample's ``source_key`` (frame files or a video file,
    written by the ``AttachFullVideo`` transform); the head's prompt (the
    adapter tokens of the task embedding, or the tracking box of frame 0)
    propagates over it with :class:`SAM2FullVideoTracker`. A head built
    with this mode builds SAM2 as ``SAM2VideoPredictor`` (same weights as
    ``SAM2Base``). A sample without a video (e.g. an image question whose
    answer called the mask task) is segmented on its sampled frames, with a
    warning.

    Args:
        chunk_size: frames decoded at once.
        source_key: the data-sample key holding the video.
    """

    def __init__(self, chunk_size: int = 16,
                 source_key: str = 'full_video') -> None:
        if chunk_size < 1:
            raise ValueError(f'{type(self).__name__}: chunk_size must be '
                             f'>= 1, got {chunk_size}.')
        self.chunk_size = int(chunk_size)
        self.source_key = source_key

    def frames(self, predictor, sample) -> Optional[VideoFrames]:
        """Every frame of ``sample``'s video, or None (warned) when the
        sample names none."""
        source = sample.get(self.source_key)
        if source is None or (not isinstance(source, str)
                              and len(source) == 0):
            print_log(
                f'{type(self).__name__}: {describe_sample(sample.metainfo)} '
                f'has no {self.source_key!r} (add AttachFullVideo to its '
                'test pipeline): its masks are on its sampled frames only.',
                logger='current', level=logging.WARNING)
            return None
        return VideoFrames(source, predictor.image_size, self.chunk_size)

    def segment(self, predictor, frames: VideoFrames,
                prompt: Optional[torch.Tensor] = None,
                box_norm: Optional[torch.Tensor] = None) -> dict:
        """:meth:`SAM2FullVideoTracker.run` over ``frames`` plus
        ``frame_inds`` (``0 ... T-1``: every frame is predicted)."""
        tracker = SAM2FullVideoTracker(predictor, self.chunk_size)
        result = tracker.run(frames, prompt=prompt, box_norm=box_norm)
        result['frame_inds'] = torch.arange(len(frames))
        return result
