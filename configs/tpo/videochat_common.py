# Shared by the VideoChat-TPO stage recipes (videochat_stage*.py): the 7B
# model with all three task heads of the paper (Fig. 3) and the runtime. Not
# a recipe itself: the stage's frozen modules, per-module learning rates,
# schedule and batch come from configs/_base_/schedules/tpo_stage*.py and
# its data from configs/_base_/datasets/tpo_stage*_mixture.py (shared with
# the LLaVA-OV recipes).
_base_ = [
    '../_base_/models/videochat2_umtl_mistral7b.py',
    '../_base_/models/tpo_release_heads.py', '../_base_/default_runtime.py'
]

model = dict(
    # UMT-L and the Q-Former come with the whole VideoChat2 stage-3 model
    # through stage 1's `load_from` (converted by
    # tools/model_converters/videochat2_to_tpo.py).
    vision_encoder=dict(pretrained=None),
    connector=dict(pretrained=None),
    heads=dict(temporal=_base_.temporal_head, mask=_base_.mask_head))
