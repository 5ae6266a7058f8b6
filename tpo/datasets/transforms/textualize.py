"""The textualized-task (P2S) baseline's answers: task structures as text."""
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.tasks import NO_TASK, get_task
from tpo.utils import describe_sample


@TRANSFORMS.register_module()
class TextualizeTaskAnswer(BaseTransform):
    """Write a task sample's target as text in its answer (Table 11,
    "textualized task data"; Merlin-style box sequences).

    Runs after :class:`FormatTaskConversation`: the task-begin and task
    tokens of the answer (``'It is here <box_begin><boxes>.'``) are
    replaced by the text form of the task spec (``'It is here
    [0.12,0.34,0.56,0.78].'``, see :mod:`tpo.tasks.text_forms`), and task
    inputs in the question by theirs (a tracking question's ``<track_box>``
    becomes the text of its ``prompt_bboxes[0]``). The model then learns
    every task with the LM loss alone, without task tokens. Samples of
    tasks without a query (``'chat'``, ``'mcq'``) pass unchanged.

    Required Keys: conversation, task, and what the task's text form reads
    (region: ori_shape, gt_bboxes; temporal: relevant_windows; mask:
    ori_shape, gt_masks; track: ori_shape, gt_track_bboxes, prompt_bboxes)

    Modified Keys: conversation, gt_task (``'none'``: no task token is
    generated)
    """

    def transform(self, results: dict) -> dict:
        """Replace the task tokens of the answer by the target's text."""
        task = get_task(results['task'])
        if task.has_conversation:
            return results
        spec = get_task(task.alias_of) if task.alias_of else task
        tokens = spec.begin + spec.token
        conversation = results.get('conversation')
        if not conversation:
            raise KeyError(f'{type(self).__name__} needs the conversation of '
                           f'{describe_sample(results)}; run '
                           'FormatTaskConversation first.')
        turn = dict(conversation[0])
        if tokens not in turn['answer']:
            raise ValueError(
                f'{type(self).__name__}: the answer {turn["answer"]!r} of '
                f'{describe_sample(results)} has no {tokens!r}; run '
                'FormatTaskConversation first.')
        turn['answer'] = turn['answer'].replace(tokens,
                                                task.to_text(results))
        turn['question'] = task.textualize_question(turn['question'],
                                                    results)
        results['conversation'] = [turn] + list(conversation[1:])
        results['gt_task'] = NO_TASK
        return results
