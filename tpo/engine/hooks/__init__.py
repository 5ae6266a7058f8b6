from .progress_bar_hook import ProgressBarHook
from .safetensors_checkpoint_hook import SafetensorsCheckpointHook

__all__ = ['ProgressBarHook', 'SafetensorsCheckpointHook']
