"""Generic building blocks of the heads (no task logic)."""
from .attention import ProjectionFreeAttention
from .drop_path import SequenceDropPath
from .mlp import MLP, FeedForward
from .positional_encoding import (LearnedPositionalEncoding, interleaved_sine,
                                  normalized_sine_positions,
                                  span_sine_embedding)
from .transformer import (InputProjectionLayer, TransformerEncoder,
                          TransformerEncoderLayer, add_post_norm_ffn,
                          build_activation)

__all__ = [
    'ProjectionFreeAttention', 'SequenceDropPath', 'MLP', 'FeedForward',
    'LearnedPositionalEncoding', 'interleaved_sine',
    'normalized_sine_positions', 'span_sine_embedding',
    'InputProjectionLayer', 'TransformerEncoder', 'TransformerEncoderLayer',
    'add_post_norm_ffn', 'build_activation'
]
