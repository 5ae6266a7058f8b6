"""MVBench multiple-choice accuracy, as scored by the official notebook
(OpenGVLab Ask-Anything ``video_chat2/mvbench.ipynb``).

The model is prompted with ``"Best option:("``; its prediction is ``"("``
plus the first line of its stripped output. The prediction is correct when
its first space-separated word, lower-cased and without dots, is a substring
of the GT's first word ``"(x)"`` or contains it. So an empty output (``"("``)
and a truncated ``"(b"`` both count as correct, ``"(ab)"`` does not.
"""
from typing import Dict, Sequence


def mvbench_format_prediction(raw_output: str,
                              return_prompt: str = '(') -> str:
    """The prediction the notebook scores: ``return_prompt`` plus the first
    line of the stripped model output (explanations dropped)."""
    return return_prompt + raw_output.strip().split('\n')[0]


def mvbench_check_answer(pred: str, gt: str) -> bool:
    """Whether a formatted prediction matches the GT ``"(X) answer"``.

    Words are split on single spaces (not any whitespace), as the notebook
    does; dots are removed from the prediction's word only.
    """
    pred_option = pred.lower().split(' ')[0]
    gt_option = gt.lower().split(' ')[0]
    return (pred_option.replace('.', '') in gt_option
            or gt_option in pred_option)


def mvbench_accuracy(preds: Sequence[str], gts: Sequence[str],
                     task_types: Sequence[str]) -> Dict[str, float]:
    """Per-task accuracy and their pooled ``Avg``, in percent.

    Args:
        preds (Sequence[str]): Predictions formatted by
            :func:`mvbench_format_prediction`.
        gts (Sequence[str]): GT answers ``"(X) answer text"``.
        task_types (Sequence[str]): Task of each item.

    Returns:
        dict: ``{task: correct / total * 100}`` in first-seen task order, then
        ``Avg`` = all correct / all items * 100 (not the mean of the tasks).
    """
    if not len(preds) == len(gts) == len(task_types):
        raise ValueError(
            f'mvbench_accuracy got {len(preds)} predictions, {len(gts)} GT '
            f'answers and {len(task_types)} task types.')
    if not preds:
        raise ValueError('mvbench_accuracy got no items.')
    if 'Avg' in task_types:
        raise ValueError("'Avg' is reserved for the pooled accuracy and "
                         'cannot be a task type.')
    counts: Dict[str, list] = {}
    for pred, gt, task in zip(preds, gts, task_types):
        correct_total = counts.setdefault(task, [0, 0])
        correct_total[0] += mvbench_check_answer(pred, gt)
        correct_total[1] += 1
    results = {task: c / t * 100 for task, (c, t) in counts.items()}
    results['Avg'] = sum(c for c, _ in counts.values()) / len(preds) * 100
    return results
