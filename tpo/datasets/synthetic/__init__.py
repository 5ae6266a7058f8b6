"""The synthetic video world: moving coloured shapes rendered to mp4 with
exact ground truth, annotated in the formats of QVHighlights, RefCOCO, MeViS,
LaSOT, VideoChat2-IT and MVBench."""
from .ensure import ensure_synthetic_world
from .generator import DEFAULT_NUM_VIDEOS, generate_world, world_params
from .language import split_words, world_vocabulary
from .render import RenderedVideo, render_video
from .scene import COLORS, SHAPES, Scene, SceneObject, sample_scene

__all__ = [
    'COLORS', 'SHAPES', 'DEFAULT_NUM_VIDEOS', 'RenderedVideo', 'Scene',
    'SceneObject', 'ensure_synthetic_world', 'generate_world', 'render_video',
    'sample_scene', 'split_words', 'world_params', 'world_vocabulary'
]
