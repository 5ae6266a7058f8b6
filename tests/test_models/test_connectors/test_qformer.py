"""QFormerConnector (VideoChat2's instruction-aware Q-Former)."""
import torch
import torch.nn.functional as F

from tpo.models.connectors.qformer import QFormerConnector
from tpo.registry import MODELS


def test_qformer_parity_with_transformers(g):
    """Our connector == transformers' InstructBlipQFormerModel run directly
    on the same weights (+ LayerNorm when vision_norm, + projection)."""
    from transformers import (InstructBlipQFormerConfig,
                              InstructBlipQFormerModel)
    qcfg = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=64, vocab_size=50,
                cross_attention_frequency=2, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0)
    gen = torch.Generator().manual_seed(3)
    visual = torch.randn(2, 12, 24, generator=gen)
    ids = torch.randint(1, 50, (2, 6), generator=gen)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    for vision_norm in (False, True):
        torch.manual_seed(0)
        conn = QFormerConnector(vision_dims=24, llm_dims=16, num_queries=3,
                                num_extra_queries=5, qformer=qcfg,
                                vision_norm=vision_norm).eval()
        with torch.no_grad():
            for p in conn.parameters():  # move away from the init values
                p.add_(torch.randn(p.shape, generator=gen) * 0.05)
        hf = InstructBlipQFormerModel(
            InstructBlipQFormerConfig(encoder_hidden_size=24, **qcfg)).eval()
        hf.load_state_dict(conn.qformer.state_dict())
        queries = torch.cat([conn.query_tokens, conn.extra_query_tokens], 1)
        assert queries.shape == (1, 8, 32) and conn.num_queries == 8
        enc = visual
        if vision_norm:
            enc = F.layer_norm(visual, (24, ), conn.vision_norm.weight,
                               conn.vision_norm.bias, 1e-5)
        else:
            assert isinstance(conn.vision_norm, torch.nn.Identity)
        with torch.no_grad():
            for text, text_mask in ((ids, mask), (None, None)):
                full_mask = None if text is None else torch.cat(
                    [torch.ones(2, 8, dtype=torch.long), text_mask], 1)
                hidden = hf(input_ids=text, attention_mask=full_mask,
                            query_embeds=queries.expand(2, -1, -1),
                            encoder_hidden_states=enc).last_hidden_state
                expected = conn.proj(hidden[:, :8])
                torch.testing.assert_close(conn(visual, text, text_mask),
                                           expected, rtol=0, atol=0)
    # The instruction matters, and padding is masked out (right padding here:
    # left padding shifts the text positions, in the official code too).
    right = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        a = conn(visual, ids, right)
        b = conn(visual, ids[:, :3], right[:, :3])
        c = conn(visual)
    torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(a, c)


def test_qformer_connector_uses_instruction():
    connector = MODELS.build(dict(
        type='QFormerConnector', vision_dims=24, llm_dims=16, num_queries=3,
        qformer=dict(hidden_size=32, num_hidden_layers=1,
                     num_attention_heads=4, intermediate_size=64,
                     vocab_size=20, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)))
    visual = torch.randn(2, 10, 24)
    plain = connector(visual)
    assert plain.shape == (2, 3, 16)
    ids = torch.tensor([[1, 2, 3], [4, 5, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    steered = connector(visual, ids, mask)
    assert steered.shape == (2, 3, 16)
    assert not torch.allclose(plain, steered)
