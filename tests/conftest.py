"""Fixtures shared by the test folders."""
import copy
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'


@pytest.fixture(scope='session')
def tiny_world(tmp_path_factory) -> str:
    """A small synthetic world (a few seconds to generate)."""
    from tpo.datasets.synthetic import generate_world
    root = tmp_path_factory.mktemp('tiny_world')
    generate_world(str(root), num_videos={'train': 6, 'val': 3}, seed=0)
    return str(root)


#: A CG-DETR temporal head small enough for unit tests (the model fills in
#: its widths).
TINY_CGDETR_HEAD = dict(
    type='CGDETRHead',
    text_features=dict(type='QueryHashEmbedding', embed_dims=32,
                       num_buckets=64),
    transformer=dict(type='CGDETR', dims=32, num_heads=4, ffn_dims=64,
                     enc_layers=1, dec_layers=2, t2v_layers=1, num_queries=5,
                     num_dummies=3, total_prompts=4))


def tiny_model_cfg(**overrides) -> dict:
    """The repo's tiny model config, made smaller still for unit tests."""
    cfg = copy.deepcopy(
        Config.fromfile(str(CONFIGS / '_base_/models/tpo_tiny.py')).model)
    cfg.vision_encoder.update(depth=1, img_size=32, embed_dims=48)
    cfg.connector.update(num_queries=4)
    cfg.connector.qformer.update(hidden_size=32, num_hidden_layers=1,
                                 intermediate_size=64)
    cfg.llm.config.update(hidden_size=64, intermediate_size=128)
    # Both loss paths of the region head (the repo config uses MSE only).
    cfg.heads.region.update(
        hidden_dims=32,
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0))
    cfg.update(overrides)
    return cfg.to_dict()


def tiny_all_heads_cfg(**overrides) -> dict:
    """``configs/tpo/tiny_stage3.py``'s model (every head and the box-prompt
    encoder), shrunk like :func:`tiny_model_cfg`."""
    full = Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py')).model
    heads = full.heads.to_dict()
    heads['region'] = tiny_model_cfg()['heads']['region']
    return tiny_model_cfg(**dict(
        dict(heads=heads, box_prompt_encoder=full.box_prompt_encoder.to_dict(),
             frozen_modules=tuple(full.frozen_modules)), **overrides))
