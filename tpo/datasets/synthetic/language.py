"""Every piece of text the synthetic world can write: word lists, templates,
phrase helpers and the closed vocabulary they span.

Templates are ``str.format`` strings whose fields are filled only with words
from the lists below, so :func:`world_vocabulary` is exact.
"""
import re
from typing import List

from .scene import COLORS, SHAPES, Scene, SceneObject

COLOR_WORDS = tuple(COLORS)
SHAPE_WORDS = SHAPES
DIRECTIONS = ('left', 'right', 'up', 'down')
NUMBER_WORDS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
                'eight', 'nine')
DIGITS = tuple(str(i) for i in range(10))
SIZE_WORDS = ('big', 'small')
ARTICLES = ('a', 'an')
POSITIONS = {
    'left': 'on the left',
    'right': 'on the right',
    'top': 'at the top',
    'bottom': 'at the bottom',
}
MOTION_PHRASES = {
    'horizontal': 'moving left and right',
    'vertical': 'moving up and down',
    'static': 'that does not move',
}
MOTION_ANSWERS = {
    'horizontal': 'It moves left and right.',
    'vertical': 'It moves up and down.',
    'static': 'It does not move.',
}

# QVHighlights queries.
QVH_APPEAR = ('the {color} {shape} appears', 'a {color} {shape} is visible',
              'the {color} {shape} can be seen')
QVH_MOVE = ('the {color} {shape} moves {direction}',
            'a {color} {shape} is moving {direction}')

# RefCOCO expressions.
REF_NAME = ('{color} {shape}', 'the {color} {shape}')
REF_POSITION = ('{color} {shape} {position}', 'the {color} {shape} {position}',
                'the {shape} {position}')
REF_SIZE = ('{size} {color} {shape}', 'the {size} {shape}')
REF_COLOR = ('the {color} one', '{color} object')

# MeViS expressions.
MEVIS_SHAPE_MOTION = 'the {shape} {motion}'
MEVIS_COLOR_MOTION = 'the {color} object {motion}'
MEVIS_MOTION = 'the object {motion}'
MEVIS_FULL_MOTION = 'the {color} {shape} {motion}'
MEVIS_LEAVES = 'the {color} {shape} that leaves before the end'

# VideoChat2-IT conversations.
CAPTION_INSTRUCTIONS = ('Describe the video.',
                        'Describe what happens in the video.',
                        'Give a short description of the video.')
QA_INSTRUCTIONS = ('Answer the question about the video.',
                   'Watch the video carefully and answer the question.')
CAPTION = 'There are {count} objects: {items}.'
CAPTION_ITEM = '{article} {color} {shape} {motion}'
CAPTION_APPEARS = 'The {color} {shape} appears later.'
CAPTION_LEAVES = 'The {color} {shape} disappears before the end.'
COUNT_QUESTION = 'How many objects appear in the video?'
COUNT_ANSWER = 'There are {count} objects.'
COLOR_QUESTION = 'What color is the {shape}?'
COLOR_MOTION_QUESTION = 'What color is the {shape} {motion}?'
COLOR_ANSWER = 'It is {color}.'
MOTION_QUESTION = 'How does the {color} {shape} move?'
WHERE_QUESTION = 'Where is the {color} {shape}?'
WHERE_ANSWER = 'It is {place}.'
#: Thirds of the frame (row, column) -> place phrase.
PLACES = {
    (0, 0): 'at the top left', (0, 1): 'at the top',
    (0, 2): 'at the top right', (1, 0): 'on the left',
    (1, 1): 'in the middle', (1, 2): 'on the right',
    (2, 0): 'at the bottom left', (2, 1): 'at the bottom',
    (2, 2): 'at the bottom right',
}
WHEN_QUESTION = 'When can the {color} {shape} be seen?'
#: Thirds of the video holding the centre of an object's window, or the
#: whole video -> answer.
WHEN_ANSWERS = {
    'whole': 'During the whole video.', 0: 'At the start.',
    1: 'In the middle.', 2: 'At the end.',
}

# MVBench questions and candidate sets.
MOVING_COUNT_QUESTION = 'How many objects are moving in the video?'
MOVING_DIRECTION_QUESTION = ('In which direction is the {color} {shape} '
                             'moving when it first appears?')
NOT_MOVING = 'not moving'
MOVING_ATTRIBUTE_QUESTION = 'What color is the object {motion}?'
EXISTENCE_QUESTION = 'Is there {article} {color} {shape} in the video?'
EXISTENCE_CANDIDATES = ('yes', 'no', 'not sure')

# LaSOT language description.
LASOT_NLP = '{color} {shape} {motion}'

_TEXTS = (COLOR_WORDS, SHAPE_WORDS, DIRECTIONS, NUMBER_WORDS, DIGITS,
          SIZE_WORDS, ARTICLES, tuple(POSITIONS.values()),
          tuple(MOTION_PHRASES.values()), tuple(MOTION_ANSWERS.values()),
          tuple(PLACES.values()), tuple(WHEN_ANSWERS.values()),
          QVH_APPEAR, QVH_MOVE, REF_NAME, REF_POSITION, REF_SIZE, REF_COLOR,
          (MEVIS_SHAPE_MOTION, MEVIS_COLOR_MOTION, MEVIS_MOTION,
           MEVIS_FULL_MOTION, MEVIS_LEAVES), CAPTION_INSTRUCTIONS,
          QA_INSTRUCTIONS,
          (CAPTION, CAPTION_ITEM, CAPTION_APPEARS, CAPTION_LEAVES,
           COUNT_QUESTION, COUNT_ANSWER, COLOR_QUESTION, COLOR_MOTION_QUESTION,
           COLOR_ANSWER, MOTION_QUESTION, WHERE_QUESTION, WHERE_ANSWER,
           WHEN_QUESTION, MOVING_COUNT_QUESTION,
           MOVING_DIRECTION_QUESTION, NOT_MOVING, MOVING_ATTRIBUTE_QUESTION,
           EXISTENCE_QUESTION, LASOT_NLP), EXISTENCE_CANDIDATES)


def split_words(text: str) -> List[str]:
    """Lower-case words of ``text``, split on whitespace and punctuation."""
    return re.findall(r'[a-z0-9]+', text.lower())


def world_vocabulary() -> List[str]:
    """Sorted list of every word that a generated text can contain."""
    words = set()
    for group in _TEXTS:
        for text in group:
            words.update(split_words(re.sub(r'\{\w+\}', ' ', text)))
    return sorted(words)


def article(word: str) -> str:
    """The indefinite article for ``word``."""
    return 'an' if word[0] in 'aeiou' else 'a'


def appears_later(obj: SceneObject, scene: Scene) -> bool:
    """Whether the object enters at least a second after the start."""
    return obj.appear >= scene.fps


def leaves_early(obj: SceneObject, scene: Scene) -> bool:
    """Whether the object leaves at least a second before the end."""
    return obj.disappear <= scene.num_frames - scene.fps


def fill(template: str, obj: SceneObject, **fields: str) -> str:
    """Fill ``template`` with an object's words (``color``, ``shape``,
    ``motion``, ``article``); ``fields`` add or override fields."""
    values = dict(
        color=obj.color,
        shape=obj.shape,
        motion=MOTION_PHRASES[obj.motion],
        article=article(obj.color))
    values.update(fields)
    return template.format(**values)
