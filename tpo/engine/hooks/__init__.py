from .finite_checkpoint_hook import FiniteCheckpointHook
from .progress_bar_hook import ProgressBarHook
from .safetensors_checkpoint_hook import SafetensorsCheckpointHook
from .skipped_samples_hook import SkippedSamplesHook

__all__ = [
    'FiniteCheckpointHook', 'ProgressBarHook', 'SafetensorsCheckpointHook',
    'SkippedSamplesHook'
]
