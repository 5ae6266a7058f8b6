"""Tasks whose samples bring their own conversation: chat and multiple
choice. They have no task tokens and no head."""
import string

from .base_task import TaskSpec, register_task
from .text_forms import MalformedAnswerError


@register_task
class ChatTask(TaskSpec):
    """Free-form conversation (VideoChat2-IT, ShareGPT)."""

    name = 'chat'


@register_task
class MultipleChoiceTask(TaskSpec):
    """A question with lettered options (MVBench and the other
    benchmarks); the answer starts with the option letter."""

    name = 'mcq'
    prediction_fields = ('pred_text', )

    def from_text(self, sample: dict, text: str) -> None:
        """Keep ``pred_text`` when it starts with an option letter (of
        ``candidates`` when given), e.g. ``'B) red'`` after MVBench's
        ``'Best option:('``."""
        letters = string.ascii_uppercase[:len(
            sample.get('candidates') or string.ascii_uppercase)]
        answer = text.strip()
        if not answer or answer[0].upper() not in letters or (
                len(answer) > 1 and answer[1].isalnum()):
            raise MalformedAnswerError(
                f'{text!r} does not start with an option letter '
                f'({letters}).')

    def empty_prediction(self, sample: dict) -> None:
        """``'malformed'``: MVBench's matching rule counts an empty answer
        as correct (``'('`` is in ``'(b)'``)."""
        sample['pred_text'] = 'malformed'
