"""Frozen submodules: no gradients, eval mode also when the model trains;
a path may also name one parameter (a task token)."""
import pytest
import torch
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


def test_a_parameter_path_freezes_that_parameter_only():
    model = nn.Module()
    model.head = nn.Linear(2, 2)
    model.task_tokens = nn.Module()
    model.task_tokens.tokens = nn.ParameterDict(
        dict(region=nn.Parameter(torch.zeros(2)),
             mask=nn.Parameter(torch.zeros(2))))
    freeze_modules(model, ['task_tokens.tokens.region'])
    tokens = model.task_tokens.tokens
    assert not tokens['region'].requires_grad
    assert tokens['mask'].requires_grad
    assert all(p.requires_grad for p in model.head.parameters())
    model.train()
    keep_in_eval(model, ['task_tokens.tokens.region'])  # nothing to switch
    assert model.task_tokens.training
    with pytest.raises(AttributeError, match="'task_tokens.tokens.point' "
                       'is neither a submodule nor a parameter'):
        freeze_modules(model, ['task_tokens.tokens.point'])
