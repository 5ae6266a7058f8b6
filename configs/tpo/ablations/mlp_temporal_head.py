# Table 11, "replace by simple head": the temporal head is a two-layer MLP
# on the temporal task token instead of CG-DETR. The head config is replaced
# as a whole (`_delete_`): nothing of CG-DETR's carries over, and the
# weight of the temporal losses is the head's own. It stays the release's
# 0.05, so that the head is the only difference from tpo_full.py.
_base_ = ['./tpo_full.py']

model = dict(heads=dict(temporal=dict(
    _delete_=True, type='MLPTemporalHead', loss_weight=0.05)))
