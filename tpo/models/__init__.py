from .box_prompt_encoder import BoxPromptEncoder
from .connectors import *  # noqa: F401,F403
from .data_preprocessor import TPODataPreprocessor
from .encoders import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .llms import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
from .task_tokens import TaskTokens
from .tpo_model import TPOModel

__all__ = ['BoxPromptEncoder', 'TPODataPreprocessor', 'TaskTokens', 'TPOModel']
