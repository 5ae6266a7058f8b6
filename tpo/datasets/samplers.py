"""Batch samplers."""
from typing import Callable, Iterator, List, Optional, Sequence, Union

import numpy as np
from torch.utils.data import BatchSampler, Sampler

from tpo.registry import DATA_SAMPLERS

TEXT_KEYS = ('instruction', 'query', 'expression', 'question')
#: File endings of still images (kept in step with LoadVideoFrames).
IMAGE_ENDINGS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def is_image_item(info: dict) -> bool:
    """Whether an annotation item's visual input is one still image (its
    ``video_path`` is an image file, and the item is not marked
    ``as_video``: an image its pipeline turns into a clip), which a
    pipeline may load as a single frame."""
    return not info.get('as_video') and str(info.get(
        'video_path', '')).lower().endswith(IMAGE_ENDINGS)


def _words(value) -> int:
    return len(value.split()) if isinstance(value, str) else 0


def sample_length(info: dict, frame_tokens: float = 1.0) -> float:
    """A cheap length estimate of an annotation item (no decoding): the
    words of its text (conversation, instruction, query, expression, first
    referring expression, candidates) plus ``frame_tokens`` per frame when
    the item states its frame count (``num_frames``: tracking and referring
    segmentation sequences)."""
    words = sum(_words(info.get(key)) for key in TEXT_KEYS)
    for turn in info.get('conversation') or ():
        words += _words(turn.get('question')) + _words(turn.get('answer'))
    expressions = info.get('expressions')
    if expressions:
        words += _words(expressions[0])
    for candidate in info.get('candidates') or ():
        words += _words(candidate)
    frames = info.get('num_frames')
    return float(words) + (frame_tokens * frames
                           if isinstance(frames, (int, float)) else 0.0)


@DATA_SAMPLERS.register_module()
class LengthGroupedBatchSampler(BatchSampler):
    """Batches of samples of similar length, to pad less.

    The indices of ``sampler`` (which decides the order and, in a
    distributed run, this rank's share: e.g. mmengine's ``DefaultSampler``
    or ``InfiniteSampler``, or :class:`~tpo.datasets.RatioSampler`) are taken
    ``batch_size * group_size`` at a time; each group is sorted by length,
    cut into batches, and the batches of the group are shuffled. Every index
    the sampler yields lands in exactly one batch, and an epoch's batches
    depend only on the sampler's epoch and ``seed``.

    Build it from a dataloader config as
    ``batch_sampler=dict(type='LengthGroupedBatchSampler')``: mmengine passes
    ``sampler`` and ``batch_size``. mmengine calls ``set_epoch`` on the
    sampler, whose ``epoch`` this sampler reads.

    Args:
        sampler (Sampler): The index sampler; its ``dataset`` gives the
            lengths unless ``lengths`` is given.
        batch_size (int): Samples per batch.
        drop_last (bool): Drop the last batch if it is not full. Defaults to
            False.
        group_size (int): Batches per sorted group: larger pads less, smaller
            is more random. Defaults to 64.
        lengths (list[float], optional): The length of every index; default
            :func:`sample_length` of the dataset's ``get_data_info`` (or its
            ``length_key`` field), computed once.
        length_key (str, optional): A data-info field holding the length
            (e.g. ``'num_frames'``).
        seed (int, optional): Seed of the batch order; None takes the
            sampler's ``seed`` (or 0).
        separate_images (bool): Keep still images (:func:`is_image_item`)
            and videos in different batches, so that an image loaded as one
            frame is not padded to a video's frame count by the collate
            function. Each kind's samples that do not fill a batch wait for
            the next group; only the last batches of an epoch may mix them
            (at most one per kind beyond the first), so the number of
            batches stays ``ceil(samples / batch_size)`` on every rank.
            Defaults to False.
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int,
                 drop_last: bool = False,
                 group_size: int = 64,
                 lengths: Optional[Sequence[float]] = None,
                 length_key: Optional[str] = None,
                 seed: Optional[int] = None,
                 separate_images: bool = False) -> None:
        if batch_size < 1 or group_size < 1:
            raise ValueError(f'batch_size and group_size must be >= 1, got '
                             f'{batch_size} and {group_size}.')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.group_size = group_size
        self.length_key = length_key
        self._lengths = None if lengths is None else np.asarray(
            lengths, dtype=np.float64)
        self.seed = seed if seed is not None else int(
            getattr(sampler, 'seed', 0) or 0)
        self.separate_images = separate_images
        self._kinds = None
        self._epoch = 0

    @property
    def lengths(self) -> np.ndarray:
        """The length of every index of the dataset."""
        if self._lengths is None:
            dataset = getattr(self.sampler, 'dataset', None)
            if dataset is None:
                raise ValueError(f'{type(self).__name__}: the sampler has no '
                                 '`dataset`; pass `lengths`.')
            length: Callable[[dict], float] = (
                (lambda info: float(info[self.length_key]))
                if self.length_key else sample_length)
            self._lengths = np.asarray([
                length(dataset.get_data_info(i)) for i in range(len(dataset))
            ], dtype=np.float64)
        return self._lengths

    @property
    def kinds(self) -> np.ndarray:
        """Per index of the dataset: 1 for a still image, else 0 (all 0
        without ``separate_images``)."""
        if self._kinds is None:
            dataset = self.sampler.dataset if self.separate_images else None
            self._kinds = np.zeros(len(self.lengths), dtype=np.int64) \
                if dataset is None else np.asarray([
                    is_image_item(dataset.get_data_info(i))
                    for i in range(len(dataset))
                ], dtype=np.int64)
        return self._kinds

    @property
    def epoch(self) -> int:
        return int(getattr(self.sampler, 'epoch', self._epoch))

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch here and on the sampler."""
        self._epoch = epoch
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def _sorted_batches(self, indices: List[int]) -> List[List[int]]:
        """``indices`` sorted by decreasing length, cut into batches."""
        lengths = self.lengths[np.asarray(indices, dtype=np.int64)]
        ordered = [indices[i] for i in np.argsort(-lengths, kind='stable')]
        return [
            ordered[i:i + self.batch_size]
            for i in range(0, len(ordered), self.batch_size)
        ]

    def _batches(self, group: List[int], waiting: dict,
                 rng: np.random.Generator) -> List[List[int]]:
        """The full batches of ``group`` (plus the samples ``waiting`` per
        kind), shuffled; a kind's partial batch goes back to ``waiting``."""
        by_kind = {}
        for index in group:
            by_kind.setdefault(int(self.kinds[index]), []).append(index)
        batches = []
        for kind, indices in by_kind.items():
            cut = self._sorted_batches(waiting.pop(kind, []) + indices)
            if len(cut[-1]) < self.batch_size:
                waiting[kind] = cut.pop()
            batches += cut
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[List[int]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        group_len = self.batch_size * self.group_size
        group: List[int] = []
        waiting: dict = {}
        for index in self.sampler:
            group.append(int(index))
            if len(group) == group_len:
                yield from self._batches(group, waiting, rng)
                group = []
        batches = self._batches(group, waiting, rng) if group else []
        # the partial batches of every kind, in as few batches as the
        # sample count needs (equal batch counts on every rank)
        rest = [i for kind in sorted(waiting) for i in waiting[kind]]
        batches += [rest[i:i + self.batch_size]
                    for i in range(0, len(rest), self.batch_size)]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        yield from batches

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


def padding_of(batches: Sequence[Sequence[int]],
               lengths: Union[Sequence[float], np.ndarray]) -> float:
    """Total padding of ``batches``: per batch, the sum over its samples of
    the batch's longest length minus theirs."""
    lengths = np.asarray(lengths)
    return float(
        sum((lengths[b].max() - lengths[b]).sum() for b in batches if len(b)))
