"""A progress bar over the training iterations and the validation / test
set."""
import sys
from typing import Dict

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from tpo.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show a progress bar (steps done, rate, ETA) on standard error.

    Args:
        train (bool): also over the training iterations (the logger's lines
            interleave with it unless standard output goes elsewhere, as in
            ``tools/quickstart.py``). Defaults to False: val and test only.
    """

    priority = 'VERY_LOW'

    def __init__(self, train: bool = False) -> None:
        self.train = train
        self._bars: Dict[str, ProgressBar] = {}  # 'train', 'eval'

    def _start(self, phase: str, total: int) -> None:
        if is_main_process():
            self._bars[phase] = ProgressBar(total, file=sys.stderr)

    def _update(self, phase: str, steps: int) -> None:
        if phase in self._bars:
            self._bars[phase].update(steps)

    def _finish(self, phase: str) -> None:
        bar = self._bars.pop(phase, None)
        if bar is not None:
            bar.file.write('\n')
            bar.file.flush()

    def before_train(self, runner) -> None:
        if self.train:
            self._start('train', runner.max_iters - runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._update('train', 1)

    def after_train(self, runner) -> None:
        self._finish('train')

    def before_test_epoch(self, runner) -> None:
        self._start('eval', len(runner.test_dataloader.dataset))

    def before_val_epoch(self, runner) -> None:
        self._start('eval', len(runner.val_dataloader.dataset))

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._update('eval', len(outputs) if outputs else 1)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._update('eval', len(outputs) if outputs else 1)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish('eval')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish('eval')
