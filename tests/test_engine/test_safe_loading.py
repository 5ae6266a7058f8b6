"""No checkpoint ever unpickles code (issue 15).

A checkpoint carrying a pickle payload that would create a marker file when
unpickled goes through every entry point that reads checkpoints (library
loader, ``load_from`` and ``--resume`` of tools/train.py, tools/test.py,
tools/demo.py ``--checkpoint``, a ``load_from`` URL, DeepSpeed's own
readers, the converters): each refuses it with an error naming the file and
the converter for a trusted file, and the marker never appears.
"""
import functools
import http.server
import importlib.util
import os.path as osp
import pickle
import threading
from argparse import Namespace
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer
from PIL import Image

from tests.test_engine.toy_runner import ROOT, toy_config
from tpo.engine import load_checkpoint_file, use_safe_checkpoints

CONVERTER = 'trusted_pickle_to_safetensors.py'


def tool(relative: str):
    """A module of ``tools/`` imported from its file."""
    path = ROOT / 'tools' / relative
    name = 'tool_' + relative.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Payload:
    """Unpickling it opens ``marker`` for writing: code a checkpoint could
    run, made visible."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


@pytest.fixture
def marker(tmp_path):
    """The file a payload creates; checked to be absent after the test."""
    path = tmp_path / 'PAYLOAD_RAN'
    yield path
    assert not path.exists(), 'a pickle payload ran'


def payload_pth(path, marker) -> str:
    torch.save(dict(state_dict={'linear.weight': torch.zeros(1, 2)},
                    meta=dict(note=Payload(marker))), str(path))
    return str(path)


def payload_deepspeed_folder(work_dir, marker) -> str:
    """A work dir whose last checkpoint is a DeepSpeed-style folder
    (``iter_1.pth/``) with a payload in its model and optimizer states."""
    folder = Path(work_dir) / 'iter_1.pth'
    folder.mkdir(parents=True)
    torch.save(dict(module=OrderedDict(linear=torch.zeros(2)),
                    buffer_names=[], ds_version='0.19.6',
                    client=Payload(marker)),
               folder / 'mp_rank_00_model_states.pt')
    torch.save(dict(optimizer_state_dict=dict(zero_stage=2),
                    client=Payload(marker)),
               folder / 'zero_pp_rank_0_mp_rank_00_optim_states.pt')
    (Path(work_dir) / 'last_checkpoint').write_text(str(folder))
    return str(folder)


def assert_refusal(error, path) -> None:
    """The message names the file and the converter of a trusted file, and
    does not advise unpickling it."""
    message = str(error)
    assert str(path) in message and CONVERTER in message, message
    assert 'weights_only=False' not in message, message


def test_pth_payload_is_refused_naming_the_file(tmp_path, marker):
    path = payload_pth(tmp_path / 'payload.pth', marker)
    with pytest.raises(pickle.UnpicklingError) as info:
        load_checkpoint_file(path)
    assert_refusal(info.value, path)
    assert '`io.open`' in str(info.value)  # what the payload calls


def test_deepspeed_folder_payload_is_refused(tmp_path, marker):
    folder = payload_deepspeed_folder(tmp_path / 'work', marker)
    with pytest.raises(pickle.UnpicklingError) as info:
        load_checkpoint_file(folder)
    assert_refusal(info.value, folder)


def test_deepspeed_engine_readers_run_weights_only(tmp_path, marker):
    """Resuming under DeepSpeed reads the folder with DeepSpeed's own
    ``TorchCheckpointEngine`` (``weights_only=False``)."""
    pytest.importorskip('deepspeed')
    from deepspeed.runtime.checkpoint_engine.torch_checkpoint_engine import \
        TorchCheckpointEngine

    from tpo.engine.strategies import TPODeepSpeedStrategy
    folder = payload_deepspeed_folder(tmp_path / 'work', marker)

    def engine_load_checkpoint(load_dir, tag, **kwargs):
        name = osp.join(load_dir, tag, 'mp_rank_00_model_states.pt')
        return name, TorchCheckpointEngine().load(name)

    strategy = TPODeepSpeedStrategy.__new__(TPODeepSpeedStrategy)
    strategy.model = SimpleNamespace(load_checkpoint=engine_load_checkpoint)
    strategy.exclude_frozen_parameters = False
    strategy.logger = SimpleNamespace(info=lambda message: None)
    for load in (strategy.resume, strategy.load_checkpoint):
        with pytest.raises(pickle.UnpicklingError) as info:
            load(folder)
        assert_refusal(info.value, folder)


@pytest.mark.parametrize('kind', ['pth', 'deepspeed'])
def test_train_tool_load_from_and_resume_refuse_payloads(
        tmp_path, marker, kind):
    train = tool('train.py')
    if kind == 'pth':
        path = payload_pth(tmp_path / 'payload.pth', marker)
    else:
        path = payload_deepspeed_folder(tmp_path / 'old', marker)
    config = tmp_path / 'toy.py'
    toy_config(tmp_path / 'work').dump(str(config))
    for flags in (['--cfg-options', f'load_from={path}'],
                  ['--resume', path]):
        with pytest.raises(pickle.UnpicklingError) as info:
            train.main([str(config), *flags])
        assert_refusal(info.value, path)


def test_test_tool_refuses_a_payload(tmp_path, marker):
    path = payload_pth(tmp_path / 'payload.pth', marker)
    config = tmp_path / 'toy.py'
    toy_config(tmp_path / 'work').dump(str(config))
    with pytest.raises(pickle.UnpicklingError) as info:
        tool('test.py').main([str(config), path])
    assert_refusal(info.value, path)


class _Quiet(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args) -> None:
        pass


def test_load_from_url_refuses_a_payload(tmp_path, marker, monkeypatch):
    """mmengine reads ``load_from='http://...'`` with torch.hub, which
    unpickles anything unless told otherwise."""
    served = tmp_path / 'served'
    served.mkdir()
    payload_pth(served / 'payload.pth', marker)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(_Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f'http://127.0.0.1:{server.server_address[1]}/payload.pth'
    config = tmp_path / 'toy.py'
    toy_config(tmp_path / 'work').dump(str(config))
    try:
        with pytest.raises(pickle.UnpicklingError) as info:
            tool('train.py').main(
                [str(config), '--cfg-options', f'load_from={url}'])
    finally:
        server.shutdown()
    assert url in str(info.value) and CONVERTER in str(info.value)


@pytest.mark.parametrize('kind', ['pth', 'deepspeed'])
def test_demo_checkpoint_refuses_a_payload(tmp_path, marker, kind):
    image = tmp_path / 'frame.png'
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    path = payload_pth(tmp_path / 'payload.pth', marker) if kind == 'pth' \
        else payload_deepspeed_folder(tmp_path / 'old', marker)
    with pytest.raises(SystemExit) as info:
        tool('demo.py').main([
            str(image), 'Where is it?', '--config',
            str(ROOT / 'configs/tpo/tiny_stage3.py'), '--checkpoint', path,
            '--out-dir', str(tmp_path / 'out')
        ])
    assert str(info.value).startswith('demo: ')
    assert_refusal(info.value, path)


def test_converters_refuse_payloads(tmp_path, marker):
    pth = payload_pth(tmp_path / 'payload.pth', marker)
    folder = payload_deepspeed_folder(tmp_path / 'old', marker)
    out = str(tmp_path / 'out.safetensors')
    with pytest.raises(pickle.UnpicklingError) as info:
        tool('model_converters/zero_to_tpo.py').main([folder, out])
    assert_refusal(info.value, folder)
    with pytest.raises(pickle.UnpicklingError) as info:
        tool('model_converters/videochat_tpo_to_tpo.py').main([pth, out])
    assert_refusal(info.value, pth)
    with pytest.raises(pickle.UnpicklingError) as info:
        tool('model_converters/export_hf.py').main([
            str(ROOT / 'configs/tpo/tiny_stage3.py'), pth,
            str(tmp_path / 'exported')
        ])
    assert_refusal(info.value, pth)


def test_trusted_file_converts_once_then_loads(tmp_path):
    """A checkpoint holding an object of a class outside the allow-list
    (here an argparse Namespace) is refused by name; the converter turns it
    into safetensors only with --trust-pickled-code."""
    weight = torch.arange(6.0).reshape(3, 2)
    path = str(tmp_path / 'old.pth')
    torch.save(dict(state_dict={'module.linear.weight': weight},
                    args=Namespace(lr=0.1)), path)
    with pytest.raises(pickle.UnpicklingError, match='argparse.Namespace'):
        load_checkpoint_file(path)
    convert = tool(f'model_converters/{CONVERTER}').main
    out = str(tmp_path / 'old.safetensors')
    with pytest.raises(SystemExit, match='--trust-pickled-code'):
        convert([path, out])
    assert convert([path, out, '--trust-pickled-code']) == 0
    loaded = load_checkpoint_file(out)
    assert list(loaded) == ['linear.weight']
    assert torch.equal(loaded['linear.weight'], weight)


def test_what_mmengine_and_deepspeed_save_loads(tmp_path):
    """The plain types of an mmengine checkpoint (message hub history
    buffers as a Runner of build_runner saves them, numpy scalars and
    arrays) and of a DeepSpeed one (its config as a ConfigDict) are on the
    allow-list."""
    use_safe_checkpoints()
    buffer = HistoryBuffer()
    for value in (1.5, 0.5):
        buffer.update(value)
    checkpoint = dict(
        meta=dict(iter=np.int64(2), seed=np.float64(0.5)),
        message_hub=dict(log_scalars={'train/loss': buffer},
                         runtime_info=dict(shape=np.zeros((2, 3)))),
        ds_config=ConfigDict(zero_optimization=dict(stage=2)),
        state_dict=OrderedDict(w=torch.ones(2)))
    torch.save(checkpoint, tmp_path / 'ok.pth')
    loaded = load_checkpoint_file(str(tmp_path / 'ok.pth'))
    assert loaded['meta']['iter'] == 2
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 1.0
    assert loaded['ds_config'].zero_optimization.stage == 2
    assert np.array_equal(loaded['message_hub']['runtime_info']['shape'],
                          np.zeros((2, 3)))
