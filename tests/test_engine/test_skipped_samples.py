"""Unreadable videos are skipped, and every skip reaches SkippedSamplesHook
whatever the dataloader workers (issue 15): the count and the list are
right with two persistent workers started before any hook ran; too many
bad samples stop the run naming the share and the files; a dataset with no
readable sample stops naming them, not with mmengine's generic message."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel

from tpo.datasets import TPOBaseDataset, UnreadableDatasetError
from tpo.datasets.synthetic.video_io import write_mp4
from tpo.datasets.transforms.skipped_samples import read_skipped_samples
from tpo.engine import build_runner
from tpo.engine.hooks import SkippedSamplesHook
from tpo.engine.hooks.skipped_samples_hook import TooManyBadSamplesError
from tpo.registry import DATASETS, MODELS

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = [
    dict(type='LoadVideoFrames', num_frames=2, on_error='skip'),
    dict(type='PackTPOInputs'),
]


@DATASETS.register_module(force=True)
class VideoListDataset(TPOBaseDataset):
    """The videos listed in a JSON file."""

    TASK = 'chat'
    METAINFO = dict(dataset_name='video_list')

    def parse_data_list(self):
        with open(self.ann_file) as f:
            return [dict(video_path=p) for p in json.load(f)]


@MODELS.register_module(force=True)
class FrameMeanModel(BaseModel):
    """Fits one number to the mean brightness of each clip."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.zeros(()))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        means = torch.stack([clip.float().mean() / 255 for clip in inputs])
        loss = (self.scale * means - 1).pow(2).mean()
        return dict(loss=loss) if mode == 'loss' else means


@pytest.fixture(scope='module')
def videos(tmp_path_factory) -> dict:
    """Four readable videos; a corrupt, an empty and a missing one."""
    root = tmp_path_factory.mktemp('videos')
    good = []
    for i in range(4):
        path = root / f'good_{i}.mp4'
        write_mp4(str(path), np.full((4, 64, 64, 3), 40 * i, np.uint8), 4)
        good.append(str(path))
    (root / 'corrupt.mp4').write_bytes(b'not a video')
    (root / 'empty.mp4').write_bytes(b'')
    bad = [str(root / n) for n in ('corrupt.mp4', 'empty.mp4', 'missing.mp4')]
    return dict(good=good, bad=bad)


def list_file(tmp_path, paths) -> str:
    path = tmp_path / 'videos.json'
    path.write_text(json.dumps(paths))
    return str(path)


def run_cfg(tmp_path, ann_file: str, **hook) -> Config:
    runtime = Config.fromfile(str(ROOT / 'configs/_base_/default_runtime.py'))
    return Config(dict(
        runtime.to_dict(),
        work_dir=str(tmp_path / 'work'),
        model=dict(type='FrameMeanModel'),
        train_dataloader=dict(
            dataset=dict(type='VideoListDataset', ann_file=ann_file,
                         pipeline=PIPELINE),
            batch_size=2, num_workers=2, persistent_workers=True,
            collate_fn=dict(type='tpo.tpo_collate'),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=1),
        optim_wrapper=dict(constructor='TPOOptimWrapperConstructor',
                           optimizer=dict(type='SGD', lr=0.1)),
        custom_hooks=[dict(type='SkippedSamplesHook', **hook)]))


def hook_of(runner) -> SkippedSamplesHook:
    return next(h for h in runner.hooks if isinstance(h, SkippedSamplesHook))


def test_persistent_workers_report_every_skip(tmp_path, videos):
    """Two persistent workers, forked when the train loop is built (before
    ``before_run``): each bad video of the epoch is skipped, replaced, and
    listed; the count in the log is the number of lines of the list."""
    paths = videos['good'][:2] + videos['bad'] + videos['good'][2:]
    runner = build_runner(run_cfg(tmp_path, list_file(tmp_path, paths),
                                  min_samples=1000))
    runner.train()
    # Stop the persistent workers now (left to garbage collection, their
    # shutdown costs the next test seconds).
    runner.train_loop.dataloader._iterator._shutdown_workers()
    hook = hook_of(runner)
    listed = read_skipped_samples(hook.record)
    # every bad video came up once in the epoch (and maybe again as a
    # random replacement); nothing readable is listed
    assert set(videos['bad']) <= set(listed) <= set(videos['bad'])
    assert len(listed) == len(hook.skipped) >= 3
    assert hook.num_read == len(paths)  # each item gave one sample
    reasons = dict(hook.skipped)
    assert 'FileNotFoundError' in reasons[videos['bad'][2]]
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert (f'end of training: {len(listed)} sample(s) skipped so far '
            f'because their video or images could not be read (list: '
            f'{hook.record})') in log


def test_too_many_bad_samples_stop_the_run(tmp_path, videos):
    paths = videos['good'][:2] + videos['bad']
    cfg = run_cfg(tmp_path, list_file(tmp_path, paths), max_bad_share=0.1,
                  min_samples=4)
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    runner = build_runner(cfg)
    with pytest.raises(TooManyBadSamplesError) as info:
        runner.train()
    message = str(info.value)
    assert 'of the' in message and 'max_bad_share=10.0%' in message
    assert videos['bad'][0] in message  # the first bad file, with its reason
    assert 'Cannot read' in message


def test_a_dataset_without_readable_samples_names_them(tmp_path, videos):
    dataset = VideoListDataset(ann_file=list_file(tmp_path, videos['bad']),
                               pipeline=PIPELINE, max_refetch=5)
    with pytest.raises(UnreadableDatasetError) as info:
        dataset[0]
    message = str(info.value)
    assert 'VideoListDataset (video_list): 6 samples in a row' in message
    assert videos['bad'][0] in message and 'Cannot find valid' not in message
