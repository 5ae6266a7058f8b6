"""SEED-Bench-2 multiple-choice questions.

Format of the released annotations (verified against ``DATASET.md`` and
``SEED-Bench-2/eval.py`` of ``AILab-CVC/SEED-Bench``; data on Hugging Face
``AILab-CVC/SEED-Bench-2``): ``SEED-Bench_v2_level1_2_3.json`` is an object
``{"questions": [...], "question_type": {"Scene Understanding": 1, ...}}``.
Each question has ``answer`` (``'A'``-``'D'``), ``choice_a`` ..
``choice_d``, ``data_id`` (an image name for the CC3M dimensions 1-9, else a
list of image / frame paths such as
``"task19/Charades_test_frame/WRQ95/1.png"``), ``data_source`` (``'cc3m'``
or ``'SEED-Bench v2'``, choosing the image root), ``data_type`` (``'Single
Image'``, ``'Multiple Images'``, ``'Video'``, ``'Interleaved Image'``,
``'Image Generation'``, ``'Image & Text Generation'``), ``level``
(``'L1'``-``'L3'``), ``question``, ``question_id`` (``'17_0'``),
``question_type_id`` (the evaluation dimension 1-27), ``subpart`` (e.g.
``'Multiple-Images & Text Comprehension'``, ``'Video & Text
Comprehension'``) and ``version`` (``'v1'`` / ``'v2'``).

The official evaluation ranks the four choices by likelihood; for a
generative model the prompt is lmms-eval's (``tasks/seedbench_2``): the
question, ``"A. ..."`` .. ``"D. ..."`` and ``"Answer with the option's letter
from the given choices directly."``

The images of a question (one image, the two images of dimensions 17-18, the
eight frames of the video dimensions 19-22, ...) load as the frames of one
clip with :class:`~tpo.datasets.transforms.load_images.LoadImageSequence`
(key ``image_paths``). ``<img>`` placeholders of the interleaved dimensions
stay in the question text.
"""
from typing import Dict, List, Optional, Sequence

from tpo.registry import DATASETS
from .annotation import AnnotationError, AnnotationRecord, load_json
from .base import TPOBaseDataset
from .mcq_utils import (LETTERS, format_options, join_path,
                        mcq_prompt_fields, read_letter)

QUESTION_PROMPT = ("\nAnswer with the option's letter from the given choices "
                   'directly.')
# The evaluation dimensions, as listed in SEED-Bench's DATASET.md (used when
# the annotation file has no "question_type" table).
DIMENSIONS = {
    1: 'Scene Understanding', 2: 'Instance Identity',
    3: 'Instance Attributes', 4: 'Instance Location',
    5: 'Instances Counting', 6: 'Spatial Relation',
    7: 'Instance Interaction', 8: 'Visual Reasoning',
    9: 'Text Understanding', 10: 'Celebrity Recognition',
    11: 'Landmark Recognition', 12: 'Chart Understanding',
    13: 'Visual Referring Expression', 14: 'Science Knowledge',
    15: 'Emotion Recognition', 16: 'Visual Mathematics',
    17: 'Difference Spotting', 18: 'Meme Comprehension',
    19: 'Global Video Understanding', 20: 'Action Recognition',
    21: 'Action Prediction', 22: 'Procedure Understanding',
    23: 'In-Context Captioning', 24: 'Interleaved Image-Text Analysis',
    25: 'Text-to-Image Generation', 26: 'Next Image Prediction',
    27: 'Text-Image Creation'
}
CHOICE_FIELDS = ('choice_a', 'choice_b', 'choice_c', 'choice_d')
# data_source -> data_prefix key of its image root
SOURCE_PREFIX = {'cc3m': 'cc3m', 'SEED-Bench v2': 'video'}


@DATASETS.register_module()
class SEEDBench2Dataset(TPOBaseDataset):
    """SEED-Bench-2: one item per (selected) question.

    Items: ``image_paths`` (absolute), ``video_path`` (the first image),
    ``task='mcq'``, ``source``, ``question_id``, ``question_type_id``,
    ``task_type`` (the dimension's name), ``subpart``, ``data_type``,
    ``level``, ``version``, ``data_source``, ``question``, ``options`` /
    ``candidates`` (the four choices), ``gt_answer`` (the letter),
    ``answer`` (its text), ``question_text``, ``answer_prefix``,
    ``instruction`` and ``conversation``.

    Args:
        ann_file (str): ``SEED-Bench_v2_level1_2_3.json`` (or a JSON list of
            questions), relative to ``data_root``.
        data_prefix (dict): ``cc3m``: root of the ``cc3m-image`` images
            (``data_source='cc3m'``); ``video``: root of the
            ``SEED-Bench-2-image`` data (``data_source='SEED-Bench v2'``).
        question_type_ids (Sequence[int], optional): Keep only these
            dimensions, e.g. ``range(17, 23)`` for the multiple-image and
            video dimensions. Defaults to all 27.
        subparts (Sequence[str], optional): Keep only these subparts.
        levels (Sequence[str], optional): Keep only these levels (the
            official ``--evaluate_level L2`` is ``('L1', 'L2')``).
        versions (Sequence[str], optional): Keep only these versions.
        question_prompt (str): Appended to the prompt.
        answer_prefix (str): Defaults to ``''``.
        instruction (str): System prompt. Defaults to ``''``.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mcq'
    METAINFO = dict(dataset_name='seedbench2')

    def __init__(self,
                 ann_file: str = '',
                 question_type_ids: Optional[Sequence[int]] = None,
                 subparts: Optional[Sequence[str]] = None,
                 levels: Optional[Sequence[str]] = None,
                 versions: Optional[Sequence[str]] = None,
                 question_prompt: str = QUESTION_PROMPT,
                 answer_prefix: str = '',
                 instruction: str = '',
                 data_prefix: dict = dict(cc3m='', video=''),
                 **kwargs) -> None:
        self.question_type_ids = None if question_type_ids is None else \
            tuple(int(i) for i in question_type_ids)
        self.subparts = None if subparts is None else tuple(subparts)
        self.levels = None if levels is None else tuple(levels)
        self.versions = None if versions is None else tuple(versions)
        self.question_prompt = question_prompt
        self.answer_prefix = answer_prefix
        self.instruction = instruction
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def parse_data_list(self) -> List[dict]:
        """One item per question passing the filters, in file order."""
        data = load_json(self.ann_file)
        names = dict(DIMENSIONS)
        if not isinstance(data, list):
            if not isinstance(data, dict) or not isinstance(
                    data.get('questions'), list):
                raise AnnotationError(
                    f'{self.ann_file}: expected a JSON list of questions or '
                    "an object with a 'questions' list.")
            table = data.get('question_type')
            if isinstance(table, dict):
                # the file's own {name: id} table names the dimensions
                names.update({
                    v: str(k)
                    for k, v in table.items()
                    if isinstance(v, int) and not isinstance(v, bool)
                })
            data = data['questions']
        items = []
        for index, row in enumerate(data):
            record = AnnotationRecord(self.ann_file, f'index {index}', row,
                                      id_key='question_id')
            item = self._parse_item(record, names)
            if self._keep(item):
                items.append(item)
        return items

    def _keep(self, item: dict) -> bool:
        return all(
            allowed is None or item[key] in allowed
            for key, allowed in (('question_type_id', self.question_type_ids),
                                 ('subpart', self.subparts),
                                 ('level', self.levels), ('version',
                                                          self.versions)))

    def _parse_item(self, record: AnnotationRecord,
                    names: Dict[int, str]) -> dict:
        type_id = record.fetch('question_type_id', int)
        if type_id not in names:
            raise record.error(
                'question_type_id', f'{type_id} is not a SEED-Bench-2 '
                f'dimension (1-{max(names)})')
        data_source = record.text('data_source')
        if data_source not in SOURCE_PREFIX:
            raise record.error(
                'data_source', f'must be one of {sorted(SOURCE_PREFIX)}, got '
                f'{data_source!r}')
        data_id = record.fetch('data_id', (str, list))
        names_list = [data_id] if isinstance(data_id, str) else data_id
        if not names_list or not all(
                isinstance(n, str) and n.strip() for n in names_list):
            raise record.error(
                'data_id', 'must be a file name or a non-empty list of file '
                f'names, got {str(data_id)[:80]}')
        root = self.data_prefix.get(SOURCE_PREFIX[data_source], '')
        image_paths = [join_path(root, name) for name in names_list]
        options = [record.fetch(field, str) for field in CHOICE_FIELDS]
        gt_answer = read_letter(record, 'answer', len(options))
        question = record.fetch('question', str)
        question_text = question + '\n' + format_options(
            options, '{letter}. {text}')
        return dict(
            image_paths=image_paths,
            video_path=image_paths[0],
            question_id=str(record.fetch('question_id', (str, int))),
            question_type_id=type_id,
            task_type=names[type_id],
            subpart=record.text('subpart'),
            data_type=record.text('data_type'),
            level=record.text('level'),
            version=record.text('version'),
            data_source=data_source,
            question=question,
            options=options,
            candidates=list(options),
            answer=options[LETTERS.index(gt_answer)],
            **mcq_prompt_fields(question_text, gt_answer, gt_answer,
                                self.question_prompt, self.answer_prefix,
                                self.instruction))
