"""LLaVA-OneVision's projector: a 2-layer GELU MLP plus per-frame pooling."""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from tpo.registry import MODELS

NEWLINE_POSITIONS = ('one_token', 'frame', 'grid', 'none')


@MODELS.register_module()
class MLPProjector(BaseModule):
    """Project frame tokens to the LLM and pool them as LLaVA-OneVision does
    for videos.

    ``linear_1 -> GELU -> linear_2`` maps every token from ``vision_dims`` to
    ``llm_dims``; *then* each frame's ``h x w`` token grid is resized to
    ``ceil(h / s) x ceil(w / s)`` (``s = pool_stride``) with
    ``F.interpolate(mode='bilinear')`` (align_corners off, no antialiasing),
    as transformers' ``LlavaOnevisionModel.apply_pooling`` and the original
    ``get_2dPool`` do (27x27 -> 14x14 = 196 tokens per 384px SigLIP frame).
    Frames stay in time order, rows in raster order.

    The learned ``image_newline`` embedding is placed according to
    ``newline``:

    - ``'one_token'``: once, after the last frame (LLaVA-OneVision's video
      layout, ``mm_newline_position='one_token'``; transformers'
      ``get_video_features``);
    - ``'frame'``: after every frame;
    - ``'grid'``: after every row of every frame;
    - ``'none'``: never (no ``image_newline`` parameter).

    Checkpoint keys: parameters are named so that a LLaVA-OneVision
    checkpoint maps onto a ``TPOModel`` by prefix renames only
    (``tools/model_converters/llava_onevision_to_tpo.py``).

    Args:
        vision_dims: width of the encoder's tokens (filled in by TPOModel).
        llm_dims: width of the LLM's embeddings (filled in by TPOModel).
        frame_grid: the per-frame token grid ``(h, w)`` (or ``h`` for a
            square one) of the encoder's output, e.g. ``27`` for SigLIP
            so400m at 384px; the encoder's ``grid``.
        pool_stride: downsampling factor of each side; 1 disables pooling.
        pool_mode: ``'bilinear'`` (LLaVA-OneVision, ``ceil`` sizes),
            ``'average'`` or ``'max'`` (the original code's other
            ``mm_spatial_pool_mode``; ``floor`` sizes, as ``avg_pool2d``).
        newline: where ``image_newline`` goes (see above).
        bias: biases of the two linear layers.
    """

    def __init__(self,
                 vision_dims: int,
                 llm_dims: int,
                 frame_grid: Optional[Union[int, Sequence[int]]] = None,
                 pool_stride: int = 2,
                 pool_mode: str = 'bilinear',
                 newline: str = 'one_token',
                 bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if newline not in NEWLINE_POSITIONS:
            raise ValueError(f'newline must be one of {NEWLINE_POSITIONS}, '
                             f'got {newline!r}')
        if pool_mode not in ('bilinear', 'average', 'max'):
            raise ValueError("pool_mode must be 'bilinear', 'average' or "
                             f"'max', got {pool_mode!r}")
        if pool_stride < 1:
            raise ValueError(f'pool_stride must be >= 1, got {pool_stride}')
        self.linear_1 = nn.Linear(vision_dims, llm_dims, bias=bias)
        self.act = nn.GELU()
        self.linear_2 = nn.Linear(llm_dims, llm_dims, bias=bias)
        self.vision_dims, self.llm_dims = vision_dims, llm_dims
        self.frame_grid = self._as_grid(frame_grid)
        self.pool_stride = pool_stride
        self.pool_mode = pool_mode
        self.newline = newline
        if newline != 'none':
            self.image_newline = nn.Parameter(
                torch.randn(llm_dims) / math.sqrt(llm_dims))
        else:
            self.image_newline = None

    @staticmethod
    def _as_grid(grid) -> Optional[Tuple[int, int]]:
        if grid is None:
            return None
        if isinstance(grid, int):
            return (grid, grid)
        h, w = grid
        return (int(h), int(w))

    def pooled_grid(self, grid: Optional[Tuple[int, int]] = None
                    ) -> Tuple[int, int]:
        """The per-frame grid after pooling."""
        h, w = grid or self.frame_grid
        s = self.pool_stride
        if self.pool_mode == 'bilinear':
            return (math.ceil(h / s), math.ceil(w / s))
        return (h // s, w // s)  # avg/max pooling drop a partial row

    def num_output_tokens(self, num_frames: int) -> int:
        """How many tokens a clip of ``num_frames`` frames becomes."""
        h, w = self.pooled_grid()
        per_frame = h * w + {'grid': h, 'frame': 1}.get(self.newline, 0)
        return num_frames * per_frame + (self.newline == 'one_token')

    def pool(self, features: torch.Tensor, grid: Tuple[int, int]
             ) -> torch.Tensor:
        """``(N, h*w, D)`` per-frame tokens -> ``(N, h', w', D)``."""
        n, _, d = features.shape
        h, w = grid
        x = features.view(n, h, w, d).permute(0, 3, 1, 2).contiguous()
        if self.pool_stride > 1:
            size = list(self.pooled_grid(grid))
            if self.pool_mode == 'bilinear':
                x = F.interpolate(x, size=size, mode='bilinear')
            elif self.pool_mode == 'average':
                x = F.avg_pool2d(x, self.pool_stride)
            else:
                x = F.max_pool2d(x, self.pool_stride)
        return x.permute(0, 2, 3, 1)

    def forward(self,
                visual_tokens: torch.Tensor,
                frame_grid: Optional[Union[int, Sequence[int]]] = None
                ) -> torch.Tensor:
        """``(B, T*h*w, vision_dims)`` -> ``(B, num_output_tokens, llm_dims)``.
        """
        grid = self._as_grid(frame_grid) or self.frame_grid
        if grid is None:
            raise ValueError(
                'MLPProjector needs the per-frame token grid to pool frames: '
                'set `frame_grid` (the vision encoder\'s `grid`, e.g. 27 for '
                'SigLIP so400m at 384px)')
        b, n, _ = visual_tokens.shape
        per_frame = grid[0] * grid[1]
        if n % per_frame:
            raise ValueError(
                f'{n} visual tokens per sample are not a whole number of '
                f'{grid[0]}x{grid[1]} frames: check frame_grid against the '
                'encoder (image_size // patch_size)')
        x = visual_tokens.to(self.linear_1.weight.dtype)
        x = self.linear_2(self.act(self.linear_1(x)))
        t = n // per_frame
        x = self.pool(x.reshape(b * t, per_frame, -1), grid)  # (BT,h',w',D)
        _, h, w, d = x.shape
        x = x.reshape(b, t, h, w, d)
        if self.newline == 'grid':
            nl = self.image_newline.to(x).expand(b, t, h, 1, d)
            x = torch.cat([x, nl], dim=3)
        x = x.reshape(b, t, -1, d)
        if self.newline == 'frame':
            nl = self.image_newline.to(x).expand(b, t, 1, d)
            x = torch.cat([x, nl], dim=2)
        x = x.reshape(b, -1, d)
        if self.newline == 'one_token':
            nl = self.image_newline.to(x).expand(b, 1, d)
            x = torch.cat([x, nl], dim=1)
        return x
