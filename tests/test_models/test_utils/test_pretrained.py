"""load_pretrained: the one way components load their own weights."""
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from tpo.models.utils import checkpoint_files, load_pretrained


def _net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))


def test_keys_under_a_prefix_load_strictly(tmp_path):
    source = _net(0)
    path = tmp_path / 'tpo.safetensors'
    tensors = {f'connector.{k}': v for k, v in source.state_dict().items()}
    tensors['llm.weight'] = torch.zeros(2)  # another part: left alone
    save_file(tensors, str(path))
    target = _net(1)
    load_pretrained(target, str(path), 'connector.')
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    with pytest.raises(RuntimeError, match=r"Sequential: .*4 missing.*"
                       r"'1\.weight'\], 2 unexpected \['bias', 'weight'\]"):
        load_pretrained(_net(1), str(path), 'connector.0.')


def test_a_misshapen_key_fails_before_anything_is_copied(tmp_path):
    path = tmp_path / 'release.pth'
    state = _net(0).state_dict()
    state['1.weight'] = torch.zeros(5, 4)
    torch.save(dict(model=state), path)  # a release's `model` entry
    target = _net(1)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"1 of the wrong shape \['1\."
                       r"weight'\]"):
        load_pretrained(target, str(path), owner='MyEncoder')
    for key, value in target.state_dict().items():
        assert torch.equal(before[key], value)


def test_later_files_override_earlier_ones_and_shards_are_read(tmp_path):
    base, tuned = _net(0), _net(2)
    save_file({k: v.contiguous() for k, v in base.state_dict().items()},
              str(tmp_path / 'a.safetensors'))
    save_file({'1.bias': tuned[1].bias.detach().clone()},
              str(tmp_path / 'b.safetensors'))
    target = _net(1)
    load_pretrained(target, [str(tmp_path)])  # a folder of shards
    assert checkpoint_files(str(tmp_path)) == [
        str(tmp_path / 'a.safetensors'), str(tmp_path / 'b.safetensors')]
    assert torch.equal(target[1].bias, tuned[1].bias)
    assert torch.equal(target[0].weight, base[0].weight)


def test_missing_file_and_pickled_code_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='MyEncoder.*no_such.pth'):
        load_pretrained(_net(0), str(tmp_path / 'no_such.pth'),
                        owner='MyEncoder')
    path = tmp_path / 'code.pth'
    torch.save(dict(model=_net(0).state_dict(), hook=print), path)
    with pytest.raises(Exception, match='code.pth'):
        load_pretrained(_net(1), str(path))
