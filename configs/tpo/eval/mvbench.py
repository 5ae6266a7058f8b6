# MVBench (paper Table 2): 20 tasks x 200 questions; the official prompt
# (VideoChat2 mvbench.ipynb): system prompt, "Question: ... Options: (A) ...",
# "\nOnly give the best option.", answer prefix "Best option:(", and its
# answer check. tools/test.py CONFIG CKPT reports mcq/accuracy and per task.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/mvbench/'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='MVBenchDataset', data_root=data_root, ann_file='json',
    data_prefix=dict(video='video'), video_folders='official',
    question_prompt='\nOnly give the best option.', source='mvbench',
    pipeline=_base_.test_pipeline, test_mode=True))
test_evaluator = [dict(type='MultipleChoiceAccuracy', tasks=('mcq', ))]
