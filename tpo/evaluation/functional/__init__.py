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
# multiple-choice benchmarks (VideoMME, MLVU, MMIU, SEED-Bench-2)
from .mcq_benchmarks import (mlvu_accuracy, mlvu_check_answer,  # noqa: E402
                             mlvu_extract_answer, mmiu_accuracy,
                             mmiu_check_answer, mmiu_extract_choice,
                             mmiu_match_option, seedbench2_accuracy,
                             seedbench2_extract_answer, videomme_accuracy,
                             videomme_extract_answer)
__all__ += [
    'videomme_extract_answer', 'videomme_accuracy', 'mlvu_extract_answer',
    'mlvu_check_answer', 'mlvu_accuracy', 'mmiu_extract_choice',
    'mmiu_match_option', 'mmiu_check_answer', 'mmiu_accuracy',
    'seedbench2_extract_answer', 'seedbench2_accuracy'
]
# NExT-GQA grounded QA
from .nextgqa import (nextgqa_denormalize, nextgqa_eval,  # noqa: E402
                      nextgqa_grounding, nextgqa_iou_iop,
                      nextgqa_parse_option)
__all__ += ['nextgqa_iou_iop', 'nextgqa_grounding', 'nextgqa_denormalize',
            'nextgqa_parse_option', 'nextgqa_eval']
