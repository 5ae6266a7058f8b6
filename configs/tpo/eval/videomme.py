# Video-MME without subtitles (paper Table 2): the official prompt ("...
# \nThe best answer is:") and extract_characters_regex; reports overall,
# short / medium / long and per domain / sub-category / task type.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/videomme/'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='VideoMMEDataset', data_root=data_root,
    ann_file='videomme/test-00000-of-00001.parquet',
    data_prefix=dict(video='data'), source='videomme', test_mode=True,
    pipeline=[
        *_base_.test_pipeline[:-1],
        dict(type='PackTPOInputs', meta_keys=(
            'sample_idx', 'source', 'video_path', 'task', 'task_type',
            'instruction', 'conversation', 'answer_prefix', 'gt_task',
            'gt_answer', 'candidates', 'duration_category', 'domain',
            'sub_category')),
    ]))
test_evaluator = [dict(type='VideoMMEAccuracy', sources=['videomme'])]
