"""Building SAM2 from the configs of the sam2 package."""
import pytest

pytest.importorskip('sam2')

from tpo.models.heads.sam2_builder import (  # noqa: E402
    available_sam2_configs, build_sam2_base)

TINY = 'configs/sam2.1/sam2.1_hiera_t.yaml'


def test_unknown_config_names_field_and_choices():
    with pytest.raises(ValueError) as info:
        build_sam2_base('sam2_hiera_huge.yaml', owner='SAM2MaskHead')
    message = str(info.value)
    assert 'SAM2MaskHead' in message and 'model_cfg' in message
    assert "'sam2_hiera_huge.yaml'" in message
    assert TINY in message
    assert TINY in available_sam2_configs()


def test_image_size_is_checked_and_applied():
    with pytest.raises(ValueError, match='image_size must be a multiple'):
        build_sam2_base(TINY, image_size=100)
    sam = build_sam2_base('sam2.1_hiera_t', image_size=64)
    assert sam.image_size == 64
