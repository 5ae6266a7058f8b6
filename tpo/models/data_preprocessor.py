"""Batches frames, normalises them and moves everything to the device."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from tpo.registry import MODELS


@MODELS.register_module()
class TPODataPreprocessor(BaseDataPreprocessor):
    """Stack ``(T, 3, H, W)`` uint8 clips into a normalised float batch.

    Args:
        mean, std: per-channel statistics on the 0-255 scale.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking)
        self.register_buffer('mean', torch.tensor(mean).view(1, 1, 3, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, 1, 3, 1, 1),
                             False)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        clips = data['inputs']
        shapes = {tuple(c.shape) for c in clips}
        if len(shapes) > 1:
            raise ValueError(
                f'clips of one batch differ in shape: {sorted(shapes)}; use '
                'the same num_frames and a resize in every pipeline')
        frames = torch.stack(list(clips)).float()
        frames = (frames - self.mean) / self.std
        return dict(inputs=frames, data_samples=data['data_samples'])
