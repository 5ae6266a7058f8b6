"""Running training configs for a few iterations in tests: the synthetic
world at the test size, the runner's keys only, and the parameters when
training starts."""
import copy

from mmengine.config import Config
from mmengine.hooks import Hook

from tests.conftest import CONFIGS

WORLD = Config.fromfile(str(CONFIGS / '_base_/datasets/synthetic_world.py'))
#: the ``tiny_world`` fixture's world
TINY_WORLD = dict(num_videos=dict(train=6, val=3), seed=0)
#: The keys the runner (and build_runner's global-batch check) reads.
RUNNER_KEYS = {
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'load_from', 'resume', 'env_cfg',
    'log_processor', 'log_level', 'default_scope', 'randomness',
    'global_batch_size'}


def to_tiny_world(node, world: str, **dataset):
    """Point every synthetic-world source under ``node`` (a config dict or
    list, changed in place) at the ``tiny_world`` folder, its frames at
    32x32; ``dataset`` updates the readers (e.g. ``indices=2``)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            to_tiny_world(item, world, **dataset)
    elif isinstance(node, dict):
        if node.get('type') == 'SyntheticWorldDataset':
            node.update(data_root=world + '/', world=TINY_WORLD)
            node['dataset']['data_root'] = node['dataset'][
                'data_root'].replace(WORLD.data_root, world + '/')
            node['dataset'].update(dataset)
        if node.get('type') == 'ResizeFrames':
            node['size'] = (32, 32)
        for value in node.values():
            to_tiny_world(value, world, **dataset)
    return node


def world_source(name: str, world: str, **dataset) -> dict:
    """The synthetic world's source ``name`` (synthetic_world.py), at the
    test size."""
    return to_tiny_world(copy.deepcopy(WORLD[name].to_dict()), world,
                         **dataset)


def short_run(cfg: Config, work_dir: str, iters: int = 2) -> Config:
    """``cfg`` trained for ``iters`` iterations at batch 2 in the main
    process, without validation; the runner's keys only (a recipe's source
    and pipeline variables make its config log slow)."""
    cfg.work_dir = work_dir
    cfg.train_dataloader.update(batch_size=2, num_workers=0,
                                persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=1000)
    cfg.param_scheduler = None
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.randomness = dict(seed=0)
    for key in list(cfg.keys()):
        if key not in RUNNER_KEYS:
            cfg.pop(key)
    return cfg


class Snapshot(Hook):
    """The parameters when training starts (after weight init and
    ``load_from``)."""

    def before_train(self, runner) -> None:
        self.start = {k: v.detach().clone()
                      for k, v in runner.model.named_parameters()}


def region_model_data(cfg: Config) -> Config:
    """``tiny_stage3.py``'s data for a region-only test model
    (:func:`tests.conftest.tiny_model_cfg`): its training sources but LaSOT
    (tracking prompts need a box-prompt encoder) and the synthetic world's
    default test splits and metrics (referring boxes, moments, multiple
    choice)."""
    train = cfg.train_dataloader.dataset
    train.datasets = [
        s for s in train.datasets
        if s.get('dataset', {}).get('type') != 'LaSOTDataset']
    cfg.test_dataloader.dataset.datasets = copy.deepcopy(
        WORLD.test_dataloader.dataset.datasets)
    cfg.test_evaluator = copy.deepcopy(WORLD.test_evaluator)
    return cfg
