"""Instruction templates of Tables 18-21, kept as data in ``*.json``."""
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


def template_vocabulary(path: str = TEMPLATE_FILE) -> List[str]:
    """Every lower-case word of the templates, placeholders left out."""
    words = set()
    for entry in load_templates(path).values():
        for text in entry['questions'] + entry['answers']:
            text = re.sub(r'\{\w+\}', ' ', text)
            words.update(re.findall(r'[a-z]+', text.lower()))
    return sorted(words)
