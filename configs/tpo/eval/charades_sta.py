# Charades-STA moment retrieval (paper Table 5): R1@0.3 / 0.5 / 0.7 and mIoU
# of the top window. The temporal head reads the cached InternVideo2-CLIP
# clip features (tools/dataset_converters/extract_clip_features.py) and the
# query through InternVideo2-CLIP's LLaMA, as the release's app.py.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/charades/'
clip_feature_root = 'data/clip_features/charades'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='CharadesSTADataset', data_root=data_root,
    ann_file='charades_sta_test.txt', meta_file='Charades_v1_test.csv',
    data_prefix=dict(video='videos'), source='charades_sta', test_mode=True,
    pipeline=[
        dict(type='LoadClipFeatures', root=clip_feature_root),
        *_base_.test_pipeline
    ]))
test_evaluator = [dict(type='TemporalGroundingRecall', ks=(1, ),
                       thresholds=(0.3, 0.5, 0.7))]
