# VideoChat-TPO stage 2, region run (Table 16, "Stage 2"; the paper trains
# the three heads "respectively"): the region head and region token (1e-4)
# with the LLM's LoRA (2e-5), 1 epoch of the spatial grounding data (Table
# 17: AS-V2, Visual Genome, RefCOCO, RefCOCO+, RefCOCOg) at total batch 128.
# Everything else is frozen (configs/_base_/schedules/tpo_stage2_region.py).
# The three runs start from stage 1 (in parallel or one after another);
#   python tools/model_converters/combine_stage2_runs.py \
#       configs/tpo/videochat_stage2_{temporal,mask,region}.py \
#       --out work_dirs/videochat_stage2
# joins their heads and tokens into the start of stage 3. The single joint
# run, videochat_stage2.py, is the alternative.
_base_ = [
    './videochat_common.py', '../_base_/schedules/tpo_stage2_region.py',
    '../_base_/datasets/tpo_stage2_mixture.py'
]

load_from = 'work_dirs/videochat_stage1'
work_dir = 'work_dirs/videochat_stage2_region'

model = _base_.stage_model
train_dataloader = dict(
    batch_size=_base_.per_gpu_batch_size,
    dataset=dict(datasets=_base_.region_mixture,
                 num_samples=_base_.region_samples))
