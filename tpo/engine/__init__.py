from .checkpoint import (is_deepspeed_checkpoint, load_checkpoint_file,
                         resolve_checkpoint)
from .hooks import *  # noqa: F401,F403
from .optimizers import TPOOptimWrapperConstructor
from .resumable_test_loop import ResumableTestLoop
from .runner import build_runner
from .strategies import configure_strategy, zero_checkpoint_state_dict

__all__ = [
    'build_runner', 'configure_strategy', 'is_deepspeed_checkpoint',
    'load_checkpoint_file', 'resolve_checkpoint',
    'TPOOptimWrapperConstructor', 'ResumableTestLoop',
    'zero_checkpoint_state_dict'
]
