"""The contract between the TPO model and its task heads."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from tpo.structures import TPODataSample


class BaseTaskHead(BaseModule, metaclass=ABCMeta):
    """A visual task head fed by the LLM's hidden states at task tokens.

    The model routes by ``task``: every hidden state taken at the task token
    of ``task`` goes to this head, and nothing else does. A head never learns
    which encoder, connector or LLM produced its inputs.

    Args:
        task: the task name this head serves (a key of the model's ``tasks``).
        in_dims: width of the task embeddings (the LLM hidden size).
        extra_inputs: names of the model inputs the head needs besides the
            task embeddings (e.g. ``('frames',)``, ``('visual_tokens',)``).

    A head lists in ``gt_fields`` the data-sample fields its ``loss`` reads;
    the model checks them before calling it, so a dataset that lacks one
    fails with the head, the field and the sample named.
    """

    gt_fields: Tuple[str, ...] = ()

    def __init__(self,
                 task: str,
                 in_dims: int,
                 extra_inputs: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.task = task
        self.in_dims = in_dims
        self.extra_inputs = tuple(extra_inputs)

    @abstractmethod
    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        """Named losses of this head.

        Args:
            task_embeddings: one ``(k_i, in_dims)`` tensor per sample, the
                hidden states at that sample's ``k_i`` task tokens.
            inputs: the extra inputs named in ``extra_inputs``, each batched
                over the same samples.
            data_samples: the samples that carry this task.
        """

    @abstractmethod
    def predict(self, task_embeddings: List[torch.Tensor], inputs: dict,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        """Write this head's structured predictions into ``data_samples``."""
