import pytest

from tpo.registry import DATASETS, METRICS, MODELS, TRANSFORMS


def test_lazy_locations_register_members():
    # Lookups import the registry's locations: no explicit import needed.
    assert MODELS.get('TPOModel').__name__ == 'TPOModel'
    assert MODELS.get('RegionHead').__name__ == 'RegionHead'
    assert DATASETS.get('RefCOCODataset').__name__ == 'RefCOCODataset'
    assert TRANSFORMS.get('LoadVideoFrames').__name__ == 'LoadVideoFrames'
    assert METRICS.get('ReferringBoxAccuracy') is not None


def test_unknown_type_names_registry_and_closest_names():
    with pytest.raises(KeyError) as err:
        MODELS.build(dict(type='RegoinHead', in_dims=8))
    message = str(err.value)
    assert "'RegoinHead' is not in the tpo::model registry" in message
    assert 'RegionHead' in message


def test_unknown_type_without_close_match():
    with pytest.raises(KeyError, match='No similar name is registered'):
        TRANSFORMS.build(dict(type='Zzzzzzzzzzzz'))


def test_contains_does_not_raise():
    assert 'RegionHead' in MODELS
    assert 'NoSuchHead' not in MODELS


def test_parent_scope_names_still_resolve():
    # mmengine's own components stay reachable through the tpo children.
    assert MODELS.get('mmengine.BaseDataPreprocessor') is not None
    assert DATASETS.get('ConcatDataset') is not None
