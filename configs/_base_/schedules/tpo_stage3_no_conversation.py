# TPO stage 3, first part ("Stage 3 w/o Con.", Table 16): stage 3's modules,
# rates and batch for one epoch of the task data
# (tpo_stage3_no_conversation_mixture.py), shared by the VideoChat-TPO and
# LLaVA-OV recipes.
_base_ = ['./tpo_stage3.py']

max_epochs = 1  # Table 16
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
