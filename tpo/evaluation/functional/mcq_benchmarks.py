"""Answer extraction and accuracy of the multiple-choice benchmarks VideoMME,
MLVU, MMIU and SEED-Bench-2, each following its own official evaluation
(which differs from MVBench's, :mod:`tpo.evaluation.functional.mvbench`).

All accuracies are percentages (0-100).

- **VideoMME** (``BradyFU/Video-MME`` ``evaluation/eval_your_results.py``,
  ``extract_characters_regex``; lmms-eval ``tasks/videomme/utils.py`` has
  the same rule): the answer prefixes ``"The best answer is"``, ``"The
  correct answer is"``, ``"The answer is"``, ``"The answer"`` are deleted
  from the stripped output, then the first capital ``A``-``D`` anywhere is
  the prediction (none: unanswered). Two prefixes of the official list lack
  a comma between them, so Python joins them: only ``"The best option
  isThe correct option is"`` and ``"Best answer:Best option:"`` are deleted,
  never ``"Best answer:"`` alone, whose ``B`` then counts (``"Best answer:
  C"`` extracts ``B``). The official script leaves unanswered questions out
  of every denominator (lmms-eval counts them wrong: ``skip_unanswered=
  False``). Accuracies are pooled per duration (short / medium / long), per
  domain (``video_category``), per sub-category, per task type and overall.
- **MLVU** (``FlagOpen/FlagEmbedding`` ``MLVU/evaluation/
  multiple_choice_evaluation/choice_bench.py`` ``check_ans``): the model
  continues ``"Best option:("``; if its (stripped) output contains ``")"``,
  the prediction is the one character before the first ``")"`` (``""``
  when ``")"`` comes first), else the whole output. Correct when it equals
  the GT letter exactly (case-sensitive). Per-task accuracy; ``M-Avg`` is
  the mean of the task accuracies (the MLVU paper's and lmms-eval's M-Avg);
  ``Avg`` the pooled accuracy the script prints.
- **MMIU** (``OpenGVLab/MMIU`` ``evaluate.py`` + ``evaluate_correct.py``):
  an output that is ``''``, ``'image none'``, ``'image error'``, ``'model
  error'`` or ``'model error or image error'`` is choice ``'Z'``; otherwise
  non-breaking spaces and leading / trailing ``.,()`` are removed and, when
  what is left is one letter ``a``-``n`` (either case), it is the choice.
  Any other output is matched to an option by GPT-4o-mini in the official
  code; here by a deterministic rule instead (see
  :func:`mmiu_match_option`), or by a ``matcher`` you pass. Correct when
  the lower-cased choice is a substring of the lower-cased GT. ``Overall``
  is the mean of the per-task accuracies.
- **SEED-Bench-2**: the official code (``AILab-CVC/SEED-Bench``
  ``SEED-Bench-2/eval.py``) ranks the four choices by likelihood, so a
  generated answer is read as lmms-eval does (``tasks/seedbench_2/
  utils.py``): the first character of the stripped output, correct when it
  equals the GT letter. Accuracy per dimension, per subpart and overall
  (pooled, as SEED-Bench's ``eval.py`` prints the total accuracy).
"""
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence

# ---------------------------------------------------------------- VideoMME
VIDEOMME_DURATIONS = ('short', 'medium', 'long')
# The official list as Python reads it: two commas are missing there, so
# 'The best option is' 'The correct option is' and 'Best answer:' 'Best
# option:' are each one joined string.
VIDEOMME_ANSWER_PREFIXES = (
    'The best answer is',
    'The correct answer is',
    'The answer is',
    'The answer',
    'The best option isThe correct option is',
    'Best answer:Best option:',
)


def videomme_extract_answer(response: str) -> str:
    """The letter ``A``-``D`` that Video-MME's ``extract_characters_regex``
    reads from a model output, or ``''`` (unanswered)."""
    text = response.strip()
    for prefix in VIDEOMME_ANSWER_PREFIXES:
        text = text.replace(prefix, '')
    # (the official "more than 10 words and no [ABCD]" test gives '' too)
    match = re.search(r'[ABCD]', text)
    return '' if match is None else match.group(0)


def _check_lengths(name: str, **columns: Sequence) -> int:
    lengths = {key: len(value) for key, value in columns.items()
               if value is not None}
    if len(set(lengths.values())) != 1:
        raise ValueError(f'{name} got columns of different lengths: '
                         f'{lengths}.')
    num = next(iter(lengths.values()))
    if num == 0:
        raise ValueError(f'{name} got no items.')
    return num


def _pooled(flags: Sequence[Optional[bool]], groups: Sequence[str],
            skip_none: bool) -> 'OrderedDict[str, float]':
    """Percent correct per group (first-seen order). ``None`` flags are left
    out when ``skip_none`` (else wrong); a group with nothing counted is
    0."""
    counts: 'OrderedDict[str, List[int]]' = OrderedDict()
    for flag, group in zip(flags, groups):
        correct_total = counts.setdefault(group, [0, 0])
        if flag is None and skip_none:
            continue
        correct_total[0] += bool(flag)
        correct_total[1] += 1
    return OrderedDict(
        (group, c / t * 100 if t else 0.0) for group, (c, t) in counts.items())


def videomme_accuracy(responses: Sequence[str],
                      gts: Sequence[str],
                      duration_categories: Sequence[str],
                      domains: Sequence[str],
                      task_types: Sequence[str],
                      sub_categories: Optional[Sequence[str]] = None,
                      skip_unanswered: bool = True) -> Dict[str, float]:
    """Video-MME accuracy.

    Args:
        responses (Sequence[str]): Raw model outputs.
        gts (Sequence[str]): GT letters.
        duration_categories (Sequence[str]): ``'short'`` / ``'medium'`` /
            ``'long'`` of each question.
        domains (Sequence[str]): Video domain (``video_category``).
        task_types (Sequence[str]): Question task type.
        sub_categories (Sequence[str], optional): Video sub-category.
        skip_unanswered (bool): Leave questions with no extracted letter
            out of the denominators (official script), else count them
            wrong (lmms-eval). Defaults to True.

    Returns:
        dict: ``overall``; ``short`` / ``medium`` / ``long`` (those present);
        ``domain/{d}``, ``sub_category/{s}`` (if given), ``task_type/{t}``
        (first-seen order); and ``unanswered``, the percentage of questions
        with no extracted letter.
    """
    num = _check_lengths(
        'videomme_accuracy', responses=responses, gts=gts,
        duration_categories=duration_categories, domains=domains,
        task_types=task_types, sub_categories=sub_categories)
    unknown = set(duration_categories) - set(VIDEOMME_DURATIONS)
    if unknown:
        raise ValueError(f'Unknown Video-MME duration categories '
                         f'{sorted(unknown)}; expected {VIDEOMME_DURATIONS}.')
    preds = [videomme_extract_answer(r) for r in responses]
    flags = [None if p == '' else p == gt for p, gt in zip(preds, gts)]
    results = OrderedDict()
    results['overall'] = _pooled(flags, ['overall'] * num,
                                 skip_unanswered)['overall']
    by_duration = _pooled(flags, duration_categories, skip_unanswered)
    for duration in VIDEOMME_DURATIONS:
        if duration in by_duration:
            results[duration] = by_duration[duration]
    columns = [('domain', domains), ('sub_category', sub_categories),
               ('task_type', task_types)]
    for name, groups in columns:
        if groups is not None:
            for group, acc in _pooled(flags, groups,
                                      skip_unanswered).items():
                results[f'{name}/{group}'] = acc
    results['unanswered'] = preds.count('') / num * 100
    return dict(results)


# -------------------------------------------------------------------- MLVU
def mlvu_extract_answer(output: str) -> str:
    """The prediction MLVU's ``check_ans`` compares: the character before
    the first ``")"`` of the stripped output, or the whole stripped output
    when it has no ``")"``."""
    pred = output.strip()
    if ')' in pred:
        index = pred.index(')')
        return pred[index - 1:index] if index > 0 else ''
    return pred


def mlvu_gt_letter(gt: str) -> str:
    """The GT option letter: ``gt`` itself, or the text between the first
    ``"("`` and ``")"`` of an official ``"(X) answer"``."""
    if '(' in gt and ')' in gt:
        return gt[gt.index('(') + 1:gt.index(')')]
    return gt


def mlvu_check_answer(output: str, gt: str) -> bool:
    """Whether a model output (after ``"Best option:("``) is right."""
    return mlvu_extract_answer(output) == mlvu_gt_letter(gt)


def mlvu_accuracy(outputs: Sequence[str], gts: Sequence[str],
                  task_types: Sequence[str]) -> Dict[str, float]:
    """MLVU multiple-choice accuracy.

    Returns:
        dict: ``{task: accuracy}`` (first-seen order), ``M-Avg`` (mean of
        the task accuracies) and ``Avg`` (all correct / all questions).
    """
    _check_lengths('mlvu_accuracy', outputs=outputs, gts=gts,
                   task_types=task_types)
    reserved = {'M-Avg', 'Avg'} & set(task_types)
    if reserved:
        raise ValueError(f'{sorted(reserved)} cannot be task types: they '
                         'name the averages.')
    flags = [mlvu_check_answer(o, gt) for o, gt in zip(outputs, gts)]
    results = _pooled(flags, task_types, skip_none=False)
    tasks = list(results.values())
    results['M-Avg'] = sum(tasks) / len(tasks)
    results['Avg'] = sum(flags) / len(flags) * 100
    return dict(results)


# -------------------------------------------------------------------- MMIU
MMIU_FAILED_OUTPUTS = ('image none', 'model error or image error',
                       'image error', 'model error', '')
MMIU_LETTERS = tuple('abcdefghijklmn')
# option text match -> letter, or 'Z' (no option)
Matcher = Callable[[str, Optional[Sequence[str]]], str]


def mmiu_match_option(prediction: str,
                      options: Optional[Sequence[str]] = None) -> str:
    """Offline stand-in for MMIU's GPT-4o-mini option matching of an output
    that is not a bare letter. In order:

    1. an upper-case option letter followed by ``:``, ``.``, ``)`` or ``]``,
       or alone, at the start (``"B: a dog"``, ``"(C) ..."``);
    2. ``"answer"`` / ``"option"`` (any case), optionally ``"is"`` and
       ``":"``, then an upper-case letter (``"The answer is C."``);
    3. the one option whose text (lower-cased) occurs in the lower-cased
       prediction, if exactly one does;
    4. else ``'Z'`` (no option).

    Letters are limited to the options given (``A``-``N`` without options).
    """
    letters = [chr(ord('A') + i) for i in range(len(options))] \
        if options else [c.upper() for c in MMIU_LETTERS]
    text = prediction.strip()
    match = re.match(r'^\(?([A-Z])(?:[:.)\]]|\s*$)', text)
    if match and match.group(1) in letters:
        return match.group(1)
    match = re.search(r'(?i:answer|option)(?:\s+(?i:is))?\s*:?\s*\(?([A-Z])\b',
                      text)
    if match and match.group(1) in letters:
        return match.group(1)
    if options:
        lower = text.lower()
        hits = [letters[i] for i, option in enumerate(options)
                if option.strip() and option.strip().lower() in lower]
        if len(hits) == 1:
            return hits[0]
    return 'Z'


def mmiu_extract_choice(output: str,
                        options: Optional[Sequence[str]] = None,
                        matcher: Optional[Matcher] = None) -> str:
    """The choice MMIU's ``evaluate.py`` records for a model output.

    Args:
        output (str): The raw model output.
        options (Sequence[str], optional): The option texts (for matching).
        matcher (callable, optional): ``(prediction, options) -> choice``
            for outputs that are not a bare letter (the official code asks
            GPT-4o-mini). Defaults to :func:`mmiu_match_option`.

    Returns:
        str: The choice: a letter as written (either case), or ``'Z'``.
    """
    prediction = output.strip()
    if prediction in MMIU_FAILED_OUTPUTS:
        return 'Z'
    prediction = prediction.replace('\u00a0', '')
    prediction = re.sub(r'^[.,()]+|[.,()]+$', '', prediction.strip())
    if prediction.strip().lower() in MMIU_LETTERS:
        return prediction.strip()
    choice = (matcher or mmiu_match_option)(prediction, options)
    return choice.strip() or 'Z'


def mmiu_check_answer(choice: str, gt: str) -> bool:
    """MMIU's ``evaluate_correct.py`` test: the lower-cased choice is a
    substring of the lower-cased GT."""
    return choice.strip().lower() in gt.strip().lower()


def mmiu_accuracy(outputs: Sequence[str],
                  gts: Sequence[str],
                  tasks: Sequence[str],
                  options: Optional[Sequence[Sequence[str]]] = None,
                  matcher: Optional[Matcher] = None) -> Dict[str, float]:
    """MMIU accuracy.

    Returns:
        dict: ``{task: accuracy}`` (tasks sorted by name, as the official
        script lists its task folders) and ``Overall``, the mean of the task
        accuracies.
    """
    _check_lengths('mmiu_accuracy', outputs=outputs, gts=gts, tasks=tasks,
                   options=options)
    if 'Overall' in tasks:
        raise ValueError("'Overall' names the mean and cannot be a task.")
    flags = [
        mmiu_check_answer(
            mmiu_extract_choice(o, None if options is None else options[i],
                                matcher), gt)
        for i, (o, gt) in enumerate(zip(outputs, gts))
    ]
    per_task = _pooled(flags, tasks, skip_none=False)
    results = OrderedDict((t, per_task[t]) for t in sorted(per_task))
    results['Overall'] = sum(per_task.values()) / len(per_task)
    return dict(results)


# ------------------------------------------------------------ SEED-Bench-2
def seedbench2_extract_answer(output: str) -> str:
    """The first character of the stripped output (``''`` if empty)."""
    return output.strip()[:1]


def seedbench2_accuracy(outputs: Sequence[str],
                        gts: Sequence[str],
                        dimensions: Sequence[str],
                        subparts: Optional[Sequence[str]] = None
                        ) -> Dict[str, float]:
    """SEED-Bench-2 accuracy.

    Returns:
        dict: ``{dimension: accuracy}`` (first-seen order),
        ``subpart/{s}`` (pooled, if given) and ``Overall`` (pooled).
    """
    _check_lengths('seedbench2_accuracy', outputs=outputs, gts=gts,
                   dimensions=dimensions, subparts=subparts)
    if 'Overall' in dimensions:
        raise ValueError("'Overall' names the total and cannot be a "
                         'dimension.')
    flags = [seedbench2_extract_answer(o) == gt for o, gt in zip(outputs, gts)]
    results = _pooled(flags, dimensions, skip_none=False)
    if subparts is not None:
        for subpart, acc in _pooled(flags, subparts, False).items():
            results[f'subpart/{subpart}'] = acc
    results['Overall'] = sum(flags) / len(flags) * 100
    return dict(results)
