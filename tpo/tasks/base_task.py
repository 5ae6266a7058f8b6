"""The task spec: everything the pipeline, the model and the metrics know
about one task, in one registered class."""
import random
from typing import ClassVar, Dict, List, Optional, Sequence, Tuple, Type

from tpo.registry import TASKS
from tpo.utils import describe_sample

#: The placeholder of a user-given box in a prompt (tracking): its input
#: embedding comes from the box-prompt encoder.
BOX_PROMPT_TOKEN = '<track_box>'

#: The order in which the official TPO release added its tokens to the
#: Mistral tokenizer (ids 32000-32006); tokens are added in this order so
#: that converted checkpoints keep their embedding rows.
OFFICIAL_TOKEN_ORDER = ('<box_begin>', '<time_begin>', '<temp>', '<boxes>',
                        '<track_begin>', '<tracking>', BOX_PROMPT_TOKEN)

#: ``gt_task`` / ``pred_task`` of a sample that calls no task.
NO_TASK = 'none'

#: The tasks of the paper's model, each with a head (Fig. 3).
TPO_TASKS = ('region', 'temporal', 'mask')


class TaskSpec:
    """One task, declared as data.

    A subclass sets the class attributes and, for the textualized-task
    baseline (Table 11), :meth:`to_text` / :meth:`from_text`; registering
    it (:func:`register_task`) makes it known to
    ``FormatTaskConversation``, ``TextualizeTaskAnswer``,
    ``TextAnswerMetric`` and ``TPOModel(tasks=...)``.

    Attributes:
        name: the task name samples carry (``results['task']``).
        begin: the task-begin token the LLM emits to call the task (task
            assignment); None for tasks without tokens.
        token: the task token fed after it, whose last hidden state feeds
            the task's head.
        alias_of: a task whose tokens and head serve this one (tracking is
            segmentation propagated from the first frame: ``'mask'``).
        query_key: the sample key whose value fills the question template;
            None for tasks whose samples bring their own conversation.
        placeholder: the question templates' placeholder of that value.
        query_default: the value when the sample has none.
        questions, answers: instruction templates (``{begin}{token}`` in
            answers); None reads the task's entry of the packaged
            ``instructions.json`` (Tables 18-21).
        prediction_fields: what the task's head writes into a sample, which
            :meth:`from_text` writes from a text answer.
    """

    name: ClassVar[str]
    begin: ClassVar[Optional[str]] = None
    token: ClassVar[Optional[str]] = None
    alias_of: ClassVar[Optional[str]] = None
    query_key: ClassVar[Optional[str]] = None
    placeholder: ClassVar[Optional[str]] = None
    query_default: ClassVar[Optional[str]] = None
    questions: ClassVar[Optional[Sequence[str]]] = None
    answers: ClassVar[Optional[Sequence[str]]] = None
    prediction_fields: ClassVar[Tuple[str, ...]] = ()

    @property
    def has_conversation(self) -> bool:
        """Samples bring their own conversation (chat, multiple choice)."""
        return self.query_key is None

    def choose_query(self, value, rng: Optional[random.Random]) -> str:
        """The text that fills the placeholder (``rng``: training)."""
        return value

    def to_text(self, results: dict) -> str:
        """The target of a sample as text (textualized task data)."""
        raise NotImplementedError(
            f'task {self.name!r} has no text form ({type(self).__name__}.'
            'to_text)')

    def textualize_question(self, question: str, results: dict) -> str:
        """The question with task inputs written as text."""
        return question

    def from_text(self, sample: dict, text: str) -> None:
        """Write the prediction of a well-formed text answer into
        ``sample``; raise :class:`MalformedAnswerError` otherwise."""
        raise NotImplementedError(
            f'task {self.name!r} has no text form ({type(self).__name__}.'
            'from_text)')

    def empty_prediction(self, sample: dict) -> None:
        """Write the prediction of a malformed answer: a miss."""
        raise NotImplementedError(
            f'task {self.name!r} has no text form ({type(self).__name__}.'
            'empty_prediction)')

    @staticmethod
    def require(results: dict, key: str, owner: str):
        """``results[key]``, or an error naming the owner and sample."""
        if results.get(key) is None:
            raise KeyError(
                f'{owner} needs {key!r} for the {results.get("task")!r} '
                f'{describe_sample(results)}; add the transform that '
                'provides it before this one.')
        return results[key]


def serving_task(task: Optional[str], tasks: Sequence[str]) -> Optional[str]:
    """The task of ``tasks`` whose tokens and head serve a sample of
    ``task``: itself, or the task it aliases (``'track'`` -> ``'mask'``)."""
    if task is None or task in tasks:
        return task
    alias = get_task(task).alias_of
    return alias if alias in tasks else task


def register_task(cls: Type[TaskSpec]) -> Type[TaskSpec]:
    """Class decorator: register a task spec under its ``name``."""
    TASKS.register_module(name=cls.name, module=cls)
    return cls


def get_task(name: str) -> TaskSpec:
    """The spec of a registered task (an error names the known tasks)."""
    return TASKS.get(name)()


def task_table(names: Sequence[str]) -> Dict[str, TaskSpec]:
    """``{name: spec}`` of tasks with tokens, checked."""
    table = {}
    for name in names:
        spec = get_task(name)
        if spec.begin is None or spec.token is None:
            raise ValueError(f'task {name!r} has no task tokens (begin, '
                             'token): a model serves tasks with tokens')
        table[name] = spec
    return table


def registered_tasks() -> List[str]:
    """Names of the registered tasks."""
    import tpo.tasks  # noqa: F401  (registers the built-in tasks)
    return sorted(TASKS.module_dict)
