"""AS-V2 referring boxes as referring-segmentation clips (the paper's
"expanded AS-V2", stage-2 mask data)."""
from typing import List

from tpo.registry import DATASETS
from .as_v2 import ASV2Dataset


@DATASETS.register_module()
class ASV2VideoDataset(ASV2Dataset):
    """:class:`ASV2Dataset`'s single-box phrases as ``'mask'`` samples: the
    phrase is the expression to segment, the image becomes a clip with
    ``ImageToPseudoVideo`` (a moving crop) and the box follows the object
    on every frame (``gt_track_bboxes``), which is what the mask head's
    box-prompt distillation needs (AS-V2 has boxes, no masks).

    Items: those of :class:`ASV2Dataset` with ``task='mask'``,
    ``expression`` (the phrase) and ``as_video=True`` (batched with videos,
    not with single-frame images, by ``LengthGroupedBatchSampler``).
    """

    TASK = 'mask'
    METAINFO = dict(dataset_name='as_v2_video')

    def parse_data_list(self) -> List[dict]:
        items = super().parse_data_list()
        for item in items:
            item.update(expression=item['expressions'][0], as_video=True)
        return items
