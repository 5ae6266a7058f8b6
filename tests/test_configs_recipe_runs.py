"""The 7B recipes of the stage-2 runs and of fine-tuning, run as written for
2 iterations and tested on 2 samples, with three swaps: the model is a tiny
one with the same heads (VideoChat2-like or LLaVA-OV-like), the data is the
synthetic world's data of the run's task, and the loops are short. Kept
from the recipe: its frozen modules, per-module learning rates, sampler,
batch sampler and collate function. The run must change its own head and
task token (and the LoRA) and leave every frozen module as it was."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIGS, TINY_CGDETR_HEAD, tiny_all_heads_cfg
from tests.tiny_runs import Snapshot, short_run, world_source
from tpo.engine import build_runner
from tpo.engine.combine_runs import is_under

pytest.importorskip('sam2')

# task -> (the world's train sources, its test source, the metric)
TASKS = {
    'temporal': (('qvhighlights_train', ), 'qvhighlights_val',
                 dict(type='MomentRetrievalMetric', tasks=('temporal', ))),
    'mask': (('mevis_train', 'lasot_train'), 'mevis_val',
             dict(type='ReferringVOSMetric', tasks=('mask', ))),
    'region': (('refcoco_train', ), 'refcoco_val',
               dict(type='ReferringBoxAccuracy', tasks=('region', ))),
}
# What each task's run trains, besides the LLM's LoRA.
TRAINED = {
    'temporal': ('heads.temporal', 'task_tokens.tokens.temporal'),
    'mask': ('heads.mask.adapter', 'task_tokens.tokens.mask',
             'box_prompt_encoder'),
    'region': ('heads.region', 'task_tokens.tokens.region'),
}
RECIPES = {f'{model}_stage2_{task}': task
           for model in ('videochat', 'llava_ov') for task in TASKS}
RECIPES.update(videochat_finetune_charades_sta='temporal',
               videochat_finetune_qvhighlights='temporal')


def tiny_model(name: str, recipe: Config) -> dict:
    """A tiny model of the recipe's family with every head, frozen as the
    recipe freezes it."""
    frozen = tuple(recipe.model.frozen_modules)
    if not name.startswith('llava_ov'):
        return tiny_all_heads_cfg(frozen_modules=frozen)
    llava = Config.fromfile(
        str(CONFIGS / '_base_/models/llava_ov_tiny.py')).model.to_dict()
    heads = tiny_all_heads_cfg()['heads']
    heads['region'] = llava['heads']['region']
    heads['temporal'] = copy.deepcopy(TINY_CGDETR_HEAD)
    llava.update(heads=heads, frozen_modules=frozen,
                 box_prompt_encoder=dict(type='BoxPromptEncoder'))
    return llava


def on_tiny(name: str, world: str, work_dir: str) -> Config:
    cfg = Config.fromfile(str(CONFIGS / f'tpo/{name}.py'))
    task = RECIPES[name]
    cfg.model = tiny_model(name, cfg)
    cfg.load_from = None
    trains, test, metric = TASKS[task]
    loader = cfg.train_dataloader
    sources = [world_source(s, world) for s in trains]
    if loader.dataset.type == 'MixedDataset':
        loader.dataset = dict(type='MixedDataset', num_samples=4, seed=0,
                              datasets=[dict(dataset=s, ratio=1.0)
                                        for s in sources])
    else:
        loader.dataset = sources[0]
    optim = cfg.optim_wrapper
    assert (optim.pop('type'), optim.pop('dtype')) == ('AmpOptimWrapper',
                                                        'bfloat16')
    optim.type = 'OptimWrapper'  # bf16 needs a GPU
    short_run(cfg, work_dir)
    cfg.test_cfg = dict(type='TestLoop')
    cfg.test_dataloader = dict(
        batch_size=2, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='pseudo_collate'),
        dataset=world_source(test, world, indices=2))
    cfg.test_evaluator = [metric]
    return cfg


@pytest.mark.parametrize('name', list(RECIPES))
def test_recipe_trains_its_head_only_and_evaluates(name, tiny_world,
                                                   tmp_path):
    cfg = on_tiny(name, tiny_world, str(tmp_path))
    frozen = tuple(cfg.model['frozen_modules'])
    runner = build_runner(cfg)
    snapshot = Snapshot()
    runner.register_hook(snapshot)
    runner.train()
    changed = {k for k, v in runner.model.named_parameters()
               if not torch.equal(v.detach(), snapshot.start[k])}
    for path in TRAINED[RECIPES[name]]:
        assert any(is_under(k, [path]) for k in changed), path
    assert any('lora_' in k for k in changed)
    assert not [k for k in changed if is_under(k, frozen)]
    metrics = runner.test()
    assert metrics and all(np.isfinite(v) for v in metrics.values()
                           if isinstance(v, float)), metrics
