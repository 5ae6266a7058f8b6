"""The temporal-reasoning data of stage 3 (Table 17: YouCook2, ActivityNet,
40K) as VideoChat2-IT conversations, from their dense-caption annotations.

The paper names the sources and the size only. Here each video's timed
event captions become, as an assumption documented in
``docs/dataset_preparation.md``:

* one *dense captioning* conversation: every event, in order, with its
  start and end (``"0.0 - 10.5 seconds, spread the butter. ..."``);
* per event, either a *segment* question (what happens between two times)
  or, when a later event exists, an *order* question (what happens after
  this event), drawn with a seeded generator.

:func:`read_youcook2` and :func:`read_activitynet` read the public formats
into :class:`DenseCaptions`; :func:`reasoning_conversations` writes the
entries ``{"video", "QA": [{"i", "q", "a"}]}`` that
:class:`~tpo.datasets.VideoChat2ITDataset` reads. A malformed record raises
an :class:`~tpo.datasets.annotation.AnnotationError` naming the file, the
record and the field; windows follow the conventions of
:mod:`tpo.datasets.converters.temporal` (ends clipped to the duration; an
event whose window is still invalid raises, or with ``skip_invalid=True`` is
dropped and its message kept in :attr:`DenseCaptions.skipped`: ActivityNet
Captions ``train.json`` has 2 windows with start > end).
"""
import json
import os
import os.path as osp
from typing import Iterable, List, NamedTuple, Optional, Tuple

import numpy as np

from ..annotation import AnnotationRecord, load_json
from .temporal import InvalidWindowError, _duration, _pair, _text, _window

INSTRUCTION = ('Carefully watch the video and pay attention to the order '
               'and the timing of the events.')
DENSE_QUESTIONS = (
    'Describe the events of the video in order, each with its start and '
    'end time in seconds.',
    'List what happens in the video with timestamps.',
    'Localize every event of the video in time and describe it.')
SEGMENT_QUESTIONS = (
    'What happens between {start} and {end} seconds?',
    'Describe the event from {start} s to {end} s.')
ORDER_QUESTIONS = (
    'What happens right after "{event}"?',
    'Which event follows "{event}" in the video?')


class Events(NamedTuple):
    """The timed captions of one video, in time order."""
    vid: str
    duration: float
    events: List[Tuple[float, float, str]]


class DenseCaptions(NamedTuple):
    """The videos read from one file and why each dropped event was
    dropped."""
    videos: List[Events]
    skipped: List[str]


def _events(path: str, record: AnnotationRecord, vid: str, duration: float,
            windows: Iterable, sentences: Iterable, field: str,
            skipped: Optional[List[str]]) -> Events:
    events = []
    for i, (window, sentence) in enumerate(zip(windows, sentences)):
        label = f'{record.label} event {i}'
        start, end = _pair(path, label, field, window)
        text = _text(path, label, 'sentence', sentence)
        try:
            start, end = _window(path, label, field, start, end, duration)
        except InvalidWindowError as error:
            if skipped is None:
                raise
            skipped.append(str(error))
            continue
        events.append((start, end, text))
    events.sort(key=lambda e: (e[0], e[1]))
    return Events(vid, duration, events)


def read_youcook2(path: str, subset: Optional[str] = 'training',
                  skip_invalid: bool = False) -> DenseCaptions:
    """YouCook2 ``youcookii_annotations_trainval.json``: ``{"database":
    {vid: {"duration", "subset", "annotations": [{"segment": [start,
    end], "sentence"}, ...]}}}`` (seconds); ``subset`` None keeps every
    video."""
    top = AnnotationRecord(path, 'top level', load_json(path, dict))
    videos, skipped = [], []
    for vid, entry in top.fetch('database', dict).items():
        record = AnnotationRecord(path, f'video {vid!r}', entry)
        if subset is not None and record.fetch('subset', str) != subset:
            continue
        duration = _duration(path, record.label, 'duration',
                             record.fetch('duration'))
        annotations = [
            AnnotationRecord(path, f'{record.label} annotation {i}', a)
            for i, a in enumerate(record.fetch('annotations', list))
        ]
        videos.append(_events(
            path, record, vid, duration,
            [a.fetch('segment', list) for a in annotations],
            [a.fetch('sentence') for a in annotations], 'segment',
            skipped if skip_invalid else None))
    return DenseCaptions(videos, skipped)


def read_activitynet(path: str, skip_invalid: bool = False
                     ) -> DenseCaptions:
    """ActivityNet Captions ``train.json`` / ``val_1.json``: ``{vid:
    {"duration", "timestamps": [[start, end], ...], "sentences": [...]}}``
    (seconds; ids keep their ``v_`` prefix)."""
    videos, skipped = [], []
    for vid, entry in load_json(path, dict).items():
        record = AnnotationRecord(path, f'video {vid!r}', entry)
        duration = _duration(path, record.label, 'duration',
                             record.fetch('duration'))
        windows = record.fetch('timestamps', list)
        sentences = record.fetch('sentences', list)
        if len(windows) != len(sentences):
            raise record.error(
                'sentences', f'has {len(sentences)} sentences for '
                f'{len(windows)} timestamps')
        videos.append(_events(path, record, vid, duration, windows,
                              sentences, 'timestamps',
                              skipped if skip_invalid else None))
    return DenseCaptions(videos, skipped)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(('.', '!', '?')) else text + '.'


def _seconds(value: float) -> str:
    return f'{value:.1f}'


def reasoning_conversations(videos: Iterable[Events],
                            video_format: str = '{vid}.mp4',
                            seed: int = 0) -> List[dict]:
    """VideoChat2-IT entries of every video (see the module docstring)."""
    rng = np.random.default_rng(seed)
    entries = []

    def add(vid: str, question: str, answer: str) -> None:
        entries.append(dict(video=video_format.format(vid=vid),
                            QA=[dict(i=INSTRUCTION, q=question, a=answer)]))

    for video in videos:
        if not video.events:
            continue
        add(video.vid, str(rng.choice(DENSE_QUESTIONS)), ' '.join(
            f'{_seconds(s)} - {_seconds(e)} seconds, {_sentence(text)}'
            for s, e, text in video.events))
        for i, (start, end, text) in enumerate(video.events):
            later = [e for e in video.events[i + 1:] if e[0] >= end]
            if later and rng.random() < 0.5:
                event = text.rstrip('.')
                add(video.vid,
                    str(rng.choice(ORDER_QUESTIONS)).format(event=event),
                    _sentence(later[0][2]))
            else:
                add(video.vid,
                    str(rng.choice(SEGMENT_QUESTIONS)).format(
                        start=_seconds(start), end=_seconds(end)),
                    _sentence(text))
    return entries


def write_it_json(entries: List[dict], path: str) -> None:
    """Write the entries as one JSON list (the folder is created)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(entries, f, indent=0)
