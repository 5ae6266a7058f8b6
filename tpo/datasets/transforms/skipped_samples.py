"""The samples a pipeline skipped (unreadable videos or images), handed on
with the sample that replaces them.

A loading transform that gives up on a sample calls
:func:`record_skipped_sample` in the process that runs it (a dataloader
worker); :class:`~tpo.datasets.TPOBaseDataset` takes the records
(:func:`take_skipped_samples`) when it returns the sample that replaces the
skipped ones and stores them in that sample's metainfo
(:data:`SKIPPED_SAMPLES_KEY`); :class:`~tpo.engine.hooks.SkippedSamplesHook`
collects them from every batch in the training process. Nothing depends on
when or how the workers were started.
"""
import os
from collections import deque
from typing import Deque, List, Tuple

#: Metainfo key of a data sample: the ``(path, reason)`` pairs of the
#: samples it replaced.
SKIPPED_SAMPLES_KEY = 'skipped_samples'

# Bounded: a pipeline used outside TPOBaseDataset is never taken from.
_pending: Deque[Tuple[str, str]] = deque(maxlen=10000)


def record_skipped_sample(path: str, reason: str) -> None:
    """Note that the sample of ``path`` was skipped, and why."""
    _pending.append((str(path), ' '.join(str(reason).split())))


def take_skipped_samples() -> List[Tuple[str, str]]:
    """The ``(path, reason)`` pairs noted in this process since the last
    call (and forget them)."""
    taken = list(_pending)
    _pending.clear()
    return taken


def read_skipped_samples(record: str) -> List[str]:
    """The skipped paths listed in a record file written by
    ``SkippedSamplesHook`` (``path<TAB>reason`` lines), in order; empty if
    there is no file."""
    if not os.path.isfile(record):
        return []
    with open(record) as f:
        return [line.split('\t', 1)[0] for line in f if line.strip()]
