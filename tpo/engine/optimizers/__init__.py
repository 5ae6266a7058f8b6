from .tpo_optim_constructor import TPOOptimWrapperConstructor, module_group
from .tpo_optim_wrapper import TPOOptimWrapper

__all__ = ['TPOOptimWrapper', 'TPOOptimWrapperConstructor', 'module_group']
