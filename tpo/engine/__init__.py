from .checkpoint import (is_deepspeed_checkpoint, load_checkpoint_file,
                         resolve_checkpoint, use_safe_checkpoints,
                         zero_checkpoint_state_dict)
from .hooks import *  # noqa: F401,F403
from .optimizers import TPOOptimWrapperConstructor
from .resumable_test_loop import ResumableTestLoop
from .runner import build_runner
from .schedulers import WarmupCosineLR
from .strategies import configure_strategy

__all__ = [
    'build_runner', 'configure_strategy', 'is_deepspeed_checkpoint',
    'load_checkpoint_file', 'resolve_checkpoint',
    'TPOOptimWrapperConstructor', 'ResumableTestLoop',
    'use_safe_checkpoints', 'WarmupCosineLR', 'zero_checkpoint_state_dict'
]
