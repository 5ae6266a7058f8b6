# VideoChat-TPO fine-tuned on QVHighlights (Table 6): the stage-3 model's
# temporal head, temporal token and LoRA train on the QVHighlights train
# split (windows and saliency); moment retrieval mAP / R1 and highlight
# detection HL-mAP / HIT@1 on its val split (for the test server: the test
# split with tools/test.py --submission-dir). The setting is an assumption
# (the paper gives none): configs/_base_/schedules/tpo_finetune_temporal.py
# says what and why.
_base_ = [
    './videochat_common.py', '../_base_/schedules/tpo_finetune_temporal.py',
    '../_base_/datasets/tpo_sources.py'
]

load_from = 'work_dirs/videochat_stage3'
work_dir = 'work_dirs/videochat_finetune_qvhighlights'

model = _base_.stage_model
train_dataloader = dict(batch_size=_base_.per_gpu_batch_size,
                        dataset=_base_.qvhighlights_train)
val_dataloader = dict(
    _base_.eval_dataloader,
    dataset=dict(_base_.qvhighlights_train,
                 ann_file='qvhighlights/highlight_val_release.jsonl',
                 test_mode=True, pipeline=_base_.video_test_pipeline))
val_evaluator = [dict(type='MomentRetrievalMetric', tasks=('temporal', ))]
test_dataloader = val_dataloader
test_evaluator = val_evaluator
