"""Task Preference Optimization toolkit. Heavy modules import lazily."""
from .version import __version__

__all__ = ['__version__']
