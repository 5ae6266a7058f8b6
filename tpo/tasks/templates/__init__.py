"""Instruction templates of Tables 18-21, kept as data in ``*.json``, and
the templates of every registered task."""
import json
import os.path as osp
import random
import re
from functools import lru_cache
from typing import Dict, List, Optional

TEMPLATE_FILE = osp.join(osp.dirname(__file__), 'instructions.json')


@lru_cache(maxsize=None)
def load_templates(path: str = TEMPLATE_FILE) -> Dict[str, dict]:
    """Task name -> ``{'questions': [...], 'answers': [...]}``."""
    with open(path) as f:
        table = json.load(f)
    table.pop('_comment', None)
    for task, entry in table.items():
        for field in ('questions', 'answers'):
            if not entry.get(field):
                raise ValueError(f'{path}: task {task!r} has no {field!r}')
    return table


def choose_template(templates: List[str], rng: Optional[random.Random],
                    index: int) -> str:
    """A random template while training (``rng`` given), else a fixed one
    chosen by ``index`` so that test prompts are reproducible."""
    if rng is not None:
        return rng.choice(templates)
    return templates[index % len(templates)]


def task_templates(task, path: str = TEMPLATE_FILE) -> Dict[str, list]:
    """``{'questions': [...], 'answers': [...]}`` of a task spec: its entry
    in the templates file at ``path``, else its own ``questions`` and
    ``answers``."""
    entry = load_templates(path).get(task.name)
    if entry is None and task.questions and task.answers:
        entry = dict(questions=list(task.questions),
                     answers=list(task.answers))
    if entry is None:
        raise KeyError(
            f'no templates for task {task.name!r}: neither {path} nor its '
            f'spec ({type(task).__name__}.questions / answers) has them')
    return entry


def template_vocabulary(path: str = TEMPLATE_FILE) -> List[str]:
    """Every lower-case word of the templates and of the registered tasks'
    own templates, placeholders left out."""
    from ..base_task import get_task, registered_tasks
    entries = list(load_templates(path).values())
    for name in registered_tasks():
        task = get_task(name)
        if task.questions and task.answers:
            entries.append(dict(questions=list(task.questions),
                                answers=list(task.answers)))
    words = set()
    for entry in entries:
        for text in entry['questions'] + entry['answers']:
            text = re.sub(r'\{\w+\}', ' ', text)
            words.update(re.findall(r'[a-z]+', text.lower()))
    return sorted(words)
