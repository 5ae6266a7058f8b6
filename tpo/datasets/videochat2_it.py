"""VideoChat2 instruction-tuning (conversation) annotations."""
from typing import List

from tpo.registry import DATASETS
from .annotation import AnnotationRecord, load_json, read_clip_window
from .base import TPOBaseDataset


@DATASETS.register_module()
class VideoChat2ITDataset(TPOBaseDataset):
    """One file of VideoChat2-IT: a JSON list of ``{"video" | "image": path,
    "QA": [{"i": instruction, "q": question, "a": answer}, ...]}`` with an
    optional ``start`` / ``end`` (seconds) clip.

    As in VideoChat2's ``process_qa``, the first turn's ``i`` is the
    instruction (a system message) and each turn is its ``q`` (empty for
    captions) and ``a``.

    Items: ``video_path``, ``task='chat'``, ``source``, ``instruction``
    (str, may be empty), ``conversation`` (list of ``{'question',
    'answer'}``) and ``clip_window`` when the clip is given.

    Args: see :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'chat'
    METAINFO = dict(dataset_name='videochat2_it')

    def parse_data_list(self) -> List[dict]:
        """One item per entry of the JSON list."""
        return self.parse_each(
            self._parse_entry,
            (AnnotationRecord(self.ann_file, f'index {index}', entry)
             for index, entry in enumerate(load_json(self.ann_file, list))))

    def _parse_entry(self, record: AnnotationRecord) -> dict:
        media = 'video' if 'video' in record else 'image'
        if media not in record:
            raise record.error('video', "is missing (and so is 'image')")
        turns = record.fetch('QA', list)
        if not turns:
            raise record.error('QA', 'is empty')
        turns = [
            AnnotationRecord(record.file, f'{record.label} QA[{i}]', turn)
            for i, turn in enumerate(turns)
        ]
        item = dict(
            video_path=self.video_path(record.text(media)),
            instruction=turns[0].fetch('i', str).strip()
            if 'i' in turns[0] else '',
            conversation=[
                dict(question=turn.fetch('q', str), answer=turn.text('a'))
                for turn in turns
            ])
        window = read_clip_window(record)
        if window is not None:
            item['clip_window'] = window
        return item
