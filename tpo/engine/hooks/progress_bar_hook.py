"""A progress bar over the validation / test set."""
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from tpo.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show a progress bar (samples done, rate, ETA) during val and test."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._bar: Optional[ProgressBar] = None

    def _start(self, runner, dataloader) -> None:
        if is_main_process():
            self._bar = ProgressBar(len(dataloader.dataset))

    def _update(self, outputs: Optional[Sequence]) -> None:
        if self._bar is not None:
            self._bar.update(len(outputs) if outputs else 1)

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None

    def before_test_epoch(self, runner) -> None:
        self._start(runner, runner.test_dataloader)

    def before_val_epoch(self, runner) -> None:
        self._start(runner, runner.val_dataloader)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._update(outputs)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._update(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish()
