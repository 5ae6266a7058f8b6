"""The contract between the TPO model and its task heads."""
from abc import ABCMeta, abstractmethod
from typing import ClassVar, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from tpo.structures import TPODataSample


class BaseTaskHead(BaseModule, metaclass=ABCMeta):
    """A visual task head fed by the LLM's hidden states at task tokens.

    The model routes by ``task``: every hidden state taken at the task token
    of ``task`` goes to this head, and nothing else does. A head never learns
    which encoder, connector or LLM produced its inputs, and never imports
    another head. Everything the model needs to know about a head is
    declared here:

    - what it consumes: the task embeddings, the model inputs named in
      ``extra_inputs`` and the data-sample fields named in ``gt_fields``
      (checked before ``loss``, so that a dataset lacking one fails with the
      head, field and sample named);
    - the widths it takes from the model (``model_widths``: ``'in_dims'``,
      the LLM hidden size, and ``'vision_dims'``, the vision encoder's
      token width), filled into its config when they are not given;
    - its submodules that carry their own pretrained weights
      (``pretrained_submodules``: their frozen tensors are rebuilt from that
      source and left out of checkpoints) and those the model keeps frozen
      and in eval mode (``frozen_submodules``);
    - its weight in the total loss (``loss_weight``, multiplying every loss
      it returns; 0 skips it).

    Args:
        task: the task this head serves (one of the model's ``tasks``).
        in_dims: width of the task embeddings (the LLM hidden size).
        extra_inputs: names of the model inputs the head needs besides the
            task embeddings (``'frames'``, ``'visual_tokens'``,
            ``'visual_embeds'``: see ``TPOModel.encode_video``).
        loss_weight: multiplies every loss of this head.
    """

    #: Data-sample fields that ``loss`` reads.
    gt_fields: ClassVar[Tuple[str, ...]] = ()
    #: Constructor arguments the model fills with its widths.
    model_widths: ClassVar[Tuple[str, ...]] = ('in_dims', )

    def __init__(self,
                 task: str,
                 in_dims: int,
                 extra_inputs: Sequence[str] = (),
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.task = task
        self.in_dims = in_dims
        self.extra_inputs = tuple(extra_inputs)
        self.loss_weight = float(loss_weight)

    @property
    def pretrained_submodules(self) -> Tuple[str, ...]:
        """Attribute paths of submodules built from their own pretrained
        weights (e.g. SAM2 from its checkpoint)."""
        return ()

    @property
    def frozen_submodules(self) -> Tuple[str, ...]:
        """Attribute paths of submodules that never train."""
        return ()

    @abstractmethod
    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        """Named losses of this head (unweighted by ``loss_weight``).

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
        """Write this head's structured predictions into ``data_samples``;
        a sample whose answer did not call the task comes with a
        ``(0, in_dims)`` embedding and gets an empty prediction."""
