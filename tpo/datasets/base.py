"""The base class of the annotation readers."""
import copy
import logging
import os.path as osp
from typing import Any, Callable, Iterable, List, Optional

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .annotation import AnnotationError, require_path
from .transforms.skipped_samples import (SKIPPED_SAMPLES_KEY,
                                         record_skipped_sample,
                                         take_skipped_samples)


class UnreadableDatasetError(RuntimeError):
    """No sample of a dataset could be loaded in ``max_refetch`` tries."""


class TPOBaseDataset(BaseDataset):
    """An mmengine :class:`~mmengine.dataset.BaseDataset` whose items are
    tagged with the task and the source dataset.

    Subclasses set :attr:`TASK` and ``METAINFO['dataset_name']`` and implement
    :meth:`parse_data_list`. Every item holds ``video_path`` (absolute),
    ``task`` and ``source``.

    While training, a sample whose pipeline gives None (a video or image
    that could not be read, with ``on_error='skip'``) is replaced by a
    random other one, as in mmengine; the skipped ones ride along in the
    replacement's metainfo ``skipped_samples`` (``(path, reason)`` pairs)
    for ``SkippedSamplesHook``. When ``max_refetch`` samples in a row fail,
    :class:`UnreadableDatasetError` names the dataset and the first files.

    Args:
        ann_file (str): Annotation file, relative to ``data_root``.
        source (str, optional): Name of the dataset written to each item's
            ``source`` and to ``metainfo['dataset_name']`` (e.g. ``'refcoco+'``
            for the RefCOCO+ annotations). Defaults to the class's name.
        data_root (str): Root of ``ann_file`` and of ``data_prefix``.
        data_prefix (dict): ``video``: folder of the videos or images.
        skip_bad_records (bool): Leave out an annotation record that cannot
            be read (readers that parse through :meth:`parse_each`), with a
            logged count and the first errors, instead of stopping at it.
            Defaults to False.
        **kwargs: The other arguments of
            :class:`~mmengine.dataset.BaseDataset` (``metainfo``,
            ``pipeline``, ``test_mode``, ``indices``, ``lazy_init``,
            ``max_refetch``, ...).
    """

    TASK: str = ''
    #: Set to True (before :meth:`full_init`) to record every malformed
    #: record in :attr:`parse_errors` and skip it instead of raising at the
    #: first one; readers opt in by parsing through :meth:`parse_each`.
    #: ``tools/dataset_converters/check_dataset.py`` uses it.
    collect_errors: bool = False

    def __init__(self,
                 ann_file: str = '',
                 source: Optional[str] = None,
                 data_root: str = '',
                 data_prefix: dict = dict(video=''),
                 skip_bad_records: bool = False,
                 **kwargs) -> None:
        self.skip_bad_records = skip_bad_records
        if data_root:
            require_path(data_root, f'{type(self).__name__}: data_root')
        if source is not None:
            kwargs['metainfo'] = dict(
                kwargs.get('metainfo') or {}, dataset_name=source)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        # Metainfo values here are names, never meta files to be parsed.
        return dict(copy.deepcopy(cls.METAINFO), **(metainfo or {}))

    @property
    def source(self) -> str:
        """The name of the dataset the items come from."""
        return self.metainfo['dataset_name']

    def video_path(self, name: str) -> str:
        """Absolute path of a video or image named relative to
        ``data_prefix['video']``."""
        return osp.abspath(osp.join(self.data_prefix.get('video', ''), name))

    def parse_each(self, parse: Callable[..., Any],
                   rows: Iterable[Any]) -> List[Any]:
        """``[parse(*row) for row in rows]`` (a row that is not a tuple is
        passed as the one argument). With :attr:`collect_errors` or
        ``skip_bad_records``, a row whose parse raises
        :class:`AnnotationError` is recorded in :attr:`parse_errors` and left
        out; otherwise the error propagates.
        """
        results = []
        for row in rows:
            args = row if isinstance(row, tuple) else (row, )
            try:
                results.append(parse(*args))
            except AnnotationError as error:
                if not (self.collect_errors or self.skip_bad_records):
                    raise
                self.__dict__.setdefault('parse_errors', []).append(error)
        return results

    def parse_data_list(self) -> List[dict]:
        """Read the annotations into items with ``video_path`` and the task
        fields."""
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        """The items of :meth:`parse_data_list`, tagged with ``task`` and
        ``source``."""
        require_path(self.ann_file, f'{type(self).__name__}: ann_file')
        data_list = self.parse_data_list()
        for item in data_list:
            item.update(task=self.TASK, source=self.source)
        errors = getattr(self, 'parse_errors', [])
        if errors and self.skip_bad_records and not self.collect_errors:
            first = '\n  '.join(str(e) for e in errors[:5])
            print_log(
                f'{type(self).__name__} ({self.source}): {len(errors)} bad '
                f'annotation record(s) skipped (skip_bad_records=True), '
                f'{len(data_list)} items kept. First:\n  {first}',
                logger='current', level=logging.WARNING)
        return data_list

    def __getitem__(self, idx: int) -> dict:
        """The ``idx``-th sample after the pipeline; while training, a
        sample that cannot be loaded is replaced (see the class
        docstring)."""
        if self.test_mode:
            return super().__getitem__(idx)
        if not self._fully_initialized:
            self.full_init()
        take_skipped_samples()  # notes of other datasets' pipelines
        skipped = []
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                if skipped:
                    self._hand_on(data, skipped)
                return data
            skipped += take_skipped_samples() or [
                (self._describe(idx), 'the pipeline returned None')]
            idx = self._rand_another()
        first = '; '.join(f'{path} ({reason})' for path, reason in skipped[:3])
        raise UnreadableDatasetError(
            f'{type(self).__name__} ({self.source}): {len(skipped)} samples '
            f'in a row could not be loaded (100% of those tried; '
            f'max_refetch={self.max_refetch}). First: {first}. Check '
            'data_root / data_prefix and the files (python '
            'tools/dataset_converters/check_dataset.py CONFIG lists the '
            'missing ones).')

    def _describe(self, idx: int) -> str:
        info = self.get_data_info(idx)
        return str(info.get('video_path') or info.get('frame_dir') or
                   f'item {idx}')

    @staticmethod
    def _hand_on(data: Any, skipped: list) -> None:
        """Store ``skipped`` in the metainfo of the sample that replaces
        them (kept for the next sample when it has no data sample)."""
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if hasattr(sample, 'set_metainfo'):
            sample.set_metainfo({SKIPPED_SAMPLES_KEY: skipped})
        else:
            for path, reason in skipped:
                record_skipped_sample(path, reason)
