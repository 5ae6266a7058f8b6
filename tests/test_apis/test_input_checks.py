"""Inputs are checked before the slow work, and errors name what was
actually used (issue 15): tools/demo.py checks the video, checkpoint, box
and window before building the model; a read error names the library that
read the file; an empty or unrecognised model folder names the folder and
what it must hold."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tpo.datasets.transforms import LoadVideoFrames, VideoReadError
from tpo.models.llms.causal_lm import HFCausalLM

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs/tpo/tiny_stage3.py')


@pytest.fixture
def demo(monkeypatch):
    """tools/demo.py with a model that must not be built."""
    spec = importlib.util.spec_from_file_location('demo_tool',
                                                  ROOT / 'tools/demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def never(*args, **kwargs):
        raise AssertionError('the model was built before the inputs were '
                             'checked')

    monkeypatch.setattr('tpo.apis.TPOInferencer', never)
    return module


@pytest.fixture
def image(tmp_path) -> str:
    path = tmp_path / 'frame.png'
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path)
    return str(path)


@pytest.mark.parametrize('case, message', [
    ('missing video', r'demo: Cannot read .*nowhere.mp4 \((decord|pyav)\): '
     'FileNotFoundError'),
    ('missing checkpoint', r"demo: --checkpoint='.*no_such_dir': no "
     'checkpoint file'),
    ('box', r'demo: --box 50 10 20 40: give X1 Y1 X2 Y2 with X2 > X1'),
    ('window', r'demo: --gt-window \[5.0, 2.0\]: give START < END'),
])
def test_demo_checks_inputs_before_the_model(demo, image, tmp_path, case,
                                            message):
    checkpoint = tmp_path / 'ckpt.pth'
    checkpoint.write_bytes(b'')
    args = dict(video=image, checkpoint=str(checkpoint), extra=[])
    if case == 'missing video':
        args['video'] = str(tmp_path / 'nowhere.mp4')
    elif case == 'missing checkpoint':
        args['checkpoint'] = str(tmp_path / 'no_such_dir')
    elif case == 'box':
        args['extra'] = ['--box', '50', '10', '20', '40']
    else:
        args['extra'] = ['--gt-window', '5', '2']
    with pytest.raises(SystemExit, match=message):
        demo.main([args['video'], 'Where is it?', '--config', CONFIG,
                   '--checkpoint', args['checkpoint'], '--out-dir',
                   str(tmp_path / 'out'), *args['extra']])


@pytest.mark.parametrize('name, reader', [('broken.png', 'PIL'),
                                          ('broken.mp4', 'pyav')])
def test_read_errors_name_the_reader_used(tmp_path, name, reader):
    broken = tmp_path / name
    broken.write_bytes(b'not an image or a video')
    with pytest.raises(VideoReadError,
                       match=rf'Cannot read .*{name} \({reader}\): '):
        LoadVideoFrames(backend='pyav', on_error='raise')(
            dict(video_path=str(broken)))


def test_model_folders_that_cannot_load_name_what_they_lack(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError,
                       match=f"HFCausalLM: '{empty}' is an empty folder. "
                       r'Expected config.json, \*.safetensors'):
        HFCausalLM(pretrained=str(empty))
    no_weights = tmp_path / 'no_weights'
    no_weights.mkdir()
    (no_weights / 'config.json').write_text(json.dumps(
        dict(model_type='llama')))
    with pytest.raises(FileNotFoundError,
                       match=f"the folder '{no_weights}' has no weights "
                       r'\(\*.safetensors or pytorch_model\*.bin\) \(it '
                       'holds: config.json\\)'):
        HFCausalLM(pretrained=str(no_weights))
    unknown = tmp_path / 'unknown'
    unknown.mkdir()
    (unknown / 'config.json').write_text(json.dumps(
        dict(model_type='not_a_model')))
    (unknown / 'model.safetensors').write_bytes(b'')
    with pytest.raises(ValueError,
                       match="config.json gives model_type='not_a_model', "
                       'which transformers .* does not know'):
        HFCausalLM(pretrained=str(unknown))
