"""Loading precomputed query (word) features (CG-DETR release layout)."""
import numpy as np
import pytest

from tpo.datasets.transforms import LoadQueryFeatures, PackTPOInputs


def test_word_features_are_read_normalised_and_cut(tmp_path):
    words = np.arange(40 * 6, dtype=np.float32).reshape(40, 6) + 1
    np.savez(tmp_path / 'qid7.npz', last_hidden_state=words,
             pooler_output=np.ones(6, np.float32))
    text = LoadQueryFeatures(root=str(tmp_path))
    results = text(dict(qid=7))
    feats = results['query_features']
    assert feats.shape == (32, 6)  # max_len 32 (CG-DETR QVHighlights)
    np.testing.assert_allclose(feats[1], words[1] / np.linalg.norm(words[1]),
                               rtol=1e-6)
    pooled = LoadQueryFeatures(root=str(tmp_path), key='pooler_output',
                               normalize=False)(dict(qid=7))
    assert np.array_equal(pooled['query_features'], np.ones((1, 6)))
    with pytest.raises(KeyError, match='qid'):
        text(dict(vid='vidA'))
    with pytest.raises(FileNotFoundError, match='qid8.npz'):
        text(dict(qid=8))
    with pytest.raises(KeyError, match="no key 'missing'"):
        LoadQueryFeatures(root=str(tmp_path), key='missing')(dict(qid=7))

    results.update(frames=np.zeros((2, 4, 4, 3), np.uint8))
    packed = PackTPOInputs()(results)['data_samples']
    assert packed.query_features.shape == (32, 6)
