# NExT-GQA test (paper Table 3): each question is answered (MVBench-style
# prompt) and grounded (the temporal task on a grounding request about the
# same question, see tpo/models/grounded_qa.py); Acc@QA, Acc@GQA, mIoP,
# IoP@0.3/0.5, mIoU, IoU@0.3/0.5 as the official eval_ground.py.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/nextgqa/'
clip_feature_root = 'data/clip_features/nextqa'
split = 'test'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='NExTGQADataset', data_root=data_root, ann_file=f'{split}.csv',
    gsub_file=f'gsub_{split}.json', video_map_file='map_vid_vidorID.json',
    data_prefix=dict(video='../nextqa/videos'),
    question_prompt='\nOnly give the best option.', source='nextgqa',
    test_mode=True,
    pipeline=[
        dict(type='LoadClipFeatures', root=clip_feature_root),
        *_base_.test_pipeline
    ]))
test_evaluator = [dict(type='NExTGQAMetric', tasks=('mcq', ),
                       gsub_file=f'{data_root}gsub_{split}.json')]
