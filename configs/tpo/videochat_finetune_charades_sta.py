# VideoChat-TPO fine-tuned on Charades-STA (Table 6): the stage-3 model's
# temporal head, temporal token and LoRA train on the Charades-STA train
# split; R1@0.3 / 0.5 / 0.7 and mIoU on its test split. The setting is an
# assumption (the paper gives none): configs/_base_/schedules/
# tpo_finetune_temporal.py says what and why.
_base_ = [
    './videochat_common.py', '../_base_/schedules/tpo_finetune_temporal.py',
    '../_base_/datasets/tpo_sources.py'
]

load_from = 'work_dirs/videochat_stage3'
work_dir = 'work_dirs/videochat_finetune_charades_sta'

model = _base_.stage_model
train_dataloader = dict(batch_size=_base_.per_gpu_batch_size,
                        dataset=_base_.charades_sta_train)
val_dataloader = dict(
    _base_.eval_dataloader,
    dataset=dict(_base_.charades_sta_train,
                 ann_file='charades/charades_sta_test.txt',
                 meta_file='charades/Charades_v1_test.csv', test_mode=True,
                 pipeline=_base_.video_test_pipeline))
val_evaluator = [dict(type='TemporalGroundingRecall', ks=(1, ),
                      thresholds=(0.3, 0.5, 0.7))]
test_dataloader = val_dataloader
test_evaluator = val_evaluator
