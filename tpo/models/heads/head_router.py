"""The task heads of a model and the routing of task embeddings to them."""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from tpo.registry import MODELS
from tpo.structures import TPODataSample
from tpo.utils import describe_sample
from .base_task_head import BaseTaskHead


class HeadRouter(nn.ModuleDict):
    """Named task heads, at most one per task (``heads.<name>`` in the
    model's state dict).

    Builds each head with the widths it declares in ``model_widths`` (where
    its config leaves them out or None), checks
    that it serves one of ``tasks``, that its ``in_dims`` is the LLM's, and
    that no two heads serve one task (a model with two heads for a task
    would train both but could only predict with one).

    Args:
        heads: ``{name: head config}``.
        tasks: the tasks of the model.
        widths: the model's widths, ``in_dims`` (LLM hidden size) and
            ``vision_dims`` (vision encoder tokens).
    """

    def __init__(self, heads: Mapping[str, dict], tasks: Sequence[str],
                 widths: Mapping[str, int]) -> None:
        super().__init__()
        served: Dict[str, str] = {}
        for name, cfg in heads.items():
            head = MODELS.build(self._with_widths(dict(cfg), widths))
            if not isinstance(head, BaseTaskHead):
                raise TypeError(f'heads.{name} is a {type(head).__name__}, '
                                'not a BaseTaskHead')
            if head.task not in tasks:
                raise KeyError(f'heads.{name} serves task {head.task!r}, '
                               f'which is not in tasks {list(tasks)}')
            if head.task in served:
                raise ValueError(
                    f'heads.{served[head.task]} and heads.{name} both serve '
                    f'task {head.task!r}: a task has one head (remove one, '
                    f"or give it another task with task='...')")
            if head.in_dims != widths['in_dims']:
                raise ValueError(
                    f'heads.{name}.in_dims is {head.in_dims}, but the task '
                    f"embeddings are {widths['in_dims']} wide (the LLM "
                    'hidden size): remove in_dims to have it filled in')
            served[head.task] = name
            self[name] = head
        self.names_by_task = served

    @staticmethod
    def _with_widths(cfg: dict, widths: Mapping[str, int]) -> dict:
        head_type = cfg['type']
        cls = MODELS.get(head_type) if isinstance(head_type, str) \
            else head_type
        if cls is None:
            MODELS.build(cfg)  # raises the registry's "not found" error
        for name in cls.model_widths:
            if cfg.get(name) is None:
                cfg[name] = widths[name]
        return cfg

    def head_of(self, task: Optional[str]) -> Optional[BaseTaskHead]:
        """The head serving ``task``, or None."""
        name = self.names_by_task.get(task)
        return None if name is None else self[name]

    def frozen_paths(self) -> Tuple[str, ...]:
        """Model-level paths of the submodules the heads keep frozen."""
        return tuple(f'heads.{name}.{sub}' for name, head in self.items()
                     for sub in head.frozen_submodules)

    def pretrained_paths(self) -> Tuple[str, ...]:
        """Model-level paths of the heads' pretrained submodules."""
        return tuple(f'heads.{name}.{sub}' for name, head in self.items()
                     for sub in head.pretrained_submodules)

    @staticmethod
    def task_embeddings(hidden: torch.Tensor, token_ids: torch.Tensor,
                        token_id: int
                        ) -> Tuple[List[int], List[torch.Tensor]]:
        """The samples holding the task token ``token_id`` and, for each,
        the ``(k_i, C)`` float32 hidden states at its ``k_i`` occurrences."""
        mask = token_ids == token_id
        indices = [i for i in range(len(mask)) if mask[i].any()]
        return indices, [hidden[i][mask[i]].float() for i in indices]

    def loss(self, hidden: torch.Tensor, token_ids: torch.Tensor,
             task_token_ids: Mapping[str, int], visual: dict,
             data_samples: List[TPODataSample]
             ) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
        """Each head's weighted losses, ``<name>.<loss>``, on the hidden
        states at its task tokens, and a zero anchor.

        A sample reaches a head through the task token in its answers (a
        sample of an alias, e.g. tracking, carries the aliased task's
        token). Heads run in float32, also under autocast. The anchor is
        zero and holds every trainable parameter of the heads that train,
        so that every rank has a gradient for each of them whichever tasks
        its batch reaches (DDP, DeepSpeed ZeRO-3): add it to a loss.
        """
        losses = {}
        anchors = []
        for name, head in self.items():
            if head.loss_weight == 0:
                continue
            anchors += [p.sum() * 0 for p in head.parameters()
                        if p.requires_grad]
            indices, embeddings = self.task_embeddings(
                hidden, token_ids, task_token_ids[head.task])
            if not indices:
                continue
            samples = [data_samples[i] for i in indices]
            self._check_gt_fields(name, head, samples)
            inputs = {key: visual[key][indices] for key in head.extra_inputs}
            with torch.autocast(hidden.device.type, enabled=False):
                head_losses = head.loss(embeddings, inputs, samples)
            for key, value in head_losses.items():
                losses[f'{name}.{key}'] = head.loss_weight * value
        return losses, sum(anchors, hidden.new_zeros(()).float())

    def predict(self, states: List[Dict[str, List[torch.Tensor]]],
                visual: dict, data_samples: List[TPODataSample],
                sample_tasks: List[Optional[str]]) -> None:
        """Run the heads of the tasks each sample's answer called.

        ``states``: per sample, ``{task: hidden states at its task
        tokens}``; ``sample_tasks``: the task whose head serves each sample
        (its own, or the one it aliases). A sample of a head's task always
        gets that head's output, empty when the model did not call the
        task.
        """
        for b, (sample, called) in enumerate(zip(data_samples, states)):
            called = dict(called)
            if self.head_of(sample_tasks[b]) is not None:
                called.setdefault(sample_tasks[b], [])
            for task, hidden in called.items():
                head = self.head_of(task)
                if head is None:
                    continue
                embeddings = torch.stack(hidden) if hidden else \
                    visual['visual_embeds'].new_zeros(0, head.in_dims).float()
                inputs = {key: visual[key][b:b + 1]
                          for key in head.extra_inputs}
                with torch.autocast(embeddings.device.type, enabled=False):
                    head.predict([embeddings], inputs, [sample])

    @staticmethod
    def _check_gt_fields(name: str, head: BaseTaskHead,
                         samples: List[TPODataSample]) -> None:
        """Fail, naming the head, field and sample, when a sample routed to
        a head lacks a target field the head declares."""
        for sample in samples:
            missing = [f for f in head.gt_fields if f not in sample]
            if missing:
                raise KeyError(
                    f'heads.{name} ({type(head).__name__}) needs {missing} '
                    f'in its {head.task!r} samples, but '
                    f'{describe_sample(sample.to_dict())} has none: does '
                    'its dataset provide these targets?')
