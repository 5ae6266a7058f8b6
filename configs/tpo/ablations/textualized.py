# Table 11, "textualized task data" (P2S): the same task and conversation
# data, every task target written as text in the answer (boxes as
# normalised coordinates, windows as seconds, masks and tracks as one box
# per frame, Merlin-style; tpo/tasks/text_forms.py), learned with the LM
# loss alone: no heads, no task tokens in the data. It starts from the base
# MLLM (task assignment has no meaning without task tokens). At test the
# text answers are decoded into boxes, windows, masks and tracks and scored
# by the same metrics; a malformed answer is a miss, counted in
# `<metric>/malformed`.
_base_ = ['./tpo_full.py']

load_from = 'work_dirs/ablations/mllm_base'
# The vocabulary keeps the (unused) task tokens and <track_box>, so that
# the base MLLM's checkpoint loads as is; no sample contains them.
model = dict(heads=dict(_delete_=True), max_new_tokens=100)
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(
        _delete_=True, connector=dict(lr_mult=5.0),
        task_tokens=dict(lr_mult=5.0))))


def _textualized(cfg):
    """``cfg`` with TextualizeTaskAnswer after FormatTaskConversation."""
    pipeline = []
    for transform in cfg['dataset']['pipeline']:
        pipeline.append(transform)
        if transform['type'] == 'FormatTaskConversation':
            pipeline.append(dict(type='TextualizeTaskAnswer'))
    return dict(cfg, dataset=dict(cfg['dataset'], pipeline=pipeline))


train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3,
             dataset=_textualized(_base_.refcoco_train)),
        _textualized(_base_.qvhighlights_train),
        _textualized(_base_.charades_sta_train),
        _textualized(_base_.mevis_train),
        _textualized(_base_.lasot_train), _base_.videochat2_it_train,
        _base_.mvbench_train
    ]))
test_dataloader = dict(
    dataset=dict(datasets=[
        _textualized(_base_.refcoco_test),
        _textualized(_base_.qvhighlights_test),
        _textualized(_base_.mevis_test),
        _textualized(_base_.lasot_test), _base_.mvbench_test
    ]))
test_evaluator = [
    dict(type='TextAnswerMetric', metric=_base_.region_metric),
    dict(type='TextAnswerMetric', metric=_base_.temporal_metric),
    dict(type='TextAnswerMetric', metric=_base_.mask_metric),
    dict(type='TextAnswerMetric', metric=_base_.track_metric),
    _base_.mcq_metric
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
