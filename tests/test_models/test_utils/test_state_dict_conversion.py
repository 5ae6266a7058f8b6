"""The shared conversion machinery: LoRA folding."""
import torch

from tpo.models.utils.state_dict_conversion import merge_lora_weights


def test_merge_lora_folds_lm_head():
    a, b = torch.randn(4, 6), torch.randn(5, 4)
    base = torch.randn(5, 6)
    sd = {'llm.base_model.model.lm_head.base_layer.weight': base,
          'llm.base_model.model.lm_head.lora_A.default.weight': a,
          'llm.base_model.model.lm_head.lora_B.default.weight': b,
          'llm.base_model.model.model.layers.0.mlp.up_proj.base_layer.weight':
          base}
    notes = merge_lora_weights(sd, ['lm_head'], lora_alpha=32)
    assert set(sd) == {
        'llm.base_model.model.lm_head.weight',
        'llm.base_model.model.model.layers.0.mlp.up_proj.base_layer.weight'}
    torch.testing.assert_close(sd['llm.base_model.model.lm_head.weight'],
                               base + 8 * b @ a)
    assert notes and 'r=4' in notes[0]
