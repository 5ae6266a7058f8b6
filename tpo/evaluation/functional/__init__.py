from .mvbench import (mvbench_accuracy, mvbench_check_answer,
                      mvbench_format_prediction)
from .referring import box_iou_xyxy, referring_accuracy, select_top1

__all__ = [
    'box_iou_xyxy', 'select_top1', 'referring_accuracy',
    'mvbench_format_prediction', 'mvbench_check_answer', 'mvbench_accuracy'
]
