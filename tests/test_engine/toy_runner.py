"""A toy model and dataset for tests that need an mmengine Runner with
tpo's runtime (hooks, optimizer constructor, checkpoint loaders) but not the
TPO model: building and training it takes well under a second."""
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel

from tpo.registry import DATASETS, METRICS, MODELS

ROOT = Path(__file__).resolve().parents[2]


@MODELS.register_module(force=True)
class ToyRegressor(BaseModel):
    """y = w . x + b, for runs that only need a Runner."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=(out - 1).pow(2).mean())
        if mode == 'predict':
            return [dict(pred=o) for o in out]
        return out


@DATASETS.register_module(force=True)
class ToyPoints(torch.utils.data.Dataset):
    metainfo = dict()

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=torch.tensor([float(index), 1.0]))


@METRICS.register_module(force=True)
class ToyCount(BaseMetric):

    def process(self, data_batch, data_samples) -> None:
        self.results.append(len(data_samples))

    def compute_metrics(self, results) -> dict:
        return dict(count=sum(results))


def toy_config(work_dir, max_iters: int = 2) -> Config:
    """A Runner config of the toy model with tpo's runtime defaults and a
    checkpoint after every iteration."""
    runtime = Config.fromfile(str(ROOT / 'configs/_base_/default_runtime.py'))
    runtime.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=-1)
    loader = dict(dataset=dict(type='ToyPoints'), batch_size=2,
                  num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    return Config(dict(
        runtime.to_dict(),
        custom_imports=dict(imports=['tests.test_engine.toy_runner'],
                            allow_failed_imports=False),
        work_dir=str(work_dir),
        model=dict(type='ToyRegressor'),
        train_dataloader=loader,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters,
                       val_interval=100),
        test_dataloader=loader,
        test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='ToyCount'),
        optim_wrapper=dict(constructor='TPOOptimWrapperConstructor',
                           optimizer=dict(type='SGD', lr=0.1))))
