from .tpo_optim_constructor import TPOOptimWrapperConstructor, module_group

__all__ = ['TPOOptimWrapperConstructor', 'module_group']
