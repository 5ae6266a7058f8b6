# Table 11, "replace by simple head": the temporal head is a two-layer MLP
# on the temporal task token instead of CG-DETR.
_base_ = ['./tpo_full.py']

model = dict(heads=dict(temporal=dict(_delete_=True, type='MLPTemporalHead')))
