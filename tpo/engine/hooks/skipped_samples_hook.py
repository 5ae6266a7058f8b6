"""Count and report the samples the data pipeline skipped."""
import logging
import os
import os.path as osp
from typing import Optional

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from tpo.datasets.transforms.skipped_samples import (SKIPPED_SAMPLES_ENV,
                                                     read_skipped_samples)
from tpo.registry import HOOKS


@HOOKS.register_module()
class SkippedSamplesHook(Hook):
    """Report how many samples were skipped because their video or images
    could not be read (``on_error='skip'`` of the loading transforms).

    Before the dataloader workers start, the hook names a record file
    (``<work_dir>/skipped_samples[_rank<r>].txt``) in the environment; every
    skip appends its path and reason there. The count is logged at the end
    of each epoch, every ``interval`` iterations when it grew, and at the end
    of training, with the record's path.

    Args:
        interval: iterations between checks of iteration-based training.
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: int = 500) -> None:
        self.interval = interval
        self.record: Optional[str] = None
        self.reported = 0

    def before_run(self, runner) -> None:
        rank = get_rank()
        name = 'skipped_samples.txt' if rank == 0 else \
            f'skipped_samples_rank{rank}.txt'
        self.record = osp.join(runner.work_dir, name)
        if osp.isfile(self.record) and not runner._resume:
            os.remove(self.record)
        os.environ[SKIPPED_SAMPLES_ENV] = self.record

    def _report(self, runner, when: str, always: bool = False) -> None:
        count = len(read_skipped_samples(self.record)) if self.record else 0
        if count == self.reported and not always:
            return
        self.reported = count
        level = logging.WARNING if count else logging.INFO
        runner.logger.log(
            level, f'{when}: {count} sample(s) skipped so far because their '
            f'video or images could not be read (list: {self.record}).')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._report(runner, f'iteration {runner.iter + 1}')

    def after_train_epoch(self, runner) -> None:
        self._report(runner, f'epoch {runner.epoch}', always=True)

    def after_train(self, runner) -> None:
        self._report(runner, 'end of training', always=True)
