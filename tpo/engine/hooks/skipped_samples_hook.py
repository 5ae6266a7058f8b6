"""Count, list and bound the samples the data pipeline skipped."""
import logging
import os
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from tpo.datasets.transforms.skipped_samples import SKIPPED_SAMPLES_KEY
from tpo.registry import HOOKS


class TooManyBadSamplesError(RuntimeError):
    """More of the training samples than allowed could not be read."""


@HOOKS.register_module()
class SkippedSamplesHook(Hook):
    """Report the training samples skipped because their video or images
    could not be read (``on_error='skip'`` of the loading transforms), and
    stop when too many are.

    The dataset hands each skipped sample to the sample that replaced it
    (its metainfo ``skipped_samples``), so this hook, in the training
    process, sees every skip whatever the dataloader workers (several,
    persistent, started before any hook ran). It appends them to
    ``<work_dir>/skipped_samples[_rank<r>].txt`` (``path<TAB>reason``, one
    line per skip), logs the count every ``interval`` iterations when it
    grew, at the end of each epoch and of training, and raises
    :class:`TooManyBadSamplesError` naming the share and the first bad
    files once more than ``max_bad_share`` of the samples looked at (read
    or skipped, at least ``min_samples``) were skipped. A dataset that finds
    no readable sample at all stops earlier, in the dataset (see
    :class:`~tpo.datasets.TPOBaseDataset`).

    Args:
        interval: iterations between checks of iteration-based training.
        max_bad_share: largest tolerated share of skipped samples.
        min_samples: samples to look at before the share is judged.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 interval: int = 500,
                 max_bad_share: float = 0.1,
                 min_samples: int = 100) -> None:
        if not 0 <= max_bad_share <= 1:
            raise ValueError(
                f'max_bad_share must be in [0, 1], got {max_bad_share}')
        self.interval = interval
        self.max_bad_share = max_bad_share
        self.min_samples = min_samples
        self.record: Optional[str] = None
        self.skipped: List[Tuple[str, str]] = []
        self.num_read = 0
        self.reported = 0

    def before_run(self, runner) -> None:
        rank = get_rank()
        name = 'skipped_samples.txt' if rank == 0 else \
            f'skipped_samples_rank{rank}.txt'
        self.record = osp.join(runner.work_dir, name)
        if osp.isfile(self.record) and not runner._resume:
            os.remove(self.record)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._collect(data_batch)
        if self.every_n_train_iters(runner, self.interval):
            self._report(runner, f'iteration {runner.iter + 1}')
        self._check_share()

    def after_train_epoch(self, runner) -> None:
        self._report(runner, f'epoch {runner.epoch}', always=True)

    def after_train(self, runner) -> None:
        self._report(runner, 'end of training', always=True)

    def _collect(self, data_batch) -> None:
        samples = data_batch.get('data_samples') if isinstance(
            data_batch, dict) else None
        if not samples:
            return
        new = [tuple(item) for sample in samples
               for item in sample.metainfo.get(SKIPPED_SAMPLES_KEY, ())]
        self.num_read += len(samples)
        if not new:
            return
        self.skipped += new
        with open(self.record, 'a') as f:
            f.writelines(f'{path}\t{reason}\n' for path, reason in new)

    def _check_share(self) -> None:
        seen = self.num_read + len(self.skipped)
        if not seen or seen < self.min_samples:
            return
        share = len(self.skipped) / seen
        if share <= self.max_bad_share:
            return
        first = '; '.join(f'{path} ({reason})'
                          for path, reason in self.skipped[:5])
        raise TooManyBadSamplesError(
            f'{share:.1%} of the {seen} training samples looked at could not '
            f'be read ({len(self.skipped)} skipped), more than '
            f'max_bad_share={self.max_bad_share:.1%}. First bad files: '
            f'{first}. All of them: {self.record}. Fix the data (python '
            'tools/dataset_converters/check_dataset.py CONFIG lists missing '
            'files), or allow more with custom_hooks='
            "[dict(type='SkippedSamplesHook', max_bad_share=...)].")

    def _report(self, runner, when: str, always: bool = False) -> None:
        count = len(self.skipped)
        if count == self.reported and not always:
            return
        self.reported = count
        level = logging.WARNING if count else logging.INFO
        where = f' (list: {self.record})' if count else ''
        runner.logger.log(
            level, f'{when}: {count} sample(s) skipped so far because their '
            f'video or images could not be read{where}.')
