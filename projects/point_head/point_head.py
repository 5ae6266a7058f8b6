"""The head and the metric of the plugin's ``'point'`` task
(:mod:`projects.point_head.point_task`): regress the centre point of the
referred object, score the points that fall in the GT box.

A config adds the task to the model (``tasks=(..., 'point')``), gives it
this head (``heads=dict(point=dict(type='PointHead'))``) and imports the
plugin with ``custom_imports``; nothing in ``tpo/`` changes.
"""
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from tpo.models.heads import BaseTaskHead
from tpo.evaluation.metrics.utils import TaskMetric
from tpo.registry import METRICS, MODELS
from tpo.structures import TPODataSample
from .point_task import PointTask


@MODELS.register_module()
class PointHead(BaseTaskHead):
    """Linear-ReLU-Linear -> sigmoid -> the object's centre ``(x, y)`` as a
    fraction of the frame, trained with L1 to the GT box centre.

    Args:
        hidden_dims: width of the hidden layer.
        loss_point: loss between predicted and GT normalised centres.
        loss_weight: multiplies the head's loss.
    """

    gt_fields = ('gt_bboxes', 'ori_shape')

    def __init__(self,
                 in_dims: int,
                 hidden_dims: int = 128,
                 task: str = PointTask.name,
                 loss_point: dict = dict(type='L1Loss', loss_weight=5.0),
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(task=task, in_dims=in_dims, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        self.mlp = nn.Sequential(
            nn.Linear(in_dims, hidden_dims), nn.ReLU(inplace=True),
            nn.Linear(hidden_dims, 2))
        self.loss_point = MODELS.build(loss_point)

    def forward(self, task_embeddings: torch.Tensor) -> torch.Tensor:
        """(N, in_dims) -> (N, 2) normalised centres."""
        return self.mlp(task_embeddings.float()).sigmoid()

    @staticmethod
    def centres(boxes: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
        """Pixel xyxy boxes of an ``(H, W)`` frame -> normalised centres."""
        h, w = shape
        return torch.stack([(boxes[:, 0] + boxes[:, 2]) / (2 * w),
                            (boxes[:, 1] + boxes[:, 3]) / (2 * h)], -1)

    def loss(self, task_embeddings: List[torch.Tensor], inputs: dict,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        points = self(torch.cat(task_embeddings))
        targets = torch.cat([
            self.centres(s.gt_bboxes[:len(e)].to(points), s.ori_shape)
            for e, s in zip(task_embeddings, data_samples)
        ])
        return dict(loss_point=self.loss_point(points, targets))

    def predict(self, task_embeddings: List[torch.Tensor], inputs: dict,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        for emb, sample in zip(task_embeddings, data_samples):
            h, w = sample.ori_shape
            points = self(emb).detach().cpu() if len(emb) else \
                torch.zeros(0, 2)
            sample.pred_points = points * torch.tensor([w, h])
        return data_samples


@METRICS.register_module()
class PointInBoxAccuracy(TaskMetric):
    """Percent of ``'point'`` samples whose first predicted point lies inside
    the GT box (no point predicted: a miss)."""

    default_prefix = 'point'

    def __init__(self, tasks=(PointTask.name, ), **kwargs) -> None:
        super().__init__(tasks=tasks, **kwargs)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in self.selected(data_samples):
            points, box = sample['pred_points'], sample['gt_bboxes'][0]
            hit = len(points) > 0 and bool(
                box[0] <= points[0, 0] <= box[2]
                and box[1] <= points[0, 1] <= box[3])
            self.results.append(hit)

    def compute_metrics(self, results: list) -> dict:
        return {'Acc': 100.0 * sum(results) / max(len(results), 1)}
