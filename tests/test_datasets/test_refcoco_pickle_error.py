"""Pointing RefCOCODataset at the downloaded refs pickle names the file and
the converter to run."""
import pickle

import pytest

from tpo.datasets import RefCOCODataset
from tpo.datasets.annotation import AnnotationError, load_json


@pytest.mark.parametrize('name', ['refs(unc).p', 'refs_renamed.json'])
def test_unconverted_pickle_names_file_and_converter(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(pickle.dumps([{'sentences': ['caf\xe9']}], protocol=2))
    (tmp_path / 'instances.json').write_text(
        '{"images": [], "annotations": []}')
    with pytest.raises(AnnotationError) as info:
        RefCOCODataset(data_root=str(tmp_path), ann_file=name,
                       instances_file='instances.json', lazy_init=False)
    message = str(info.value)
    assert str(path) in message
    assert 'tools/dataset_converters/refcoco_pickle_to_json.py' in message


def test_binary_json_names_the_file(tmp_path):
    path = tmp_path / 'broken.json'
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(AnnotationError, match='broken.json: not a UTF-8'):
        load_json(str(path))
