from .checkpoint import load_checkpoint_file, resolve_checkpoint
from .hooks import *  # noqa: F401,F403
from .optimizers import TPOOptimWrapperConstructor
from .resumable_test_loop import ResumableTestLoop
from .runner import build_runner

__all__ = [
    'build_runner', 'load_checkpoint_file', 'resolve_checkpoint',
    'TPOOptimWrapperConstructor', 'ResumableTestLoop'
]
