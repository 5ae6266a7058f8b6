"""The VideoChat2 configs reload from their dumps."""
import pytest
from mmengine.config import Config

from tests.videochat_release import FULL, TINY


@pytest.mark.parametrize('path', [TINY, FULL], ids=lambda p: p.name)
def test_configs_roundtrip(path, tmp_path):
    cfg = Config.fromfile(str(path))
    cfg.dump(str(tmp_path / 'dumped.py'))
    assert Config.fromfile(str(tmp_path / 'dumped.py')).to_dict() == \
        cfg.to_dict()
    model = cfg.model
    assert model.vision_encoder.qkv_bias == 'qv'
    assert model.vision_encoder.final_norm_eps == 1e-12
    assert model.connector.vision_norm is False
    assert model.lora.trainable_token_indices is None
    assert 'lm_head' in model.lora.target_modules
