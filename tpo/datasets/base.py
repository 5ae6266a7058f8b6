"""The base class of the annotation readers."""
import copy
import os.path as osp
from typing import Any, Callable, Iterable, List, Optional

from mmengine.dataset import BaseDataset

from .annotation import AnnotationError, require_path


class TPOBaseDataset(BaseDataset):
    """An mmengine :class:`~mmengine.dataset.BaseDataset` whose items are
    tagged with the task and the source dataset.

    Subclasses set :attr:`TASK` and ``METAINFO['dataset_name']`` and implement
    :meth:`parse_data_list`. Every item holds ``video_path`` (absolute),
    ``task`` and ``source``.

    Args:
        ann_file (str): Annotation file, relative to ``data_root``.
        source (str, optional): Name of the dataset written to each item's
            ``source`` and to ``metainfo['dataset_name']`` (e.g. ``'refcoco+'``
            for the RefCOCO+ annotations). Defaults to the class's name.
        data_root (str): Root of ``ann_file`` and of ``data_prefix``.
        data_prefix (dict): ``video``: folder of the videos or images.
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
                 **kwargs) -> None:
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
        passed as the one argument). With :attr:`collect_errors`, a row whose
        parse raises :class:`AnnotationError` is recorded in
        :attr:`parse_errors` and left out; otherwise the error propagates.
        """
        results = []
        for row in rows:
            args = row if isinstance(row, tuple) else (row, )
            try:
                results.append(parse(*args))
            except AnnotationError as error:
                if not self.collect_errors:
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
        return data_list
