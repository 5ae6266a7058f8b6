"""Temporal grounding annotations of other datasets as QVHighlights jsonl.

Each ``convert_*`` function reads one public annotation format and returns
:class:`Converted` rows ``{qid, query, vid, duration, relevant_windows}``
(seconds), the lines that :class:`~tpo.datasets.QVHighlightsDataset` reads
with ``require_saliency=False`` (these datasets have no saliency scores). The
video of a row is ``{vid}.mp4``; :func:`write_qvh_jsonl` can rename it.

Conventions shared by every source:

* Times are seconds rounded to 3 decimals (rounding keeps the order of the
  numbers, so a window stays ordered and inside its video).
* An end past the video's duration is clipped to it (ActivityNet Captions
  and TACoS have ends up to 0.01 s / a few frames past the video; 2D-TAN's
  loaders clip them the same way).
* A window must then satisfy ``0 <= start <= end``; zero-length windows are
  kept (QuerYD has point annotations). Otherwise the query is *invalid*:
  an :class:`~tpo.datasets.annotation.AnnotationError` is raised, or with
  ``skip_invalid=True`` the query is dropped and the message is kept in
  :attr:`Converted.skipped` (ActivityNet Captions ``train.json`` has 2 windows
  with start > end; 2D-TAN drops those, and also its 2 zero-length windows,
  which are kept here).
* A malformed record (missing field, wrong type, lists of different lengths,
  non-finite number, non-positive duration, duplicate id) always raises an
  :class:`~tpo.datasets.annotation.AnnotationError` naming the file, the
  record and the field.
* ``qid`` is the running index of the written rows (0, 1, ...), except for
  DiDeMo, whose ``annotation_id`` is kept.
"""
import json
import math
import os
import os.path as osp
import pickle
from collections import Counter, OrderedDict
from typing import (Any, Callable, Dict, List, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np

from ..annotation import AnnotationError, AnnotationRecord, load_json

DIDEMO_SEGMENT = 5.0  # seconds per DiDeMo segment
DIDEMO_WINDOWS = ('all', 'mode')


class Converted(NamedTuple):
    """The result of a converter.

    Attributes:
        rows (list[dict]): The QVHighlights rows, in the order of the source.
        skipped (list[str]): Why each dropped query was dropped (invalid
            windows with ``skip_invalid=True``, videos without a duration,
            Ego4D queries without text).
    """
    rows: List[dict]
    skipped: List[str]


class InvalidWindowError(AnnotationError):
    """A well-formed record whose window is not inside its video."""


def _problem(file: str, label: str, field: str, problem: str,
             kind: type = AnnotationError) -> AnnotationError:
    """An error in the format of :meth:`AnnotationRecord.error`."""
    return kind(f'{file} {label}: field {field!r} {problem}.')


def _seconds(value: float) -> float:
    """Seconds rounded to the millisecond."""
    return round(float(value), 3) + 0.0


def _number(file: str, label: str, field: str, value: Any) -> float:
    """A finite number (not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise _problem(file, label, field,
                       f'must be a number, got {type(value).__name__}')
    if not math.isfinite(value):
        raise _problem(file, label, field, f'must be finite, got {value}')
    return float(value)


def _duration(file: str, label: str, field: str, value: Any) -> float:
    """A positive finite number of seconds."""
    value = _number(file, label, field, value)
    if value <= 0:
        raise _problem(file, label, field, f'must be positive, got {value:g}')
    return value


def _pair(file: str, label: str, field: str, value: Any) -> Tuple[float,
                                                                 float]:
    """A ``[start, end]`` pair of finite numbers."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _problem(file, label, field,
                       f'must be a [start, end] pair, got {str(value)[:80]}')
    return (_number(file, label, field, value[0]),
            _number(file, label, field, value[1]))


def _window(file: str, label: str, field: str, start: float, end: float,
            duration: float) -> List[float]:
    """``[start, end]`` seconds with the end clipped to ``duration``; an
    :class:`InvalidWindowError` unless ``0 <= start <= end`` then."""
    clipped = min(end, duration)
    if not 0 <= start <= clipped:
        raise _problem(
            file, label, field,
            f'has window [{start:g}, {end:g}], not 0 <= start <= end within '
            f'the video (duration {duration:g})', InvalidWindowError)
    return [_seconds(start), _seconds(clipped)]


def _text(file: str, label: str, field: str, value: Any) -> str:
    """A non-empty string, stripped."""
    if not isinstance(value, str):
        raise _problem(file, label, field,
                       f'must be str, got {type(value).__name__}')
    if not value.strip():
        raise _problem(file, label, field, 'is empty')
    return value.strip()


def _strip_ext(name: str) -> str:
    """A file name without its extension (``'a.b.mov'`` -> ``'a.b'``,
    ``'x.'`` -> ``'x'``)."""
    return name.rsplit('.', 1)[0] if '.' in name else name


class _Rows:
    """Collects rows and skipped queries."""

    def __init__(self, skip_invalid: bool) -> None:
        self.skip_invalid = skip_invalid
        self.rows: List[dict] = []
        self.skipped: List[str] = []

    def add(self, query: str, vid: str, duration: float,
            windows: Callable[[], List[List[float]]],
            qid: Any = None) -> None:
        """Add a row whose windows ``windows()`` computes; an invalid window
        drops it when skipping."""
        try:
            relevant_windows = windows()
        except InvalidWindowError as error:
            if not self.skip_invalid:
                raise
            self.skipped.append(str(error))
            return
        self.rows.append(
            dict(
                qid=len(self.rows) if qid is None else qid,
                query=query,
                vid=vid,
                duration=_seconds(duration),
                relevant_windows=relevant_windows))

    def result(self) -> Converted:
        return Converted(self.rows, self.skipped)


def _load_durations(path: Optional[str]) -> Optional[Dict[str, float]]:
    """``{video: seconds}`` of a durations JSON file, or None."""
    if path is None:
        return None
    data = load_json(path, dict)
    return {
        str(key): _duration(path, f'video {key!r}', 'duration', value)
        for key, value in data.items()
    }


def _require_some(durations: Optional[dict], rows: List[dict],
                  durations_file: Optional[str], ann_file: str,
                  skipped: List[str]) -> None:
    """An error when a durations file matched none of the videos."""
    if durations is not None and not rows and skipped:
        raise AnnotationError(
            f'{durations_file}: none of the videos of {ann_file} has a '
            f'duration (first: {skipped[0]}).')


# ---------------------------------------------------------------- DiDeMo
def convert_didemo(path: str,
                   durations: Optional[str] = None,
                   windows: str = 'all',
                   skip_invalid: bool = False) -> Converted:
    """DiDeMo ``{train,val,test}_data.json`` (LocalizingMoments).

    Format (``data/README.md`` of github.com/LisaAnne/LocalizingMoments,
    checked on its ``val_data.json`` / ``test_data.json``): a JSON list of
    ``{annotation_id, description, video, times, num_segments, dl_link}``.
    ``video`` is the file name (``.mov``, ``.avi``, ``.mp4``, ... or a bare
    trailing dot); each video is cut into 5-s segments (``num_segments``, 5 or
    6: annotation stopped at 30 s) and ``times`` holds one ``[first, last]``
    segment pair per annotator (4, sometimes 7): segment ``i`` covers
    ``[5i, 5(i+1)]`` s, the last one ending at the video's end.

    Output: ``qid = annotation_id``, ``query = description``, ``vid`` the
    file name without extension, ``relevant_windows`` the annotators'
    windows in seconds: with ``windows='all'`` every distinct one, most
    agreed first (ties in annotator order), so the first window is the
    consensus; with ``'mode'`` only that one. ``duration`` is the video's
    (from ``durations``, ends clipped to it) or, without ``durations``,
    ``5 * num_segments``: the annotated span, which overestimates a video
    whose last segment is short.

    Args:
        path (str): The DiDeMo JSON file.
        durations (str, optional): JSON ``{vid or video file name:
            seconds}``; videos missing from it are skipped.
        windows (str): ``'all'`` or ``'mode'``. Defaults to ``'all'``.
        skip_invalid (bool): Drop queries with invalid windows instead of
            raising. Defaults to False.

    Returns:
        Converted: The rows and the skipped queries.
    """
    if windows not in DIDEMO_WINDOWS:
        raise ValueError(f'windows must be one of {DIDEMO_WINDOWS}, got '
                         f'{windows!r}.')
    durations_map = _load_durations(durations)
    out = _Rows(skip_invalid)
    seen = {}
    for index, row in enumerate(load_json(path, list)):
        record = AnnotationRecord(path, f'index {index}', row,
                                  'annotation_id')
        qid = record.fetch('annotation_id', int)
        if qid in seen:
            raise record.error(
                'annotation_id', f'repeats the annotation_id of index '
                f'{seen[qid]}')
        seen[qid] = index
        query = record.text('description').strip()
        video = record.text('video')
        num_segments = record.fetch('num_segments', int)
        if num_segments < 1:
            raise record.error('num_segments',
                               f'must be >= 1, got {num_segments}')
        times = record.array('times', np.float64, 2)
        if len(times) == 0:
            raise record.error('times', 'is empty')
        if not (times == np.round(times)).all():
            raise record.error(
                'times', f'must hold segment indices, got {times.tolist()}')
        vid = _strip_ext(video.strip())
        if durations_map is None:
            duration = DIDEMO_SEGMENT * num_segments
        else:
            duration = durations_map.get(vid, durations_map.get(video))
            if duration is None:
                out.skipped.append(
                    f'{path} {record.label}: field \'video\' {video!r} has '
                    f'no duration in {durations}.')
                continue

        def to_windows(record=record, times=times, duration=duration,
                       num_segments=num_segments):
            pairs = [(int(first), int(last)) for first, last in times]
            for first, last in pairs:
                if not 0 <= first <= last < num_segments:
                    raise _problem(
                        path, record.label, 'times',
                        f'has segments [{first}, {last}], not 0 <= first <= '
                        f'last < num_segments ({num_segments})',
                        InvalidWindowError)
            counts = Counter(pairs)
            # most agreed first; Counter keeps the first-seen order on ties
            ranked = [pair for pair, _ in counts.most_common()]
            if windows == 'mode':
                ranked = ranked[:1]
            return [
                _window(path, record.label, 'times', DIDEMO_SEGMENT * first,
                        DIDEMO_SEGMENT * (last + 1), duration)
                for first, last in ranked
            ]

        out.add(query, vid, duration, to_windows, qid=qid)
    _require_some(durations_map, out.rows, durations, path, out.skipped)
    return out.result()


# ----------------------------------------------------- ActivityNet Captions
def _add_sentences(out: '_Rows', path: str, record: AnnotationRecord,
                   vid: str, duration: float, per_second: float) -> None:
    """One row per sentence of a record holding ``sentences`` and as many
    ``timestamps`` ``[start, end]`` (in units of ``1 / per_second`` s)."""
    timestamps = record.array('timestamps', np.float64, 2)
    sentences = record.fetch('sentences', list)
    if len(sentences) != len(timestamps):
        raise record.error(
            'sentences', f'has {len(sentences)} sentences for '
            f'{len(timestamps)} timestamps')
    for i, ((start, end), sentence) in enumerate(
            zip(timestamps.tolist(), sentences)):
        label = f'{record.label} sentence {i}'
        out.add(
            _text(path, label, 'sentences', sentence), vid, duration,
            lambda label=label, start=start, end=end: [
                _window(path, label, 'timestamps', start / per_second,
                        end / per_second, duration)
            ])


def convert_activitynet(path: str, skip_invalid: bool = False) -> Converted:
    """ActivityNet Captions ``train.json`` / ``val_1.json`` / ``val_2.json``.

    Format (cs.stanford.edu/people/ranjaykrishna/densevid ``captions.zip``;
    the same files are in github.com/microsoft/2D-TAN
    ``data/ActivityNet/{train,val,test}.json``, checked there): a JSON object
    ``{video id: {duration, timestamps: [[start, end], ...], sentences:
    [...]}}`` in seconds, one sentence per timestamp. Video ids keep their
    ``v_`` prefix (the videos are ``{vid}.mp4``).

    Output: one row per sentence (stripped of its leading space), ``vid`` the
    video id, one window clipped to ``duration``.

    Args:
        path (str): The captions JSON file.
        skip_invalid (bool): Drop queries with invalid windows instead of
            raising. Defaults to False.

    Returns:
        Converted: The rows and the skipped queries.
    """
    out = _Rows(skip_invalid)
    for vid, entry in load_json(path, dict).items():
        record = AnnotationRecord(path, f'video {vid!r}', entry)
        duration = _duration(path, record.label, 'duration',
                             record.fetch('duration'))
        _add_sentences(out, path, record, vid, duration, 1.0)
    return out.result()


# ----------------------------------------------------------------- TACoS
def convert_tacos(path: str, skip_invalid: bool = False) -> Converted:
    """TACoS in the 2D-TAN / MS-2D-TAN format (``train.json``, ``val.json``,
    ``test.json``).

    Format (github.com/microsoft/2D-TAN ``data/TACoS/*.json`` and its
    ``lib/datasets/tacos.py``, checked there): a JSON object ``{video file
    name (e.g. 's30-d52.avi'): {num_frames, fps, timestamps: [[start frame,
    end frame], ...], sentences: [...]}}``.

    Output: one row per sentence, ``vid`` the file name without extension,
    ``duration = num_frames / fps`` and the window ``frames / fps`` clipped to
    it, as 2D-TAN computes them. The MPII Cooking videos are named
    ``{vid}-cam-002.avi``: transcode them to ``{vid}.mp4`` or write the rows
    with ``vid_format='{vid}-cam-002'``.

    Args:
        path (str): The TACoS JSON file.
        skip_invalid (bool): Drop queries with invalid windows instead of
            raising. Defaults to False.

    Returns:
        Converted: The rows and the skipped queries.
    """
    out = _Rows(skip_invalid)
    for name, entry in load_json(path, dict).items():
        record = AnnotationRecord(path, f'video {name!r}', entry)
        fps = _duration(path, record.label, 'fps', record.fetch('fps'))
        num_frames = _duration(path, record.label, 'num_frames',
                               record.fetch('num_frames'))
        _add_sentences(out, path, record, _strip_ext(name),
                       num_frames / fps, fps)
    return out.result()


# ---------------------------------------------------------------- QuerYD
class _PlainUnpickler(pickle.Unpickler):
    """Unpickles only containers, strings, numbers and numpy arrays (no
    arbitrary code)."""

    ALLOWED = {
        ('builtins', name)
        for name in ('dict', 'list', 'tuple', 'set', 'frozenset', 'str',
                     'int', 'float', 'bool', 'bytes')
    } | {
        ('collections', 'OrderedDict'),
        ('numpy', 'ndarray'),
        ('numpy', 'dtype'),
        ('numpy.core.multiarray', '_reconstruct'),
        ('numpy.core.multiarray', 'scalar'),
        ('numpy._core.multiarray', '_reconstruct'),
        ('numpy._core.multiarray', 'scalar'),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f'{module}.{name} is not allowed in an annotation pickle')
        return super().find_class(module, name)


def _load_mapping(path: str) -> dict:
    """A JSON object, or a pickled dict (``.pkl`` / ``.pickle``)."""
    if not path.endswith(('.pkl', '.pickle')):
        return load_json(path, dict)
    with open(path, 'rb') as f:
        try:
            data = _PlainUnpickler(f).load()
        except (pickle.UnpicklingError, EOFError, AttributeError,
                ImportError, IndexError, TypeError, ValueError) as error:
            raise AnnotationError(
                f'{path}: cannot read the pickle ({error}).') from None
    if not isinstance(data, dict):
        raise AnnotationError(f'{path}: expected a dict at the top level, '
                              f'got {type(data).__name__}.')
    return data


def _read_lines(path: str) -> List[Tuple[int, str]]:
    """``(line number, stripped line)`` of the non-empty lines."""
    with open(path, encoding='utf-8') as f:
        return [(n, line.strip()) for n, line in enumerate(f, 1)
                if line.strip()]


def convert_queryd(path: str,
                   times: str,
                   durations: str,
                   video_list: Optional[str] = None,
                   skip_invalid: bool = False) -> Converted:
    """QuerYD's transcribed audio descriptions and their times.

    Format (github.com/oncescuandreea/QuerYD_downloader README: "the
    corresponding time-stamps in the same order"; read the same way by
    VideoMind's ``queryd.py`` and TimeChat's TimeIT preparation):
    ``raw_captions_combined_filtered[-v2].pkl`` maps a video key
    ``'video-<YouTube id>'`` to its descriptions, each a list of words (or a
    string); ``times_captions_combined_filtered[-v2].pkl`` maps the same key
    to one ``[start, end]`` (seconds) per description. JSON files of the same
    dicts are read too. Pickles are read with an unpickler that only builds
    containers, strings, numbers and numpy arrays. The split lists
    (``train_list.txt``, ... of the QuerYD experts tarball) hold one video key
    per line. The annotations have no video duration: ``durations`` (JSON
    ``{YouTube id or video key: seconds}``, e.g. probed from the downloaded
    videos) is required, and videos missing from it (not downloadable any
    more) are skipped.

    Output: one row per description (words joined by spaces), ``vid`` the
    YouTube id; zero-length windows (point descriptions) are kept.

    Args:
        path (str): The captions file.
        times (str): The times file.
        durations (str): The durations JSON file.
        video_list (str, optional): Only the videos listed in this file, in
            its order. Defaults to all videos of ``path``, in its order.
        skip_invalid (bool): Drop queries with invalid windows instead of
            raising. Defaults to False.

    Returns:
        Converted: The rows and the skipped queries.
    """
    captions = _load_mapping(path)
    all_times = _load_mapping(times)
    durations_map = _load_durations(durations)
    if video_list is None:
        keys = [(f'video {key!r}', key) for key in captions]
    else:
        keys = []
        for line_no, key in _read_lines(video_list):
            if key not in captions:
                raise AnnotationError(
                    f'{video_list} line {line_no}: video {key!r} is not in '
                    f'{path}.')
            keys.append((f'video {key!r}', key))
    out = _Rows(skip_invalid)
    for label, key in keys:
        texts = captions[key]
        if not isinstance(texts, (list, tuple)):
            raise _problem(path, label, 'captions',
                           f'must be a list, got {type(texts).__name__}')
        if key not in all_times:
            raise _problem(times, label, 'times',
                           f'is missing (the video is in {path})')
        spans = all_times[key]
        if isinstance(spans, np.ndarray):
            spans = list(spans)
        if not isinstance(spans, (list, tuple)):
            raise _problem(times, label, 'times',
                           f'must be a list, got {type(spans).__name__}')
        if len(spans) != len(texts):
            raise _problem(
                times, label, 'times',
                f'has {len(spans)} times for {len(texts)} captions in {path}')
        vid = key[len('video-'):] if key.startswith('video-') else key
        duration = durations_map.get(vid, durations_map.get(key))
        if duration is None:
            out.skipped.append(f'{path} {label}: field \'video\' has no '
                               f'duration in {durations}.')
            continue
        for i, (words, span) in enumerate(zip(texts, spans)):
            item_label = f'{label} caption {i}'
            if isinstance(words, (list, tuple)):
                if not all(isinstance(w, str) for w in words):
                    raise _problem(path, item_label, 'captions',
                                   'must be a string or a list of words')
                words = ' '.join(w.strip() for w in words if w.strip())
            query = _text(path, item_label, 'captions', words)
            start, end = _pair(times, item_label, 'times', span)
            out.add(
                query, vid, duration,
                lambda item_label=item_label, start=start, end=end: [
                    _window(times, item_label, 'times', start, end, duration)
                ])
    _require_some(durations_map, out.rows, durations, path, out.skipped)
    return out.result()


# ---------------------------------------------------------------- HiREST
def _bool(record: AnnotationRecord, field: str) -> bool:
    value = record.fetch(field)
    if not isinstance(value, bool):
        raise record.error(field, f'must be true or false, got {value!r}')
    return value


def convert_hirest(path: str,
                   steps: bool = False,
                   skip_invalid: bool = False) -> Converted:
    """HiREST moment retrieval ``all_data_{train,val,test}.json``.

    Format (github.com/j-min/HiREST README, checked on its
    ``data/splits/*.json``): a JSON object ``{query: {video file name:
    {relevant, clip, v_duration, bounds: [start, end], steps: [{index,
    heading, absolute_bounds}, ...]}}}`` in seconds. ``clip`` is false when
    the whole video is relevant (``bounds`` then means nothing, e.g.
    ``[0, 0]``).

    Output: one row per relevant, clippable (query, video) pair: ``query``
    the query, ``vid`` the file name without extension, the window
    ``bounds``; pairs with ``relevant`` or ``clip`` false are left out, as
    for the official moment retrieval task. With ``steps=True`` each step of
    those videos is also a row (``heading``, ``absolute_bounds``).

    Args:
        path (str): The HiREST JSON file.
        steps (bool): Also write the step rows. Defaults to False.
        skip_invalid (bool): Drop queries with invalid windows instead of
            raising. Defaults to False.

    Returns:
        Converted: The rows and the skipped queries.
    """
    out = _Rows(skip_invalid)
    for query, videos in load_json(path, dict).items():
        if not isinstance(videos, dict):
            raise _problem(path, f'query {query!r}', 'videos',
                           f'must be an object, got {type(videos).__name__}')
        for name, entry in videos.items():
            record = AnnotationRecord(path, f'query {query!r} video {name!r}',
                                      entry)
            relevant, clip = _bool(record, 'relevant'), _bool(record, 'clip')
            duration = _duration(path, record.label, 'v_duration',
                                 record.fetch('v_duration'))
            start, end = _pair(path, record.label, 'bounds',
                               record.fetch('bounds'))
            step_list = record.fetch('steps', list)
            if not (relevant and clip):
                continue
            vid = _strip_ext(name)
            out.add(
                _text(path, record.label, 'query', query), vid, duration,
                lambda record=record, start=start, end=end, duration=duration:
                [_window(path, record.label, 'bounds', start, end, duration)])
            if not steps:
                continue
            for j, step in enumerate(step_list):
                step_record = AnnotationRecord(
                    path, f'{record.label} step {j}', step)
                heading = step_record.text('heading').strip()
                s_start, s_end = _pair(path, step_record.label,
                                       'absolute_bounds',
                                       step_record.fetch('absolute_bounds'))
                out.add(
                    heading, vid, duration,
                    lambda label=step_record.label, s=s_start, e=s_end,
                    duration=duration: [
                        _window(path, label, 'absolute_bounds', s, e,
                                duration)
                    ])
    return out.result()


# ------------------------------------------------------------ Ego4D NLQ
def convert_ego4d_nlq(path: str, skip_invalid: bool = False) -> Converted:
    """Ego4D episodic memory NLQ ``nlq_{train,val}.json`` (v1 and v2).

    Format (Ego4D docs and github.com/EGO4D/episodic-memory
    ``NLQ/VSLNet/utils/prepare_ego4d_dataset.py``): ``{"videos": [{video_uid,
    clips: [{clip_uid, video_start_sec, video_end_sec, annotations:
    [{annotation_uid, language_queries: [{query, clip_start_sec,
    clip_end_sec, ...}]}]}]}]}``.

    Output, as the official preparation builds its samples: one row per
    language query of a clip, ``vid`` the ``clip_uid`` (the videos are the
    Ego4D canonical clips, ``{clip_uid}.mp4``), ``duration = video_end_sec -
    video_start_sec`` of the clip and the window ``[clip_start_sec,
    clip_end_sec]`` (clip-relative). Queries without a ``query`` text are
    skipped, as the official preparation skips them (they are listed in
    :attr:`Converted.skipped`).

    Args:
        path (str): The NLQ JSON file.
        skip_invalid (bool): Drop queries with invalid windows instead of
            raising. Defaults to False.

    Returns:
        Converted: The rows and the skipped queries.
    """
    data = load_json(path, dict)
    top = AnnotationRecord(path, 'top level', data)
    out = _Rows(skip_invalid)
    for v, video in enumerate(top.fetch('videos', list)):
        video_record = AnnotationRecord(path, f'videos[{v}]', video,
                                        'video_uid')
        video_record.text('video_uid')
        for c, clip in enumerate(video_record.fetch('clips', list)):
            clip_record = AnnotationRecord(path, f'{video_record.label} '
                                           f'clips[{c}]', clip, 'clip_uid')
            clip_uid = clip_record.text('clip_uid').strip()
            clip_start = _number(path, clip_record.label, 'video_start_sec',
                                 clip_record.fetch('video_start_sec'))
            clip_end = _number(path, clip_record.label, 'video_end_sec',
                               clip_record.fetch('video_end_sec'))
            duration = clip_end - clip_start
            if duration <= 0:
                raise clip_record.error(
                    'video_end_sec', f'must be > video_start_sec, got '
                    f'{clip_start:g} -> {clip_end:g}')
            for a, annotation in enumerate(
                    clip_record.fetch('annotations', list)):
                ann_record = AnnotationRecord(
                    path, f'{clip_record.label} annotations[{a}]', annotation,
                    'annotation_uid')
                for q, query in enumerate(
                        ann_record.fetch('language_queries', list)):
                    record = AnnotationRecord(
                        path, f'{ann_record.label} language_queries[{q}]',
                        query)
                    text = record.get('query')
                    if text is None or (isinstance(text, str)
                                        and not text.strip()):
                        out.skipped.append(
                            f'{path} {record.label}: field \'query\' is '
                            'missing or empty (skipped, as the official '
                            'preparation does).')
                        continue
                    text = record.text('query').strip()
                    start = _number(path, record.label, 'clip_start_sec',
                                    record.fetch('clip_start_sec'))
                    end = _number(path, record.label, 'clip_end_sec',
                                  record.fetch('clip_end_sec'))
                    out.add(
                        text, clip_uid, duration,
                        lambda label=record.label, start=start, end=end,
                        duration=duration: [
                            _window(path, label, 'clip_start_sec', start, end,
                                    duration)
                        ])
    return out.result()


SOURCES: Dict[str, Callable[..., Converted]] = OrderedDict(
    didemo=convert_didemo,
    activitynet=convert_activitynet,
    tacos=convert_tacos,
    queryd=convert_queryd,
    hirest=convert_hirest,
    ego4d_nlq=convert_ego4d_nlq)


def write_qvh_jsonl(rows: Sequence[dict],
                    path: str,
                    vid_format: str = '{vid}') -> int:
    """Write rows as JSON lines; returns their number.

    Args:
        rows (Sequence[dict]): Rows of a converter.
        path (str): The output ``.jsonl`` file; its folder is created.
        vid_format (str): Written ``vid`` as a format of the row's ``vid``,
            e.g. ``'{vid}-cam-002'`` for the TACoS video names. Defaults to
            ``'{vid}'``.

    Returns:
        int: The number of rows written.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for row in rows:
            row = dict(row, vid=vid_format.format(vid=row['vid']))
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
    return len(rows)
