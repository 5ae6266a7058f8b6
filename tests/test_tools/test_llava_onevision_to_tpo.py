"""tools/model_converters/llava_onevision_to_tpo.py on a tiny
transformers LLaVA-OneVision."""
import torch

from tests._shared import load_tool
from tests.test_models.test_llava_ov import reference_llava_ov

llava_onevision_to_tpo = load_tool(
    'model_converters/llava_onevision_to_tpo.py')


def test_checkpoint_key_layouts_convert_identically():
    """The hub files' (transformers < 5) and the in-memory (>= 5) layouts of
    a LLaVA-OneVision checkpoint give the same TPOModel keys."""
    new = reference_llava_ov(32, -1).state_dict()
    old = {}
    for key, value in new.items():
        key = key.replace('model.vision_tower.', 'vision_tower.vision_model.')
        key = key.replace('model.language_model.', 'language_model.model.')
        key = key.replace('model.multi_modal_projector.',
                          'multi_modal_projector.')
        key = key.replace('model.image_newline', 'image_newline')
        key = key.replace('lm_head.', 'language_model.lm_head.')
        old[key] = value
    a, b = (llava_onevision_to_tpo.convert_llava_onevision(d)
            for d in (new, old))
    assert a.state_dict.keys() == b.state_dict.keys()
    # only the tower modules SigLIPVisionEncoder removes are left out
    for result in (a, b):
        assert list(result.unmapped) == [
            'unused: SigLIPVisionEncoder removes it']
        assert all('post_layernorm' in k for k in result.unmapped_keys())
    a = a.state_dict
    assert {'connector.linear_1.weight', 'connector.linear_2.bias',
            'connector.image_newline', 'llm.lm_head.weight',
            'llm.model.embed_tokens.weight',
            'vision_encoder.vision_tower.embeddings.patch_embedding.weight',
            } <= set(a)
    assert not any('post_layernorm' in k for k in a)
    odd = llava_onevision_to_tpo.convert_llava_onevision(
        {'foo.weight': torch.zeros(1),
         'vision_tower.vision_model.post_layernorm.weight': torch.zeros(1)})
    assert odd.unmapped == {
        'unknown: no conversion rule': ['foo.weight'],
        'unused: SigLIPVisionEncoder removes it':
        ['vision_tower.vision_model.post_layernorm.weight']}


def test_cli_writes_converted_safetensors(tmp_path):
    from safetensors.torch import load_file, save_file
    state = reference_llava_ov(32, -1).state_dict()
    src = tmp_path / 'model.safetensors'
    save_file({k: v.contiguous() for k, v in state.items()}, str(src))
    out = tmp_path / 'converted.safetensors'
    result = llava_onevision_to_tpo.main([str(src), str(out)])
    written = load_file(str(out))
    assert set(written) == set(result.renamed.values())
    assert torch.equal(written['connector.image_newline'],
                       state['model.image_newline'])
    assert (tmp_path / 'converted.report.txt').exists()
