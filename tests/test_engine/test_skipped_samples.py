"""Unreadable videos are skipped by the workers, recorded and counted."""
import logging
import os
from types import SimpleNamespace

import torch

from tpo.datasets.transforms import LoadVideoFrames
from tpo.datasets.transforms.skipped_samples import (SKIPPED_SAMPLES_ENV,
                                                     read_skipped_samples)
from tpo.engine.hooks import SkippedSamplesHook


class Logged:
    def __init__(self):
        self.lines = []

    def log(self, level, message):
        self.lines.append((level, message))


class BrokenVideos(torch.utils.data.Dataset):
    def __init__(self, paths):
        self.paths, self.load = paths, LoadVideoFrames(num_frames=2)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.load(dict(video_path=self.paths[i])) is None


def test_workers_record_skips_and_the_hook_counts_them(tmp_path,
                                                       monkeypatch):
    monkeypatch.delenv(SKIPPED_SAMPLES_ENV, raising=False)
    (tmp_path / 'corrupt.mp4').write_bytes(b'not a video')
    runner = SimpleNamespace(work_dir=str(tmp_path), _resume=False,
                             logger=Logged(), iter=0)
    hook = SkippedSamplesHook(interval=1)
    hook.before_run(runner)
    try:
        assert os.environ[SKIPPED_SAMPLES_ENV] == str(
            tmp_path / 'skipped_samples.txt')
        paths = [str(tmp_path / 'missing.mp4'), str(tmp_path / 'corrupt.mp4')]
        loader = torch.utils.data.DataLoader(BrokenVideos(paths),
                                             num_workers=2)
        assert [bool(x) for x in loader] == [True, True]  # both skipped
        assert read_skipped_samples(hook.record) == paths
        hook.after_train_iter(runner, 0)
        level, message = runner.logger.lines[-1]
        assert level == logging.WARNING
        assert '2 sample(s) skipped' in message and hook.record in message
        hook.after_train_iter(runner, 1)  # unchanged: not repeated
        assert len(runner.logger.lines) == 1
        hook.after_train(runner)  # always at the end
        assert len(runner.logger.lines) == 2
    finally:
        os.environ.pop(SKIPPED_SAMPLES_ENV, None)
