"""Mix datasets with per-source sampling ratios.

:class:`MixedDataset` fixes one seeded draw of the mixture (use it with any
sampler: ``DefaultSampler``, ``InfiniteSampler``); :class:`RatioSampler`
draws the mixture of a ``ConcatDataset`` afresh every epoch and splits it
between the ranks of a distributed run.
"""
import math
from typing import Dict, Iterator, List, Optional, Sequence, Sized, Union

import numpy as np
from mmengine.dataset import BaseDataset, ConcatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from tpo.registry import DATA_SAMPLERS, DATASETS


def _quotas(sizes: Sequence[int], ratios: Sequence[float],
            num_samples: int) -> np.ndarray:
    """Samples per source: ``num_samples`` split in proportion to ``ratios``
    (largest remainders get the leftover samples)."""
    weights = np.asarray(ratios, dtype=np.float64)
    if len(weights) != len(sizes):
        raise ValueError(f'{len(weights)} ratios for {len(sizes)} datasets.')
    if not np.isfinite(weights).all() or (weights < 0).any() \
            or weights.sum() <= 0:
        raise ValueError(f'ratios must be >= 0 with a positive sum, got '
                         f'{list(ratios)}.')
    for size, weight in zip(sizes, weights):
        if weight > 0 and size == 0:
            raise ValueError('a dataset with a positive ratio is empty '
                             f'(sizes {list(sizes)}, ratios {list(ratios)}).')
    exact = weights / weights.sum() * num_samples
    quotas = np.floor(exact).astype(np.int64)
    leftover = num_samples - int(quotas.sum())
    order = np.argsort(-(exact - quotas), kind='stable')
    quotas[order[:leftover]] += 1
    return quotas


def mix_indices(sizes: Sequence[int], ratios: Sequence[float],
                num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """``num_samples`` shuffled indices into the concatenation of datasets of
    ``sizes``, with dataset ``k`` contributing ``ratios[k] / sum(ratios)`` of
    them (exactly, up to rounding).

    A dataset's share is drawn without replacement while it lasts: every one
    of its samples is used ``floor`` or ``ceil`` of ``share / size`` times
    (a share above its size repeats it, one below subsamples it).
    """
    quotas = _quotas(sizes, ratios, num_samples)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    parts = []
    for size, quota, offset in zip(sizes, quotas, offsets):
        if quota == 0:
            continue
        cycles = [rng.permutation(size) for _ in range(-(-quota // size))]
        parts.append(np.concatenate(cycles)[:quota] + offset)
    indices = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return rng.permutation(indices)


def _split_entries(datasets: Sequence, ratios: Optional[Sequence[float]]):
    """Datasets and ratios from ``datasets`` whose items are datasets /
    configs, or ``dict(dataset=..., ratio=...)`` entries."""
    entries = [
        isinstance(d, dict) and 'type' not in d and 'dataset' in d
        for d in datasets
    ]
    if not any(entries):
        return list(datasets), ratios
    if not all(entries) or ratios is not None:
        raise ValueError(
            'give either datasets=[dict(dataset=..., ratio=...), ...] or '
            'datasets=[...] with ratios=[...], not a mix.')
    unknown = [sorted(set(d) - {'dataset', 'ratio'}) for d in datasets]
    if any(unknown):
        raise ValueError(f'unknown keys in mixture entries: {unknown}')
    return [d['dataset'] for d in datasets], [d['ratio'] for d in datasets]


def _override_pipeline(cfg, overrides: Dict[str, dict]):
    """A dataset config whose pipeline steps of the types in ``overrides``
    (in it, or in the dataset it wraps) take the given arguments."""
    if not isinstance(cfg, dict):
        raise TypeError('pipeline_overrides applies to dataset configs, got '
                        f'a built {type(cfg).__name__}.')
    cfg = dict(cfg)
    if 'dataset' in cfg:
        cfg['dataset'] = _override_pipeline(cfg['dataset'], overrides)
    if 'pipeline' in cfg:
        cfg['pipeline'] = [
            dict(step, **overrides.get(step.get('type'), {}))
            if isinstance(step, dict) else step for step in cfg['pipeline']
        ]
    return cfg


@DATASETS.register_module()
class MixedDataset(ConcatDataset):
    """Datasets mixed with sampling ratios: a ``ConcatDataset`` whose
    ``num_samples`` indices are one seeded draw of :func:`mix_indices`.

    ``datasets`` holds dataset configs (or datasets) with ``ratios``, or
    entries ``dict(dataset=<config>, ratio=<weight>)``, one per source.
    Ratios are weights (e.g. Table 17's sample counts) normalised to sum to
    one; None mixes in proportion to the sizes.

    Args:
        datasets (list): The sources (see above).
        ratios (list[float], optional): One weight per source.
        num_samples (int, optional): Length of the mixture; defaults to the
            sum of the sources' lengths.
        seed (int): Seed of the draw. Defaults to 0.
        ignore_keys (list[str]): Metainfo keys that may differ between
            sources. Defaults to ``['dataset_name']``.
        lazy_init (bool): Defer loading the annotations. Defaults to False.
        pipeline_overrides (dict, optional): ``{transform type: {argument:
            value}}`` set on every such transform of every source's
            pipeline (e.g. ``dict(ResizeFrames=dict(size=(384, 384)))`` for
            a model that reads another frame size). Defaults to None.
    """

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 ratios: Optional[Sequence[float]] = None,
                 num_samples: Optional[int] = None,
                 seed: int = 0,
                 ignore_keys: Union[str, List[str], None] = ('dataset_name', ),
                 lazy_init: bool = False,
                 pipeline_overrides: Optional[Dict[str, dict]] = None
                 ) -> None:
        datasets, ratios = _split_entries(datasets, ratios)
        if not datasets:
            raise ValueError('MixedDataset needs at least one dataset.')
        if pipeline_overrides:
            datasets = [_override_pipeline(d, pipeline_overrides)
                        for d in datasets]
        built = [
            DATASETS.build(d) if isinstance(d, dict) else d for d in datasets
        ]
        self.ratios = None if ratios is None else [float(r) for r in ratios]
        if self.ratios is not None and len(self.ratios) != len(built):
            raise ValueError(f'{len(self.ratios)} ratios for {len(built)} '
                             'datasets.')
        if num_samples is not None and num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}.')
        self.num_samples = num_samples
        self.seed = seed
        super().__init__(
            built,
            lazy_init=lazy_init,
            ignore_keys=list(ignore_keys)
            if isinstance(ignore_keys, (list, tuple)) else ignore_keys)

    def full_init(self) -> None:
        """Load the sources and draw the mixture."""
        if self._fully_initialized:
            return
        super().full_init()
        sizes = [len(d) for d in self.datasets]
        ratios = self.ratios if self.ratios is not None else sizes
        total = self.num_samples or int(sum(sizes))
        self.table = mix_indices(sizes, ratios, total,
                                 np.random.default_rng(self.seed))

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.table)

    def source_index(self, idx: int) -> int:
        """Which source position ``idx`` of the mixture comes from."""
        dataset_idx, _ = self._get_ori_dataset_idx(int(self.table[idx]))
        return dataset_idx

    def get_data_info(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return super().get_data_info(int(self.table[idx]))

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return super().__getitem__(int(self.table[idx]))


@DATA_SAMPLERS.register_module()
class RatioSampler(Sampler):
    """Draw each epoch ``num_samples`` indices of a ``ConcatDataset`` with
    per-source ``ratios`` (:func:`mix_indices`, seeded by ``seed + epoch``)
    and give every rank its share (``indices[rank::world_size]``, padded
    so that all ranks get the same number).

    Args:
        dataset (ConcatDataset): The sources, concatenated.
        ratios (list[float], optional): One weight per source; None mixes in
            proportion to their sizes.
        num_samples (int, optional): Draws per epoch over all ranks; defaults
            to the dataset's length.
        seed (int, optional): Shared by all ranks; None draws one and
            synchronises it.
        round_up (bool): Pad the draw to a multiple of the world size (else
            drop the tail). Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 ratios: Optional[Sequence[float]] = None,
                 num_samples: Optional[int] = None,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        if isinstance(dataset, MixedDataset):
            raise TypeError('RatioSampler mixes a ConcatDataset; a '
                            'MixedDataset is mixed already (use a '
                            'DefaultSampler or InfiniteSampler with it).')
        if not hasattr(dataset, 'cumulative_sizes'):
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
        if not hasattr(dataset, 'cumulative_sizes'):
            raise TypeError(f'RatioSampler needs a ConcatDataset, got '
                            f'{type(dataset).__name__}.')
        self.dataset = dataset
        cumulative = list(dataset.cumulative_sizes)
        self.sizes = [b - a for a, b in zip([0] + cumulative, cumulative)]
        self.ratios = list(ratios) if ratios is not None else self.sizes
        _quotas(self.sizes, self.ratios, 1)  # check them now
        self.total = num_samples or int(sum(self.sizes))
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.num_samples = (math.ceil(self.total / self.world_size)
                            if round_up else self.total // self.world_size)
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng(self.seed + self.epoch)
        indices = mix_indices(self.sizes, self.ratios, self.total, rng)
        size = self.num_samples * self.world_size
        if size > len(indices):
            indices = np.resize(indices, size)  # repeats from the start
        indices = indices[:size]
        return iter(indices[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Draw the mixture of ``epoch`` next."""
        self.epoch = epoch
