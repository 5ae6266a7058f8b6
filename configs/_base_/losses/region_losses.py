# The two region-head losses. A config selects one with
#   _base_ = [..., '../_base_/losses/region_losses.py']
#   model = dict(heads=dict(region=_base_.region_loss_release))
# (`_delete_` replaces whatever loss the model config had.)

# The paper (appendix, "Settings of Stage 2": "a two-layer MLP with a MSE
# loss"): the default of every model config (written there inline). Logged
# as `region.loss_bbox`. Weight 5: the paper gives none. On normalised
# corners a typical early error is |d| ~ 0.2, where the gradient of 5 x MSE
# (2 x 5 x 0.2 = 2) equals that of the release's 2 x L1: switching presets
# keeps the head's pull on the LLM comparable.
region_loss_paper = dict(
    loss_bbox=dict(_delete_=True, type='MSELoss', loss_weight=5.0),
    loss_iou=None)

# The VideoChat-TPO release (OpenGVLab/TPO inference/modeling_videochate.py
# `box_loss`): 2 x L1 on the normalised corners + 0.2 x (1 - GIoU) over the
# well-formed predicted boxes (a constant 2 when there is none). Logged as
# `region.loss_bbox` (L1) and `region.loss_iou` (GIoU).
region_loss_release = dict(
    loss_bbox=dict(_delete_=True, type='L1Loss', loss_weight=2.0),
    loss_iou=dict(_delete_=True, type='GIoULoss', loss_weight=0.2,
                  valid_only=True))
