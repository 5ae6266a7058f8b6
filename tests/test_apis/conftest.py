"""A small non-square video and tiny checkpoints for the inference tests."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import tiny_all_heads_cfg, tiny_model_cfg
from tpo.registry import MODELS

WIDTH, HEIGHT, FPS, NUM = 160, 96, 8, 16  # a 2 s video
#: The region head of the ``known_box`` checkpoint always predicts this
#: normalised cxcywh box: xyxy pixels (40, 28.8, 120, 57.6) of the video.
KNOWN_CODE = (0.5, 0.45, 0.5, 0.3)
KNOWN_BOX = [40.0, 28.8, 120.0, 57.6]
TEST_PIPELINE = [
    dict(type='LoadVideoFrames', num_frames=4, sampling='uniform',
         on_error='raise'),
    dict(type='ResizeFrames', size=(32, 32)),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]


@pytest.fixture(scope='session')
def demo_video(tmp_path_factory) -> str:
    """A grey 160x96 video with a red square moving right."""
    from tpo.datasets.synthetic.video_io import write_mp4
    frames = np.full((NUM, HEIGHT, WIDTH, 3), 110, np.uint8)
    for t in range(NUM):
        frames[t, 30:60, 10 + 6 * t:40 + 6 * t] = (220, 40, 40)
    path = str(tmp_path_factory.mktemp('video') / 'square.mp4')
    write_mp4(path, frames, FPS)
    return path


def save_model(model_cfg: dict, root, name: str, known_box: bool = False,
               seed: int = 0) -> tuple:
    """Build a model, save its weights and a config with the test pipeline;
    returns ``(config_path, checkpoint_path)``."""
    init_default_scope('tpo')
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(model_cfg))
    if known_box:
        with torch.no_grad():
            last = model.heads.region.mlp[2]
            last.weight.zero_()
            last.bias.copy_(torch.logit(torch.tensor(KNOWN_CODE)))
    cfg_path, ckpt_path = str(root / f'{name}.py'), str(root / f'{name}.pth')
    Config(dict(default_scope='tpo', model=model_cfg,
                test_pipeline=TEST_PIPELINE)).dump(cfg_path)
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), ckpt_path)
    return cfg_path, ckpt_path


@pytest.fixture(scope='session')
def region_model(tmp_path_factory) -> dict:
    """The tiny test model (region head only): a random and a known-box
    checkpoint."""
    root = tmp_path_factory.mktemp('region_model')
    cfg = tiny_model_cfg()
    config, random_ckpt = save_model(cfg, root, 'random')
    _, known_ckpt = save_model(cfg, root, 'known', known_box=True)
    return dict(config=config, random=random_ckpt, known=known_ckpt)


@pytest.fixture(scope='session')
def all_heads_model(tmp_path_factory) -> dict:
    pytest.importorskip('sam2')
    root = tmp_path_factory.mktemp('all_heads_model')
    config, ckpt = save_model(tiny_all_heads_cfg(), root, 'all_heads',
                              known_box=True)
    return dict(config=config, checkpoint=ckpt)
