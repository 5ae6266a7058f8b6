from .mvbench import (mvbench_accuracy, mvbench_check_answer,
                      mvbench_format_prediction)
from .referring import box_iou_xyxy, referring_accuracy, select_top1
from .segmentation import (boundary_f_measure, davis_statistics,
                           mevis_j_and_f, region_similarity_j, rle_decode)
from .temporal import (charades_recall, qvhighlights_eval,
                       qvhighlights_highlight_detection,
                       qvhighlights_moment_retrieval, temporal_iou)
from .tracking import (got10k_eval, got10k_iou, lasot_eval,
                       lasot_sequence_curves)

__all__ = [
    'box_iou_xyxy', 'select_top1', 'referring_accuracy',
    'mvbench_format_prediction', 'mvbench_check_answer', 'mvbench_accuracy',
    'rle_decode', 'region_similarity_j', 'boundary_f_measure',
    'davis_statistics', 'mevis_j_and_f', 'lasot_sequence_curves',
    'lasot_eval', 'got10k_iou', 'got10k_eval',
    'temporal_iou', 'charades_recall', 'qvhighlights_moment_retrieval',
    'qvhighlights_highlight_detection', 'qvhighlights_eval'
]
