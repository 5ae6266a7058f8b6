"""The per-sample record that flows from the pipeline through the model to
the metrics."""
from mmengine.structures import BaseDataElement


class TPODataSample(BaseDataElement):
    """One video (or image) sample with its conversation and task targets.

    Meta information (set by the dataset and the transforms):
        - ``sample_idx``, ``source`` (dataset name), ``video_path``
        - ``task``: ``'region'``, ``'temporal'``, ``'mask'``, ``'track'``,
          ``'chat'`` or ``'mcq'``
        - ``conversation``: list of ``{'question': str, 'answer': str}``
          turns; the answer of a task sample carries the task-begin and
          task tokens (e.g. ``'<box_begin><boxes>'``)
        - ``ori_shape`` ``(H, W)``, ``img_shape``, ``frame_inds``, ``fps``,
          ``duration`` (seconds)

    Data fields (all optional, present only for the tasks that need them):
        - ``gt_bboxes``: ``(K, 4)`` float tensor, xyxy pixels of
          ``ori_shape``; for videos one box per annotated frame
        - ``pred_bboxes`` / ``pred_scores``: the head's output, same frame
        - ``gt_masks``: ``(T, H, W)`` bool, one mask per sampled frame
          (``frame_inds``) at ``ori_shape``; MeViS samples also carry
          ``mask_rles`` (metainfo: per object, one RLE per video frame)
        - ``gt_track_bboxes``: ``(T, 4)`` xywh pixels of the sampled frames
          (tracking; ``absent`` in the metainfo: ``(T,)`` flags)
        - ``prompt_bboxes``: ``(K, 4)`` xyxy pixels of ``ori_shape``
          encoded at the ``<track_box>`` placeholders (tracking: the first
          sampled frame's box)
        - ``pred_masks`` / ``pred_mask_rles`` / ``pred_track_bboxes``: the
          mask head's output, one per sampled frame
        - ``gt_task`` / ``pred_task``: the task-begin token expected and
          generated (task assignment)
        - ``gt_answer`` / ``pred_text``: the expected and generated text
    """
