"""TPOOptimWrapperConstructor (per-module learning rates, frozen modules,
merged parameter groups, the module table) and the 7B stage recipes'
encoding of Table 16 (tpo_paper.txt, appendix "Training and Data Details").
"""
import copy
import logging

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from tests.conftest import CONFIGS, tiny_model_cfg
from tpo.engine import TPOOptimWrapperConstructor, build_runner
from tpo.engine.combine_runs import is_under
from tpo.engine.optimizers import module_group
from tpo.models.utils import freeze_modules
from tpo.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

BASE_LR, BASE_WD = 1e-3, 0.02


@pytest.fixture(scope='module')
def model():
    """The tiny TPOModel with its vision encoder frozen."""
    return MODELS.build(tiny_model_cfg(frozen_modules=('vision_encoder', )))


@pytest.fixture(scope='module')
def unfrozen_model():
    return MODELS.build(tiny_model_cfg(frozen_modules=()))


def build(model, custom_keys=None, optimizer=None, **paramwise):
    if custom_keys is not None:
        paramwise['custom_keys'] = custom_keys
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='TPOOptimWrapperConstructor',
             optim_wrapper_cfg=dict(
                 type='OptimWrapper',
                 optimizer=optimizer or dict(
                     type='AdamW', lr=BASE_LR, weight_decay=BASE_WD)),
             paramwise_cfg=paramwise))
    assert isinstance(constructor, TPOOptimWrapperConstructor)
    return constructor(model)


def group_of(optim_wrapper) -> dict:
    """id(param) -> its group; fails if a parameter is in two groups."""
    owner = {}
    for group in optim_wrapper.optimizer.param_groups:
        for param in group['params']:
            assert id(param) not in owner, 'a parameter is in two groups'
            owner[id(param)] = group
    return owner


def test_lr_per_prefix_and_frozen_params(model):
    wrapper = build(model, {
        'connector': dict(lr_mult=5.0),
        'heads.region': dict(lr_mult=5.0, decay_mult=0.0),
        'task_tokens.tokens.temporal': dict(lr_mult=10.0),
    })
    owner = group_of(wrapper)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    frozen = [p for n, p in model.named_parameters() if not p.requires_grad]
    # Frozen: the vision encoder and the LLM's base weights (LoRA).
    assert frozen and all(
        n.startswith(('vision_encoder.', 'llm.base_model.'))
        for n, p in model.named_parameters() if not p.requires_grad)
    assert not any(p.requires_grad for n, p in model.named_parameters()
                   if n.startswith('vision_encoder.'))
    # Frozen parameters are in no group; every trainable one in exactly one.
    assert not any(id(p) in owner for p in frozen)
    assert set(owner) == {id(p) for p in trainable.values()}
    assert sum(len(g['params']) for g in wrapper.optimizer.param_groups) == \
        len(trainable)

    def expected(name):  # hand-computed from the keys above
        if name.startswith('connector.'):
            return 5e-3, 0.02
        if name.startswith('heads.region.'):
            return 5e-3, 0.0
        if name == 'task_tokens.tokens.temporal':
            return 1e-2, 0.02
        return 1e-3, 0.02  # LoRA, lm_head, token rows, other task tokens

    for name, param in trainable.items():
        group = owner[id(param)]
        assert (group['lr'], group['weight_decay']) == pytest.approx(
            expected(name)), name
    # connector / heads.region differ in wd: 4 groups in all.
    assert len(wrapper.optimizer.param_groups) == 4
    # The merged groups carry no bookkeeping multipliers.
    assert not any('lr_mult' in g for g in wrapper.optimizer.param_groups)


def test_groups_with_equal_hyper_parameters_merge(unfrozen_model):
    keys = ['vision_encoder', 'connector', 'heads.region',
            'task_tokens.tokens.region', 'task_tokens.tokens.temporal']
    wrapper = build(unfrozen_model, {k: dict(lr_mult=2.0) for k in keys})
    # 5 custom keys sharing one lr_mult -> 1 group, the rest -> 1 group.
    groups = wrapper.optimizer.param_groups
    assert len(groups) == 2
    assert sorted(g['lr'] for g in groups) == pytest.approx([1e-3, 2e-3])
    fast = next(g for g in groups if g['lr'] == pytest.approx(2e-3))
    expected_fast = [
        p for n, p in unfrozen_model.named_parameters()
        if any(k in n for k in keys)
    ]
    assert {id(p) for p in fast['params']} == {id(p) for p in expected_fast}
    record = next(r for r in wrapper.group_records
                  if r['lr'] == pytest.approx(2e-3))
    assert set(record['prefixes']) == {
        'vision_encoder', 'connector', 'heads.region', 'task_tokens.region',
        'task_tokens.temporal'
    }
    assert record['num_tensors'] == len(expected_fast)
    assert record['num_params'] == sum(p.numel() for p in expected_fast)
    # lr_mult=1 everywhere: one group, the same as no key matching.
    one = build(unfrozen_model, {k: dict(lr_mult=1.0) for k in keys})
    assert len(one.optimizer.param_groups) == 1
    # mmengine's default constructor: one group per parameter.
    default = DefaultOptimWrapperConstructor(
        dict(type='OptimWrapper',
             optimizer=dict(type='AdamW', lr=BASE_LR, weight_decay=BASE_WD)),
        dict(custom_keys={k: dict(lr_mult=2.0) for k in keys}))(
            unfrozen_model)
    num_trainable = sum(p.requires_grad for p in unfrozen_model.parameters())
    assert len(default.optimizer.param_groups) == num_trainable > 80
    # The same parameters, in 2 groups instead.
    assert sum(len(g['params']) for g in groups) == num_trainable


def test_module_table_is_logged_with_counts(model):
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Collect()
    logger.addHandler(handler)
    try:
        wrapper = build(model, {'connector': dict(lr_mult=5.0)})
    finally:
        logger.removeHandler(handler)
    tables = [m for m in records if 'parameter groups per module' in m]
    assert len(tables) == 1
    # mmengine's per-parameter messages are not repeated (the table says it).
    assert not any('requires_grad=False' in m for m in records)
    assert not any('paramwise_options --' in m for m in records)

    counts = {}
    for name, param in model.named_parameters():
        row = counts.setdefault(module_group(name), [0, 0])
        row[0 if param.requires_grad else 1] += param.numel()
    rows = {row['module']: row for row in wrapper.module_table}
    assert set(rows) == set(counts) == {
        'vision_encoder', 'connector', 'llm (LoRA)', 'llm (other)',
        'task_tokens.region', 'task_tokens.temporal', 'task_tokens.mask',
        'heads.region'
    }
    for name, (trainable, frozen) in counts.items():
        assert (rows[name]['trainable'], rows[name]['frozen']) == \
            (trainable, frozen), name
    assert rows['vision_encoder']['trainable'] == 0
    assert rows['vision_encoder']['lr'] == []
    assert rows['connector']['lr'] == pytest.approx([5e-3])
    assert rows['llm (LoRA)']['lr'] == pytest.approx([1e-3])
    assert rows['llm (other)']['frozen'] > 0  # the base LLM weights
    # The logged text holds every row with its counts and the group count.
    table = tables[0]
    for name, (trainable, frozen) in counts.items():
        line = next(ln for ln in table.splitlines() if ln.startswith(name))
        assert f'{trainable:,}' in line and f'{frozen:,}' in line, line
    total = sum(t for t, _ in counts.values())
    assert f'{total:,}' in table
    assert f'{len(wrapper.optimizer.param_groups)} groups' in table


def test_runner_builds_the_constructor_from_a_config(tmp_path):
    """The registry's locations find the constructor by name (scope tpo)."""
    cfg = Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py'))
    cfg.model = tiny_model_cfg(frozen_modules=('vision_encoder', ))
    cfg.load_from = None
    cfg.work_dir = str(tmp_path)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.optim_wrapper.constructor = 'TPOOptimWrapperConstructor'
    runner = build_runner(cfg)
    wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    lrs = sorted({g['lr'] for g in wrapper.optimizer.param_groups})
    # tiny_adamw.py: base 5e-4, connector / heads / task_tokens x5.
    assert lrs == pytest.approx([5e-4, 2.5e-3])
    assert len(wrapper.optimizer.param_groups) == 2


# ------------------------------------------------------------ Table 16
# Table 16 of the paper ("Training Settings of VideoChat-TPO"), one column
# per stage: the learning rate of each module, None where it is frozen (or,
# in stage 1, "-": not trained yet). Stage 2 is three runs, one per head
# ("64/128/128", "25/3/1": temporal / mask / region); each trains its head
# and task token with the LoRA, the others frozen. The recipes also keep the
# joint run ('stage2') as an option: the three heads together at 128 for
# one epoch of the three runs' data.
STAGES = ('stage1', 'stage2', 'stage3_no_conversation', 'stage3',
          'stage2_temporal', 'stage2_mask', 'stage2_region')
TABLE16_LR = {
    'vision_encoder': (None, None, 2e-5, 2e-5, None, None, None),
    'connector': (None, None, 2e-5, 2e-5, None, None, None),
    'heads.temporal': (None, 1e-4, 2e-5, 2e-5, 1e-4, None, None),
    'heads.region': (None, 1e-4, 2e-5, 2e-5, None, None, 1e-4),
    'heads.mask.sam': (None, None, None, None, None, None, None),
    'heads.mask.adapter': (None, 1e-4, 2e-5, 2e-5, None, 1e-4, None),
    'task_tokens.tokens.temporal': (None, 2e-4, 2e-5, 2e-5, 2e-4, None,
                                    None),
    'task_tokens.tokens.region': (None, 1e-4, 2e-5, 2e-5, None, None, 1e-4),
    'task_tokens.tokens.mask': (None, 1e-4, 2e-5, 2e-5, None, 1e-4, None),
    'llm.lora': (2e-5, 2e-5, 2e-5, 2e-5, 2e-5, 2e-5, 2e-5),  # LLM LoRA LR
    # Not in Table 16 (the release's tracking prompt): trained with the
    # mask adapter, at its rate.
    'box_prompt_encoder': (None, 1e-4, 2e-5, 2e-5, None, 1e-4, None),
}
TABLE16_BATCH = (128, 128, 256, 256, 64, 128, 128)
TABLE16_EPOCHS = (1, 1, 1, 3, 25, 3, 1)
# Where each row lives in a TPOModel (one representative parameter).
PARAM_OF_ROW = {
    'vision_encoder': 'vision_encoder.blocks.0.attn.qkv.weight',
    'connector': 'connector.proj.weight',
    'heads.temporal': 'heads.temporal.input_vid_proj.0.weight',
    'heads.region': 'heads.region.mlp.0.weight',
    'heads.mask.sam': 'heads.mask.sam.sam_mask_decoder.conv.weight',
    'heads.mask.adapter': 'heads.mask.adapter.layers.0.weight',
    'task_tokens.tokens.temporal': 'task_tokens.tokens.temporal',
    'task_tokens.tokens.region': 'task_tokens.tokens.region',
    'task_tokens.tokens.mask': 'task_tokens.tokens.mask',
    'llm.lora': 'llm.base_model.model.model.layers.0.self_attn.q_proj.'
    'lora_A.default.weight',
    'box_prompt_encoder': 'box_prompt_encoder.mlp.0.weight',
}
PREVIOUS = {
    'stage2': 'stage1',
    'stage2_temporal': 'stage1',
    'stage2_mask': 'stage1',
    'stage2_region': 'stage1',
    # the three runs joined by combine_stage2_runs.py (or the joint run)
    'stage3_no_conversation': 'stage2',
    'stage3': 'stage3_no_conversation'
}
RECIPES = [(model, i) for model in ('videochat', 'llava_ov')
           for i in range(len(STAGES))]


def skeleton(names) -> nn.Module:
    """A module tree with one parameter at each dotted name."""
    root = nn.Module()
    for name in names:
        *path, leaf = name.split('.')
        module = root
        for part in path:
            if not hasattr(module, part):
                module.add_module(part, nn.Module())
            module = getattr(module, part)
        module.register_parameter(leaf, nn.Parameter(torch.zeros(2, 2)))
    return root


def stage_cfg(model: str, stage: str) -> Config:
    return Config.fromfile(str(CONFIGS / f'tpo/{model}_{stage}.py'))


@pytest.mark.parametrize('model,index', RECIPES,
                         ids=[f'{m}_{STAGES[i]}' for m, i in RECIPES])
def test_stage_config_encodes_table16(model, index):
    stage = STAGES[index]
    cfg = stage_cfg(model, stage)
    # Frozen modules and per-module learning rates, through the real
    # constructor on a skeleton with the model's parameter names (the GPU
    # bf16 wrapper swapped for the plain one, as on a CPU).
    net = skeleton(PARAM_OF_ROW.values())
    # the stage's frozen modules and SAM2, which the mask head declares
    # frozen (freeze_sam)
    assert cfg.model.heads.mask.freeze_sam
    freeze_modules(net, (*cfg.model.frozen_modules, 'heads.mask.sam'))
    optim_cfg = copy.deepcopy(cfg.optim_wrapper.to_dict())
    assert (optim_cfg.pop('type'), optim_cfg.pop('dtype')) == \
        ('AmpOptimWrapper', 'bfloat16')  # Table 16: bf16
    constructor = optim_cfg.pop('constructor')
    assert constructor == 'TPOOptimWrapperConstructor'
    paramwise_cfg = optim_cfg.pop('paramwise_cfg')
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor,
             optim_wrapper_cfg=dict(optim_cfg, type='OptimWrapper'),
             paramwise_cfg=paramwise_cfg))(net)
    owner = group_of(wrapper)
    params = dict(net.named_parameters())
    for row, lrs in TABLE16_LR.items():
        param = params[PARAM_OF_ROW[row]]
        if lrs[index] is None:
            assert not param.requires_grad, f'{row} should be frozen'
            assert id(param) not in owner
        else:
            assert param.requires_grad, f'{row} should train'
            assert owner[id(param)]['lr'] == pytest.approx(lrs[index]), row
            assert owner[id(param)]['weight_decay'] == pytest.approx(0.02)
    # Each task token has its own key.
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    if index > 0:
        assert {'task_tokens.tokens.temporal', 'task_tokens.tokens.region',
                'task_tokens.tokens.mask'} <= set(keys)
    # AdamW, weight decay 0.02, warmup ratio 0.2 then cosine decay.
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.02
    # The run's length (its end) comes from train_cfg.max_epochs.
    schedule = cfg.param_scheduler
    assert schedule.type == 'WarmupCosineLR' and 'end' not in schedule
    assert schedule.warmup_ratio == 0.2 and schedule.eta_min_ratio == 0.0
    assert schedule.by_epoch and schedule.convert_to_iter_based
    # Total batch size and epochs; the recipe states the total batch.
    total = (cfg.num_gpus * cfg.train_dataloader.batch_size *
             cfg.optim_wrapper.get('accumulative_counts', 1))
    assert total == TABLE16_BATCH[index] == cfg.global_batch_size
    assert cfg.train_cfg.max_epochs == TABLE16_EPOCHS[index]
    # LoRA r16 / alpha 32, 16 input frames (224^2 for VideoChat2's UMT-L;
    # LLaVA-OV's SigLIP needs its 384^2).
    assert (cfg.model.lora.r, cfg.model.lora.lora_alpha) == (16, 32)
    size = 224 if model == 'videochat' else 384
    overrides = cfg.train_dataloader.dataset.get('pipeline_overrides', {})
    for entry in cfg.train_dataloader.dataset.datasets:
        for step in entry.dataset.pipeline:
            step = dict(step, **overrides.get(step.type, {}))
            if 'num_frames' in step:
                assert step['num_frames'] == 16
            if 'size' in step:
                assert tuple(step['size']) == (size, size)
    # Stage chaining: load_from is the previous stage's work dir.
    if stage in PREVIOUS:
        assert cfg.load_from == f'work_dirs/{model}_{PREVIOUS[stage]}'
    else:
        assert cfg.load_from.startswith('checkpoints/')
        assert cfg.model.strict_load is False
    assert cfg.work_dir == f'work_dirs/{model}_{stage}'


def test_stage_data_is_table17():
    """Stage 3 without conversations is stage 3's mixture minus Table 17's
    conversation row."""
    full = stage_cfg('videochat', 'stage3').train_dataloader.dataset
    part = stage_cfg('videochat',
                     'stage3_no_conversation').train_dataloader.dataset
    conversation = {'videochat2_it', 'sharegpt4o', 'llava_hound',
                    'sharegpt4v'}
    assert full.num_samples == 3_564_000 and part.num_samples == 564_000
    for a, b in zip(full.datasets, part.datasets):
        assert a.dataset.source == b.dataset.source
        if a.dataset.source in conversation:
            assert (a.ratio, b.ratio) == (750_000, 0)
        else:
            assert a.ratio == b.ratio
    assert sum(e.ratio for e in part.datasets) == pytest.approx(564_000)
    for stage, samples in (('stage1', 150_000), ('stage2', 828_400)):
        for model in ('videochat', 'llava_ov'):
            dataset = stage_cfg(model, stage).train_dataloader.dataset
            assert dataset.type == 'MixedDataset'
            assert dataset.num_samples == samples


# Table 17's stage-2 data of each head's run: (source, samples per epoch);
# the mask run adds the appendix's expanded AS-V2 (images as videos, its
# size assumed: as each of SA-V and MeViS).
STAGE2_DATA = {
    'temporal': [(s, 116_500 / 6) for s in (
        'didemo', 'queryd', 'hirest', 'activitynet', 'tacos', 'ego4d_nlq')],
    'mask': [('sav', 57_300), ('mevis', 57_300)] +
    [('as_v2_video', 57_300 / 3)] * 3,
    'region': [('as_v2', 36_000)] * 3 + [
        (s, 108_000)
        for s in ('visual_genome', 'refcoco', 'refcoco+', 'refcocog')],
}


@pytest.mark.parametrize('model', ['videochat', 'llava_ov'])
def test_stage2_runs_read_their_task_data_and_the_joint_run_all(model):
    joint = stage_cfg(model, 'stage2').train_dataloader.dataset
    union = []
    for run, expected in STAGE2_DATA.items():
        dataset = stage_cfg(model, f'stage2_{run}').train_dataloader.dataset
        got = [(e.dataset.source, e.ratio) for e in dataset.datasets]
        assert got == pytest.approx(expected), run
        assert dataset.num_samples == pytest.approx(
            sum(r for _, r in expected))
        assert dataset.type == 'MixedDataset'
        union += got
    assert sorted((e.dataset.source, e.ratio) for e in joint.datasets) == \
        sorted(union)
    assert joint.num_samples == 116_500 + 171_900 + 540_000


def test_cpu_override_builds(tmp_path):
    """The CPU override of docs/training_recipes.md keeps the per-module
    rates (AmpOptimWrapper itself needs a GPU). Built on a skeleton with the
    7B model's module names: the tiny model lacks some keyed modules."""
    child = tmp_path / 'cpu.py'
    child.write_text(
        f"_base_ = ['{CONFIGS / 'tpo' / 'videochat_stage2.py'}']\n"
        'optim_wrapper = dict(\n'
        "    _delete_=True, type='OptimWrapper',\n"
        "    constructor='TPOOptimWrapperConstructor',\n"
        '    optimizer=_base_.optim_wrapper.optimizer,\n'
        '    paramwise_cfg=_base_.optim_wrapper.paramwise_cfg,\n'
        '    accumulative_counts=_base_.optim_wrapper.accumulative_counts)\n')
    cfg = Config.fromfile(str(child))
    optim_cfg = cfg.optim_wrapper.to_dict()
    assert optim_cfg['type'] == 'OptimWrapper' and 'dtype' not in optim_cfg
    net = skeleton(PARAM_OF_ROW.values())
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'),
             paramwise_cfg=optim_cfg.pop('paramwise_cfg'),
             optim_wrapper_cfg=optim_cfg))(net)
    owner = group_of(wrapper)
    params = dict(net.named_parameters())
    assert owner[id(params['task_tokens.tokens.temporal'])]['lr'] == \
        pytest.approx(2e-4)
    assert owner[id(params['heads.region.mlp.0.weight'])]['lr'] == \
        pytest.approx(1e-4)


@pytest.mark.parametrize('model', ['videochat', 'llava_ov'])
def test_missing_previous_stage_fails_clearly(model, tmp_path):
    cfg = stage_cfg(model, 'stage2')
    cfg.load_from = str(tmp_path / f'{model}_stage1')
    cfg.work_dir = str(tmp_path / 'work')
    with pytest.raises(FileNotFoundError,
                       match=rf"load_from=.*{model}_stage1.*train that stage"):
        build_runner(cfg)


@pytest.mark.parametrize('stage', ['stage2', 'stage2_temporal',
                                   'stage2_mask', 'stage2_region'])
def test_stage2_keys_on_a_model_with_every_head(stage):
    """Table 16's stage-2 columns on a real TPOModel with the temporal
    (CG-DETR), region and mask (SAM2) heads and the box-prompt encoder:
    every parameter of a row gets the row's rate or is frozen, and nothing
    else trains (the tiny LLM's new token rows and lm_head, which the 7B
    model adapts through LoRA, train at the LoRA rate)."""
    pytest.importorskip('sam2')
    cfg = Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py'))
    recipe = stage_cfg('videochat', stage)
    cfg.model.frozen_modules = recipe.model.frozen_modules
    net = MODELS.build(cfg.model)
    optim_cfg = recipe.optim_wrapper.to_dict()
    for key in ('type', 'dtype', 'constructor'):
        optim_cfg.pop(key)
    paramwise_cfg = optim_cfg.pop('paramwise_cfg')
    wrapper = build(net, optimizer=optim_cfg['optimizer'], **paramwise_cfg)
    owner = group_of(wrapper)
    column = STAGES.index(stage)
    seen = set()
    for name, param in net.named_parameters():
        if name.startswith('llm.'):  # LoRA, and the tiny LLM's token rows
            row = 'llm.lora' if param.requires_grad else None
        else:
            row = next((r for r in TABLE16_LR if name == r or
                        name.startswith(r + '.')), None)
        if row is None:  # the LLM's base weights, frozen under LoRA
            assert name.startswith('llm.') and id(param) not in owner, name
            continue
        seen.add(row)
        lr = TABLE16_LR[row][column]
        if lr is None:
            assert not param.requires_grad and id(param) not in owner, name
        else:
            assert owner[id(param)]['lr'] == pytest.approx(lr), name
    assert seen == set(TABLE16_LR)
    rates = {lr for lrs in TABLE16_LR.values() for lr in [lrs[column]] if lr}
    assert len(wrapper.optimizer.param_groups) == len(rates)


# ------------------------------------------------- docs/training_recipes.md
def recipe_table() -> str:
    """The stage table of docs/training_recipes.md, from the configs.

    Regenerate it with ``python -c "from tests.test_engine.\\
    test_optim_constructor import recipe_table; print(recipe_table())"``.
    """
    lines = [
        '| config | frozen (`model.frozen_modules`, the heads\' own) | '
        'learning rates '
        '(`base_lr` x `lr_mult`) | total batch (GPUs x per-GPU x accum.) '
        '| epochs | samples / epoch (sources) | `load_from` |',
        '|---|---|---|---|---|---|---|',
    ]
    order = ('stage1', 'stage2_temporal', 'stage2_mask', 'stage2_region',
             'stage2', 'stage3_no_conversation', 'stage3')
    for model in ('videochat', 'llava_ov'):
        for stage in order:
            cfg = stage_cfg(model, stage)
            base_lr = cfg.optim_wrapper.optimizer.lr
            keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
            rates = {}
            for key, value in keys.items():
                if is_under(key, cfg.model.frozen_modules):
                    continue  # a frozen module's rate applies to nothing
                lr = f"{base_lr * value.get('lr_mult', 1.0):.0e}"
                rates.setdefault(lr, []).append(
                    key.replace('task_tokens.tokens.', 'token.'))
            lrs = '; '.join(f"{lr}: {', '.join(names)}"
                            for lr, names in rates.items())
            accum = cfg.optim_wrapper.get('accumulative_counts', 1)
            batch = cfg.train_dataloader.batch_size
            total = cfg.num_gpus * batch * accum
            data = cfg.train_dataloader.dataset
            sources = sum(1 for e in data.datasets if e.ratio)
            frozen = list(cfg.model.frozen_modules)
            frozen += [f'heads.{name}.sam' for name, head in
                       cfg.model.heads.items() if head.get('freeze_sam')
                       and not {'heads', f'heads.{name}'} & set(frozen)]
            frozen = ', '.join(frozen)
            lines.append(
                f'| `{model}_{stage}.py` | {frozen} | {lrs} | {total} '
                f'({cfg.num_gpus} x {batch} x {accum}) | '
                f'{cfg.train_cfg.max_epochs} | {data.num_samples:,} '
                f'({sources}) | `{cfg.load_from}` |')
    return '\n'.join(lines)


def test_docs_stage_table_matches_configs():
    doc = (CONFIGS.parent / 'docs' / 'training_recipes.md').read_text()
    assert recipe_table() in doc, (
        'docs/training_recipes.md is out of date; regenerate its stage '
        'table with recipe_table()')
