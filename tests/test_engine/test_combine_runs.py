"""combine_runs: every tensor from the run that trained it, shared tensors
averaged or taken from one run, and the errors of runs that do not fit."""
import pytest
import torch

from tpo.engine.combine_runs import combine_runs, is_under

FROZEN = {
    'temporal': ('vision_encoder', 'heads.region',
                 'task_tokens.tokens.region'),
    'region': ('vision_encoder', 'heads.temporal',
               'task_tokens.tokens.temporal'),
}


def runs():
    """Two runs from one start: each changed its own head and token and the
    LoRA; the vision encoder and a buffer are the same in both."""
    start = {
        'vision_encoder.w': torch.ones(2),
        'heads.temporal.w': torch.zeros(2),
        'heads.region.w': torch.zeros(2),
        'task_tokens.tokens.temporal': torch.zeros(3),
        'task_tokens.tokens.region': torch.zeros(3),
        'llm.lora_A.weight': torch.tensor([1.0, 2.0]),
        'heads.temporal.steps': torch.tensor(4),
    }
    temporal = {k: v.clone() for k, v in start.items()}
    region = {k: v.clone() for k, v in start.items()}
    temporal['heads.temporal.w'] += 1
    temporal['task_tokens.tokens.temporal'] += 2
    temporal['llm.lora_A.weight'] = torch.tensor([2.0, 2.0])
    # a frozen head drawn afresh in a run is not taken from it
    temporal['heads.region.w'] = torch.full((2, ), 9.0)
    region['heads.region.w'] += 3
    region['task_tokens.tokens.region'] += 4
    region['llm.lora_A.weight'] = torch.tensor([1.0, 4.0])
    return dict(temporal=temporal, region=region)


def test_each_tensor_comes_from_the_run_that_trained_it():
    combined = combine_runs(runs(), FROZEN)
    state, sources = combined
    assert torch.equal(state['heads.temporal.w'], torch.ones(2))
    assert torch.equal(state['heads.region.w'], torch.full((2, ), 3.0))
    assert torch.equal(state['task_tokens.tokens.temporal'],
                       torch.full((3, ), 2.0))
    assert torch.equal(state['task_tokens.tokens.region'],
                       torch.full((3, ), 4.0))
    # LoRA: trained by both runs, the mean (start + mean of the updates)
    assert torch.equal(state['llm.lora_A.weight'], torch.tensor([1.5, 3.0]))
    assert torch.equal(state['vision_encoder.w'], torch.ones(2))
    assert state['heads.temporal.steps'].dtype == torch.int64
    assert sources == {
        'vision_encoder.w': 'common', 'heads.temporal.w': 'temporal',
        'heads.region.w': 'region', 'task_tokens.tokens.temporal':
        'temporal', 'task_tokens.tokens.region': 'region',
        'llm.lora_A.weight': 'mean', 'heads.temporal.steps': 'common'}


def test_shared_tensors_from_one_named_run():
    state, sources = combine_runs(runs(), FROZEN, shared='region')
    assert torch.equal(state['llm.lora_A.weight'], torch.tensor([1.0, 4.0]))
    assert sources['llm.lora_A.weight'] == 'region'
    assert torch.equal(state['heads.temporal.w'], torch.ones(2))
    with pytest.raises(ValueError, match="neither 'mean' nor one of"):
        combine_runs(runs(), FROZEN, shared='mask')


def test_the_mean_keeps_the_dtype():
    states = runs()
    states['temporal']['llm.lora_A.weight'] = torch.tensor(
        [2.0, 2.0], dtype=torch.bfloat16)
    states['region']['llm.lora_A.weight'] = torch.tensor(
        [1.0, 4.0], dtype=torch.bfloat16)
    mean = combine_runs(states, FROZEN).state_dict['llm.lora_A.weight']
    assert mean.dtype == torch.bfloat16
    assert mean.tolist() == [1.5, 3.0]


@pytest.mark.parametrize('change,pattern', [
    (lambda s: s['region'].update({'vision_encoder.w': torch.zeros(2)}),
     'vision_encoder.w differs between the runs although every run '
     'freezes it'),
    (lambda s: s['region'].pop('heads.region.w'),
     "run 'region' holds other tensors than run 'temporal': missing "
     r"\['heads.region.w'\]"),
    (lambda s: s['region'].update({'heads.region.w': torch.zeros(3)}),
     r"heads.region.w: shape \(3,\) in run 'region', \(2,\) in run "
     "'temporal'"),
    (lambda s: s.pop('region'), 'combine at least 2 runs'),
])
def test_runs_that_do_not_fit_are_refused_by_name(change, pattern):
    states = runs()
    change(states)
    with pytest.raises(ValueError, match=pattern):
        combine_runs(states, FROZEN)


def test_a_named_shared_run_must_have_trained_the_tensor():
    states = runs()
    states['mask'] = {k: v.clone() for k, v in states['region'].items()}
    frozen = dict(FROZEN, mask=FROZEN['region'] + ('llm', ))
    with pytest.raises(ValueError, match="trained by the runs "
                       r"\['temporal', 'region'\], not by shared='mask'"):
        combine_runs(states, frozen, shared='mask')


def test_is_under_matches_whole_path_parts():
    assert is_under('heads.region.w', ['heads.region'])
    assert is_under('task_tokens.tokens.region',
                    ['task_tokens.tokens.region'])
    assert not is_under('heads.region_extra.w', ['heads.region'])
    assert not is_under('task_tokens.tokens.regional', [
        'task_tokens.tokens.region'])
