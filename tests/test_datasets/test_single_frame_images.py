"""Still images as single frames (RefCOCO*, Visual Genome, AS-V2,
ShareGPT4V), batched apart from videos so the collate function never pads
them to a video's frame count."""
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from PIL import Image

from tests.conftest import CONFIGS, tiny_model_cfg
from tests.test_models.test_tpo_model import region_sample
from tpo.datasets import LengthGroupedBatchSampler, tpo_collate
from tpo.registry import MODELS, TRANSFORMS

IMAGE_SOURCES = {'refcoco', 'refcoco+', 'refcocog', 'visual_genome', 'as_v2',
                 'sharegpt4v'}


class Items:
    """A dataset of annotation items only (what the sampler reads)."""

    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def get_data_info(self, i):
        return dict(video_path=self.paths[i], query='x ' * (i % 7))


def kinds_of(batch, dataset):
    return {dataset.paths[i].endswith('.jpg') for i in batch}


@pytest.mark.parametrize('world', [1, 2])
def test_batches_never_mix_images_and_videos_but_the_last(world):
    rng = np.random.default_rng(0)
    paths = [f'v{i}.jpg' if rng.random() < 0.4 else f'v{i}.mp4'
             for i in range(203)]
    dataset = Items(paths)
    counts = []
    seen = []
    for rank in range(world):
        sampler = DefaultSampler(dataset, shuffle=True, seed=3)
        sampler.rank, sampler.world_size = rank, world
        sampler.num_samples = math.ceil(len(dataset) / world)
        sampler.total_size = sampler.num_samples * world
        batches = list(LengthGroupedBatchSampler(
            sampler, batch_size=4, group_size=3, separate_images=True))
        counts.append(len(batches))
        assert len(batches) == math.ceil(sampler.num_samples / 4)
        mixed = [b for b in batches if len(kinds_of(b, dataset)) > 1]
        # at most one mixed batch (two kinds), among the epoch's last two
        # (the partial batches of both kinds, cut as few as the count needs)
        assert len(mixed) <= 1
        if mixed:
            assert any(b is mixed[0] for b in batches[-2:])
        seen += [i for b in batches for i in b]
    assert len(set(counts)) == 1  # equal batch counts on every rank
    assert set(seen) == set(range(len(dataset)))
    # without the option the same order mixes them freely
    plain = list(LengthGroupedBatchSampler(
        DefaultSampler(dataset, shuffle=True, seed=3), 4, group_size=3))
    assert sum(len(kinds_of(b, dataset)) > 1 for b in plain) > 5


@pytest.mark.parametrize('stage', ['stage1', 'stage2', 'stage3'])
def test_recipes_load_still_images_as_one_frame(stage):
    cfg = Config.fromfile(str(CONFIGS / f'tpo/videochat_{stage}.py'))
    assert cfg.train_dataloader.batch_sampler.separate_images is True
    for entry in cfg.train_dataloader.dataset.datasets:
        dataset = entry.dataset
        loaders = [s for s in dataset.pipeline
                   if s.type == 'LoadVideoFrames']
        steps = [s.type for s in dataset.pipeline]
        if dataset.source == 'as_v2_video':  # one image, then a moving crop
            assert steps.index('LoadVideoFrames') < steps.index(
                'ImageToPseudoVideo')
            assert [s.image_repeat for s in loaders] == [False]
            continue
        for loader in loaders:
            assert loader.get('image_repeat', True) is (
                dataset.source not in IMAGE_SOURCES), dataset.source


def test_an_image_reaches_the_model_as_one_frame(tmp_path):
    """The recipes' image pipeline (at the tiny model's size) gives a
    (1, 3, H, W) clip; the tiny model encodes it with its single-frame
    position table and trains on it; its features differ from the same
    image repeated to a clip."""
    path = str(tmp_path / 'image.jpg')
    pixels = np.random.default_rng(0).integers(0, 255, (48, 64, 3),
                                               dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    sources = Config.fromfile(
        str(CONFIGS / '_base_/datasets/tpo_sources.py'))
    steps = [dict(s, size=(32, 32)) if s.type == 'ResizeFrames' else s
             for s in sources.image_pipeline[:2]]
    results = dict(video_path=path)
    for step in steps:
        results = TRANSFORMS.build(step)(results)
    assert results['frames'].shape == (1, 32, 32, 3)
    clip = torch.from_numpy(results['frames']).permute(0, 3, 1, 2)

    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    samples = [region_sample(), region_sample((2., 2., 20., 30.))]
    batch = tpo_collate([dict(inputs=clip, data_samples=s) for s in samples])
    assert batch['inputs'].shape[1] == 1
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(sum(losses.values()))
    one = model.vision_encoder(data['inputs'][:1])
    repeated = model.vision_encoder(data['inputs'][:1].expand(-1, 4, -1, -1,
                                                               -1))
    assert one.shape[1] * 4 == repeated.shape[1]
