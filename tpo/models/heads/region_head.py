"""Region head: a two-layer MLP regressing one box per task token."""
from typing import Dict, List, Optional

import torch
from torch import nn

from tpo.registry import MODELS, TASK_UTILS
from tpo.structures import TPODataSample
from .base_task_head import BaseTaskHead


@MODELS.register_module()
class RegionHead(BaseTaskHead):
    """MLP (Linear-ReLU-Linear) -> sigmoid -> normalised box (Sec. 3.1).

    Each task token of a sample predicts one box; the j-th token of a sample
    is supervised by the j-th row of its ``gt_bboxes`` (a video grounding
    sample carries one row per annotated frame).

    Args:
        hidden_dims: width of the hidden layer.
        box_coder: how boxes are normalised (``NormalizedBoxCoder``).
        loss_bbox: regression loss on the codes (paper: MSE; official code:
            L1).
        loss_iou: optional IoU loss on normalised xyxy boxes (e.g. GIoU).
        sigmoid: squash the MLP output into ``[0, 1]``; the official
            ``loc_decoder`` uses its raw output (False), decoded boxes are
            clipped to the frame either way.
        loss_weight: multiplies every loss of the head.
    """

    gt_fields = ('gt_bboxes', 'ori_shape')

    def __init__(self,
                 in_dims: int,
                 hidden_dims: int = 256,
                 task: str = 'region',
                 box_coder: dict = dict(type='NormalizedBoxCoder'),
                 loss_bbox: dict = dict(type='MSELoss', loss_weight=1.0),
                 loss_iou: Optional[dict] = None,
                 sigmoid: bool = True,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(task=task, in_dims=in_dims,
                         loss_weight=loss_weight, init_cfg=init_cfg)
        self.mlp = nn.Sequential(
            nn.Linear(in_dims, hidden_dims), nn.ReLU(inplace=True),
            nn.Linear(hidden_dims, 4))
        self.box_coder = TASK_UTILS.build(box_coder)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_iou = MODELS.build(loss_iou) if loss_iou else None
        self.sigmoid = sigmoid

    def forward(self, task_embeddings: torch.Tensor) -> torch.Tensor:
        """(N, in_dims) -> (N, 4) normalised box codes."""
        codes = self.mlp(task_embeddings.float())
        return codes.sigmoid() if self.sigmoid else codes

    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        codes = self(torch.cat(task_embeddings))
        targets = []
        for emb, sample in zip(task_embeddings, data_samples):
            gt = sample.gt_bboxes.to(codes.device)
            if len(gt) < len(emb):
                raise ValueError(
                    f'{sample.get("video_path")}: {len(emb)} region tokens '
                    f'but only {len(gt)} gt_bboxes')
            targets.append(self.box_coder.encode(gt[:len(emb)],
                                                 sample.ori_shape))
        targets = torch.cat(targets).float()
        losses = dict(loss_bbox=self.loss_bbox(codes, targets))
        if self.loss_iou is not None:
            losses['loss_iou'] = self.loss_iou(
                self.box_coder.to_xyxy(codes), self.box_coder.to_xyxy(targets))
        return losses

    def predict(self, task_embeddings: List[torch.Tensor], inputs: dict,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        for emb, sample in zip(task_embeddings, data_samples):
            boxes = self.box_coder.decode(self(emb), sample.ori_shape)
            sample.pred_bboxes = boxes.detach().cpu()
            sample.pred_scores = boxes.new_ones(len(boxes)).cpu()
        return data_samples
