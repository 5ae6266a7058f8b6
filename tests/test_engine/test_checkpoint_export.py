"""SafetensorsCheckpointHook (a .safetensors per checkpoint, loadable with
``load_from``) and the Hugging Face export (LoRA merged)."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from safetensors import safe_open
from safetensors.torch import load_file

from tests.conftest import CONFIGS, tiny_model_cfg
from tests.tiny_runs import region_model_data
from tpo.engine import build_runner
from tpo.engine.hooks.safetensors_checkpoint_hook import (
    read_metadata, save_safetensors)

MAX_ITERS = 4


def stage3_cfg(world: str, work_dir: str) -> Config:
    """tiny_stage3.py, made tiny: 4 iterations, a checkpoint every
    iteration, the last 2 kept."""
    cfg = region_model_data(
        Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py')))
    cfg.model = tiny_model_cfg()
    cfg.load_from = None
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=MAX_ITERS,
                         val_interval=MAX_ITERS)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0,
                                by_epoch=False)]
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=2)
    cfg.default_hooks.logger.interval = 1
    def shrink(node) -> None:
        # Every (wrapped) dataset: the tiny world, 32x32 frames.
        if isinstance(node, (list, tuple)):
            for item in node:
                shrink(item)
        elif isinstance(node, dict):
            if 'data_root' in node:
                node['data_root'] = world
            if 'world' in node:
                node['world'] = dict(num_videos=dict(train=6, val=3), seed=0)
            if node.get('type') == 'ResizeFrames':
                node['size'] = (32, 32)
            for value in node.values():
                shrink(value)

    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0,
                           persistent_workers=False)
        shrink(cfg[loader].dataset)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.randomness = dict(seed=0, deterministic=False)
    return cfg


def assert_same_tensors(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    for name, value in expected.items():
        assert actual[name].dtype == value.dtype, name
        assert torch.equal(actual[name], value.detach().cpu()), name


@pytest.fixture(scope='module')
def trained(tiny_world, tmp_path_factory):
    """A 4-iteration tiny stage-3 run with the default runtime's hooks."""
    work_dir = str(tmp_path_factory.mktemp('hook') / 'work')
    os.makedirs(work_dir)
    # A safetensors file that the hook did not write is never pruned.
    save_safetensors({'x': torch.ones(2)}, osp.join(work_dir,
                                                    'mine.safetensors'))
    cfg = stage3_cfg(tiny_world, work_dir)
    assert dict(type='SafetensorsCheckpointHook') in cfg.custom_hooks
    runner = build_runner(cfg)
    runner.train()
    return runner, work_dir


def test_hook_writes_one_safetensors_per_kept_checkpoint(trained):
    runner, work_dir = trained
    files = sorted(f for f in os.listdir(work_dir)
                   if f.endswith(('.pth', '.safetensors')))
    assert files == [
        'iter_3.pth', 'iter_3.safetensors', 'iter_4.pth',
        'iter_4.safetensors', 'mine.safetensors'
    ]
    # The last file holds exactly the final model's state dict ...
    final = osp.join(work_dir, 'iter_4.safetensors')
    assert_same_tensors(load_file(final), runner.model.state_dict())
    # ... and each file the state dict of its .pth.
    for step in (3, 4):
        pth = torch.load(osp.join(work_dir, f'iter_{step}.pth'),
                         map_location='cpu', weights_only=False)
        assert_same_tensors(
            load_file(osp.join(work_dir, f'iter_{step}.safetensors')),
            pth['state_dict'])
        meta = read_metadata(osp.join(work_dir, f'iter_{step}.safetensors'))
        assert meta['iter'] == step and meta['step'] == step
        assert meta['checkpoint'] == f'iter_{step}.pth'
        assert meta['config'] == 'tiny_stage3.py'
        assert meta['kind'] == 'last'
    with safe_open(final, framework='pt') as f:
        assert f.metadata()['format'] == 'pt'
    # Training moved the weights between the two checkpoints.
    third = load_file(osp.join(work_dir, 'iter_3.safetensors'))
    fourth = load_file(final)
    name = 'heads.region.mlp.0.weight'
    assert not torch.equal(third[name], fourth[name])


def test_load_from_safetensors_restores_weights(trained, tiny_world,
                                                tmp_path):
    runner, work_dir = trained
    path = osp.join(work_dir, 'iter_4.safetensors')
    saved = load_file(path)
    cfg = stage3_cfg(tiny_world, str(tmp_path / 'reload'))
    cfg.load_from = path
    fresh = build_runner(cfg)
    before = fresh.model.state_dict()
    assert any(not torch.equal(before[k], v) for k, v in saved.items())
    fresh.load_or_resume()
    after = fresh.model.state_dict()
    assert set(saved) <= set(after)
    trained_state = runner.model.state_dict()
    for name, value in saved.items():
        assert torch.equal(after[name], value), name
        assert torch.equal(after[name], trained_state[name]), name


def test_save_safetensors_handles_shared_and_strided_tensors(tmp_path):
    base = torch.arange(12.).reshape(3, 4)
    state = dict(weight=base, tied=base, row=base[1], t=base.t(),
                 step=torch.tensor(3), extra='not a tensor')
    path = str(tmp_path / 'w.safetensors')
    skipped = save_safetensors(state, path, dict(iter=7))
    assert skipped == ['extra']
    loaded = load_file(path)
    assert set(loaded) == {'weight', 'tied', 'row', 't', 'step'}
    for name in loaded:
        assert torch.equal(loaded[name], state[name]), name
    assert read_metadata(path) == {'iter': 7}


# ---------------------------------------------------------------- export
@pytest.fixture(scope='module')
def trained_model_files(tmp_path_factory):
    """A tiny TPOModel with non-zero LoRA B (the merge changes the
    weights), saved as a config and a .safetensors checkpoint. Tensors a
    trimmed state dict leaves out are rebuilt from the config, identically
    under the same seed."""
    from tpo.registry import MODELS
    root = tmp_path_factory.mktemp('export')
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.requires_grad and ('lora_B' in name or 'task_tokens'
                                        in name or 'heads.' in name):
                param.copy_(0.05 * torch.randn(param.shape, generator=gen))
    model.eval()
    cfg_path = str(root / 'tiny.py')
    Config(dict(default_scope='tpo', model=tiny_model_cfg())).dump(cfg_path)
    ckpt = str(root / 'tiny.safetensors')
    save_safetensors(model.state_dict(), ckpt)
    return model, cfg_path, ckpt, root


def test_export_round_trip(trained_model_files):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tpo.engine.export import export_hf
    model, cfg_path, ckpt, root = trained_model_files
    out = str(root / 'hf')
    torch.manual_seed(0)
    summary = export_hf(cfg_path, ckpt, out)
    assert summary['checkpoint'] == ckpt

    ids = torch.randint(0, len(model.tokenizer), (2, 10),
                        generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = model.llm(input_ids=ids).logits
        with model.llm.disable_adapter():
            without_lora = model.llm(input_ids=ids).logits
    assert not torch.allclose(expected, without_lora, atol=1e-3)
    llm = AutoModelForCausalLM.from_pretrained(out).eval()
    assert type(llm).__name__ == 'LlamaForCausalLM'
    with torch.no_grad():
        actual = llm(input_ids=ids).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)

    tokenizer = AutoTokenizer.from_pretrained(out)
    assert len(tokenizer) == len(model.tokenizer) <= llm.config.vocab_size
    assert llm.config.vocab_size == \
        model.llm.get_input_embeddings().weight.shape[0]
    for task, spec in model.tasks.items():
        assert tokenizer.convert_tokens_to_ids(spec.token) == \
            model.task_token_ids[task]
        assert tokenizer.convert_tokens_to_ids(spec.begin) == \
            model.tokenizer.convert_tokens_to_ids(spec.begin)
    assert tokenizer.convert_tokens_to_ids('<video>') == model.splicer.video_id

    components = load_file(osp.join(out, 'tpo_components.safetensors'))
    assert not any(k.startswith('llm.') for k in components)
    for task in model.tasks:
        assert torch.equal(components[f'task_tokens.tokens.{task}'],
                           model.task_tokens[task].detach())
    for name, value in model.heads.state_dict().items():
        assert torch.equal(components[f'heads.{name}'], value)
    for prefix in ('vision_encoder.', 'connector.'):
        part = model.get_submodule(prefix[:-1]).state_dict()
        assert len(part) and all(
            torch.equal(components[prefix + k], v) for k, v in part.items())
    meta = read_metadata(osp.join(out, 'tpo_components.safetensors'))
    assert meta['tasks']['region']['token_id'] == \
        model.task_token_ids['region']
    dumped = Config.fromfile(osp.join(out, 'tpo_config.py'))
    assert dumped.model.lora.r == 16


def test_export_bakes_task_tokens_on_request(trained_model_files):
    from transformers import AutoModelForCausalLM

    from tpo.engine.export import export_hf
    model, cfg_path, ckpt, root = trained_model_files
    out = str(root / 'baked')
    torch.manual_seed(0)
    export_hf(cfg_path, ckpt, out, bake_task_tokens=True, dtype='bfloat16')
    llm = AutoModelForCausalLM.from_pretrained(out)
    weight = llm.get_input_embeddings().weight
    assert weight.dtype == torch.bfloat16
    for task, token_id in model.task_token_ids.items():
        assert torch.equal(weight[token_id],
                           model.task_tokens[task].detach().bfloat16())


def test_export_from_pth_with_trainable_tensors_only(trained_model_files):
    """A .pth holding only the trained tensors: the rest comes from the
    config (the same seeded random init here), the merge still matches."""
    from transformers import AutoModelForCausalLM

    from tpo.engine.export import export_hf
    model, cfg_path, _, root = trained_model_files
    trained = {n: p.detach().clone() for n, p in model.named_parameters()
               if p.requires_grad}
    assert any('lora_B' in n for n in trained)
    assert not any('base_layer' in n for n in trained)
    ckpt = str(root / 'trainable.pth')
    torch.save(dict(meta=dict(iter=1), state_dict=trained), ckpt)
    out = str(root / 'from_pth')
    torch.manual_seed(0)
    export_hf(cfg_path, ckpt, out, cfg_options={'model.strict_load': False})
    ids = torch.randint(0, len(model.tokenizer), (1, 8),
                        generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = model.llm(input_ids=ids).logits
        actual = AutoModelForCausalLM.from_pretrained(out)(
            input_ids=ids).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_export_errors_name_the_missing_file(trained_model_files, tmp_path):
    import sys
    from tpo.engine.export import export_hf
    _, cfg_path, ckpt, _ = trained_model_files
    with pytest.raises(FileNotFoundError, match='checkpoint=.*nowhere'):
        export_hf(cfg_path, str(tmp_path / 'nowhere'), str(tmp_path / 'o'))
    with pytest.raises(FileNotFoundError, match='config file.*no_cfg'):
        export_hf(str(tmp_path / 'no_cfg.py'), ckpt, str(tmp_path / 'o'))
    sys.path.insert(0, str(CONFIGS.parent / 'tools' / 'model_converters'))
    import export_hf as tool
    with pytest.raises(SystemExit, match='no_cfg'):
        tool.main([str(tmp_path / 'no_cfg.py'), ckpt, str(tmp_path / 'o')])
    assert not osp.exists(tmp_path / 'o')


def _fake_runner(model, work_dir, strategy=None):
    """Just what the hook reads of a (Flexible)Runner."""
    from types import SimpleNamespace

    from mmengine.hooks import CheckpointHook
    from mmengine.logging import MMLogger
    ckpt_hook = CheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    ckpt_hook.last_ckpt = None
    runner = SimpleNamespace(
        model=model, hooks=[ckpt_hook], cfg=Config(dict()), iter=0, epoch=0,
        experiment_name='fake', logger=MMLogger.get_current_instance())
    if strategy is not None:
        runner.strategy = strategy
    return runner, ckpt_hook


@pytest.mark.parametrize('zero3', [False, True])
def test_hook_with_deepspeed_and_sharded_fsdp(tmp_path, zero3):
    """DeepSpeed saves a folder per checkpoint and passes no state dict to
    ``before_save_checkpoint``: the hook gathers it from the engine (ZeRO-3:
    the consolidated 16-bit dict). An FSDP strategy without a full state
    dict is skipped with a warning, not a crash."""
    from types import SimpleNamespace

    from tpo.engine.hooks import SafetensorsCheckpointHook
    weights = {'w': torch.randn(3, 2), 'b': torch.zeros(3)}
    fail = lambda: pytest.fail('wrong DeepSpeed state dict')  # noqa: E731
    engine = SimpleNamespace(
        zero_optimization_partition_weights=lambda: zero3,
        _zero3_consolidated_16bit_state_dict=(
            lambda: dict(weights)) if zero3 else fail,
        module_state_dict=fail if zero3 else (lambda: dict(weights)))
    wrapper = type('MMDeepSpeedEngineWrapper', (), {})()
    wrapper.model = engine
    runner, ckpt_hook = _fake_runner(wrapper, str(tmp_path))
    hook = SafetensorsCheckpointHook()
    hook.before_train(runner)
    for step in (1, 2):
        old = tmp_path / f'iter_{step - 1}.pth'
        if old.exists():  # what CheckpointHook does (max_keep_ckpts=1)
            old.rmdir()
        (tmp_path / f'iter_{step}.pth').mkdir()
        ckpt_hook.last_ckpt = str(tmp_path / f'iter_{step}.pth')
        runner.iter = step - 1
        hook.after_train_iter(runner, step - 1)
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth', 'iter_2.safetensors']
    assert_same_tensors(load_file(str(tmp_path / 'iter_2.safetensors')),
                        weights)
    assert read_metadata(str(tmp_path / 'iter_2.safetensors'))['iter'] == 2

    fsdp = SimpleNamespace(_is_full_state_dict=lambda: False,
                           model_state_dict=lambda: pytest.fail('gathered'))
    runner, ckpt_hook = _fake_runner(torch.nn.Linear(2, 3),
                                     str(tmp_path / 'f'), strategy=fsdp)
    hook = SafetensorsCheckpointHook()
    hook.before_train(runner)
    ckpt_hook.last_ckpt = str(tmp_path / 'f' / 'iter_1.pth')
    hook.after_train_iter(runner, 0)
    assert not (tmp_path / 'f').exists()
    assert 'sharded' in hook._warned
