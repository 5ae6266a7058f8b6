"""One checkpoint from runs that each trained a part of the same model.

TPO's stage 2 trains its heads "respectively" (Table 16: the temporal, mask
and region runs, each from stage 1 with the other heads frozen); stage 3
starts from all of them. :func:`combine_runs` takes every tensor from the
run that trained it, decided by each run's frozen modules:

* a tensor equal in every run is kept as it is;
* a tensor trained by exactly one run (its head, its task token) comes from
  that run;
* a tensor trained by several runs (the LLM's LoRA, which Table 16 trains
  in every run) is their mean (``shared='mean'``: every run starts from the
  same weights, so this is the start plus the mean of the runs' updates;
  for LoRA factors it averages the updates to first order), or the value of
  one named run;
* a tensor that differs between runs although every run freezes it means
  the runs did not start from the same checkpoint: an error.
"""
from typing import Dict, Mapping, NamedTuple, Sequence

import torch

MEAN = 'mean'


class Combined(NamedTuple):
    """The joined weights and, for every tensor, where it came from (a run
    name, ``'mean'``, or ``'common'`` when every run holds the same)."""
    state_dict: Dict[str, torch.Tensor]
    sources: Dict[str, str]


def is_under(key: str, paths: Sequence[str]) -> bool:
    """Whether the tensor ``key`` lies under one of the attribute
    ``paths`` (a path names a submodule or the tensor itself)."""
    return any(key == path or key.startswith(path + '.') for path in paths)


def _check_same_keys(states: Mapping[str, Mapping[str, torch.Tensor]]
                     ) -> None:
    (first, reference), *others = states.items()
    for name, state in others:
        missing = sorted(set(reference) - set(state))
        extra = sorted(set(state) - set(reference))
        if missing or extra:
            raise ValueError(
                f'run {name!r} holds other tensors than run {first!r}: '
                f'missing {missing[:5]}, extra {extra[:5]} (are they runs '
                'of the same model?)')
        for key, value in state.items():
            if value.shape != reference[key].shape:
                raise ValueError(
                    f'{key}: shape {tuple(value.shape)} in run {name!r}, '
                    f'{tuple(reference[key].shape)} in run {first!r}')


def combine_runs(states: Mapping[str, Mapping[str, torch.Tensor]],
                 frozen: Mapping[str, Sequence[str]],
                 shared: str = MEAN) -> Combined:
    """Join the weights ``states`` (run name -> state dict) of runs that
    froze the attribute paths ``frozen`` (run name -> paths, the runs'
    ``model.frozen_modules``); see the module docstring.

    Args:
        states: the state dict of each run, with the same keys and shapes.
        frozen: the frozen attribute paths of each run.
        shared: how a tensor trained by several runs is taken: ``'mean'``
            or the name of the run to take it from.
    """
    if len(states) < 2:
        raise ValueError(f'combine at least 2 runs, got {list(states)}')
    if shared != MEAN and shared not in states:
        raise ValueError(f"shared={shared!r} is neither 'mean' nor one of "
                         f'the runs {list(states)}')
    _check_same_keys(states)
    names = list(states)
    combined, sources = {}, {}
    for key, first in states[names[0]].items():
        values = [states[name][key] for name in names]
        if all(torch.equal(first, value) for value in values[1:]):
            combined[key], sources[key] = first, 'common'
            continue
        trainers = [name for name in names
                    if not is_under(key, frozen[name])]
        if not trainers:
            raise ValueError(
                f'{key} differs between the runs although every run '
                'freezes it: did they all start from the same checkpoint?')
        if len(trainers) == 1:
            source = trainers[0]
        elif shared != MEAN:
            if shared not in trainers:
                raise ValueError(
                    f'{key} is trained by the runs {trainers}, not by '
                    f'shared={shared!r}')
            source = shared
        elif not first.is_floating_point():
            raise ValueError(f'{key} ({first.dtype}) differs between the '
                             f'runs {trainers} and cannot be averaged')
        else:
            source = MEAN
        if source == MEAN:
            mean = torch.stack(
                [states[name][key].float() for name in trainers]).mean(0)
            combined[key] = mean.to(first.dtype)
        else:
            combined[key] = states[source][key]
        sources[key] = source
    return Combined(combined, sources)
