"""Registries of ``tpo``: one child of every mmengine root registry (scope ``tpo``).

Each child names the package ``locations`` that hold its members, so a lookup
imports them lazily. A lookup of an unknown name raises a :class:`KeyError`
that names the registry, the name and the closest registered names.
"""
import difflib
from typing import List, Optional, Type

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry


class TPORegistry(Registry):
    """An mmengine :class:`Registry` whose misses name the closest entries."""

    def _visible_names(self) -> List[str]:
        names, node = set(self._module_dict), self.parent
        while node is not None:
            names.update(node._module_dict)
            node = node.parent
        return sorted(names)

    def get(self, key: str) -> Optional[Type]:
        obj = super().get(key)
        if obj is None and isinstance(key, str) and '.' not in key:
            close = difflib.get_close_matches(
                key, self._visible_names(), n=5, cutoff=0.5)
            hint = (f' Closest registered names: {close}.'
                    if close else ' No similar name is registered.')
            raise KeyError(
                f'{key!r} is not in the {self.scope}::{self.name} registry.'
                f'{hint} If it is a plugin, import its module first '
                "(config: custom_imports=dict(imports=['my_pkg.my_module'])).")
        return obj

    def __contains__(self, key: str) -> bool:
        return super().get(key) is not None


def _child(name: str, parent: Registry, locations: List[str]) -> TPORegistry:
    return TPORegistry(name, parent=parent, scope='tpo', locations=locations)


RUNNERS = _child('runner', MMENGINE_RUNNERS, ['tpo.engine'])
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             MMENGINE_RUNNER_CONSTRUCTORS, ['tpo.engine'])
LOOPS = _child('loop', MMENGINE_LOOPS, ['tpo.engine'])
HOOKS = _child('hook', MMENGINE_HOOKS, ['tpo.engine.hooks'])
STRATEGIES = _child('strategy', MMENGINE_STRATEGIES, ['tpo.engine'])

DATASETS = _child('dataset', MMENGINE_DATASETS, ['tpo.datasets'])
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS,
                       ['tpo.datasets'])
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS,
                    ['tpo.datasets.transforms'])

MODELS = _child('model', MMENGINE_MODELS, ['tpo.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS,
                        ['tpo.models'])
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMENGINE_WEIGHT_INITIALIZERS, ['tpo.models'])
TASK_UTILS = _child('task util', MMENGINE_TASK_UTILS,
                    ['tpo.models.task_modules'])
# Tokenizers are built from local files (a downloaded model folder, or the
# synthetic world's vocabulary); they are not nn.Modules, so they get their own.
TOKENIZERS = TPORegistry('tokenizer', scope='tpo',
                         locations=['tpo.models.llms'])
# How a conversation is laid out in tokens (PromptTemplate and variants).
PROMPT_TEMPLATES = TPORegistry('prompt template', scope='tpo',
                               locations=['tpo.models.llms'])
# Task specs (tokens, phrasing, text form) read by the pipeline, the model
# and the metrics: plain classes, keyed by task name.
TASKS = TPORegistry('task', scope='tpo', locations=['tpo.tasks'])

OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, ['tpo.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS,
                        ['tpo.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['tpo.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          ['tpo.engine'])

METRICS = _child('metric', MMENGINE_METRICS, ['tpo.evaluation'])
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, ['tpo.evaluation'])

VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS,
                     ['tpo.visualization'])
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS,
                     ['tpo.visualization'])
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS,
                        ['tpo.engine'])
INFERENCERS = _child('inferencer', MMENGINE_INFERENCERS, ['tpo.apis'])
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, ['tpo.datasets'])
