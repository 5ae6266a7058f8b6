"""Frozen submodules: no gradients, eval mode also when the model trains."""
from torch import nn

from tpo.models.utils import freeze_modules, keep_in_eval


def test_frozen_paths_lose_gradients_and_stay_in_eval():
    model = nn.Module()
    model.encoder = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.heads = nn.ModuleDict(dict(mask=nn.ModuleDict(
        dict(sam=nn.Linear(2, 2), adapter=nn.Linear(2, 2)))))
    paths = ('encoder', 'heads.mask.sam')
    freeze_modules(model, paths)
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert len(frozen) == 4
    assert all(p.requires_grad
               for p in model.heads.mask.adapter.parameters())
    model.train()
    assert model.encoder[1].training  # nn.Module.train sets every module
    keep_in_eval(model, paths)
    assert not model.encoder.training and not model.encoder[1].training
    assert not model.heads.mask.sam.training
    assert model.heads.mask.adapter.training
