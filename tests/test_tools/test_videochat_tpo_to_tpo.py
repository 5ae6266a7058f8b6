"""tools/model_converters/videochat_tpo_to_tpo.py on a synthetic release:
key names, strict loading, outputs equal to the official math, vocabulary
rows, the report and the CLI."""
import json

import torch
from mmengine.config import Config
from safetensors.torch import load_file, save_file

from tests.videochat_release import (OFFICIAL_PATTERNS, TINY,
                                     VIDEOCHAT_TPO_ADDED_TOKENS, heads_of,
                                     model_added_tokens, normalise,
                                     official_tokens, ref_mlp, ref_qformer,
                                     ref_umt, tiny_geometry,
                                     videochat_tpo_to_tpo, vocab_rows)
from tpo.models.utils import read_state_dict
from tpo.models.utils.state_dict_conversion import tpo_added_tokens
from tpo.registry import TOKENIZERS


def test_synthetic_checkpoint_has_the_release_key_names(official):
    """Same key patterns as the release (cg_/sam. parts sampled)."""
    patterns = {normalise(k) for k in official
                if not k.startswith(('cg_', 'sam.'))}
    assert patterns == OFFICIAL_PATTERNS
    # The release stores 23 UMT blocks and cross-attention in even layers.
    assert len(OFFICIAL_PATTERNS) == 105


def test_converted_release_loads_strictly(model, converted):
    state = heads_of(model, converted.state_dict)
    box_keys = [k for k in state if k.startswith('box_prompt_encoder.')]
    assert sorted(box_keys) == [f'box_prompt_encoder.mlp.{i}.{p}'
                                for i in (0, 2) for p in ('bias', 'weight')]
    if not hasattr(model, 'box_prompt_encoder'):
        for key in box_keys:
            state.pop(key)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == [] and unexpected == []
    # Every mapped tensor is now in the model, bit for bit.
    own = model.state_dict()
    for key, value in state.items():
        assert torch.equal(own[key], value), key


def test_round_trip_outputs_match_official_math(model, official, converted,
                                                g):
    """Converted weights in our modules == the official forward on the
    official tensors: encoder, Q-Former + projection, heads, task tokens."""
    state = {k: v for k, v in heads_of(model,
                                       converted.state_dict).items()
             if hasattr(model, 'box_prompt_encoder') or
             not k.startswith('box_prompt_encoder.')}
    model.load_state_dict(state, strict=True)
    gen = torch.Generator().manual_seed(1)
    video = torch.randn(2, g['num_frames'], 3, 32, 32, generator=gen)
    with torch.no_grad():
        ours = model.vision_encoder(video)
        ref = ref_umt(official, video, g)
        assert ours.shape == (2, g['num_frames'] * 16, g['vis_dims'])
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
        # Images (T == 1) use the single-frame table, as use_image=True.
        torch.testing.assert_close(model.vision_encoder(video[:, :1]),
                                   ref_umt(official, video[:, :1], g),
                                   rtol=1e-5, atol=1e-5)

        ids = torch.randint(1, g['q_vocab'], (2, 5), generator=gen)
        mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])  # left pad
        out = model.connector(ours, ids, mask)
        assert out.shape == (2, g['nq'] + g['nq_extra'], g['llm_dims'])
        torch.testing.assert_close(
            out, ref_qformer(official, ref, ids, mask, g), rtol=1e-4,
            atol=1e-5)
        torch.testing.assert_close(
            model.connector(ours), ref_qformer(official, ref, None, None, g),
            rtol=1e-4, atol=1e-5)

        hidden = torch.randn(3, g['llm_dims'], generator=gen)
        torch.testing.assert_close(model.heads.region.mlp(hidden),
                                   ref_mlp(official, 'loc_decoder', hidden))
        if hasattr(model, 'box_prompt_encoder'):
            boxes = torch.rand(3, 4, generator=gen)
            torch.testing.assert_close(
                model.box_prompt_encoder.mlp(boxes),
                ref_mlp(official, 'loc_encoder', boxes))
    for task, name in (('region', 'box_token'), ('temporal', 'temporal_token'),
                       ('mask', 'track_token')):
        assert model.task_tokens[task].shape == (g['llm_dims'], )
        assert torch.equal(model.task_tokens[task].data,
                           official[name].reshape(-1))


def test_llm_logits_match_release_after_vocab_reordering(model, official, g):
    """The release's peft LLM (LoRA on lm_head too) on its token ids gives
    the logits of our LLM on our ids, column for column."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg = Config.fromfile(str(TINY)).model
    llm_cfg = dict(cfg.llm.config)
    llm_cfg['vocab_size'] = g['base_vocab'] + len(VIDEOCHAT_TPO_ADDED_TOKENS)
    torch.manual_seed(0)
    lm = AutoModelForCausalLM.from_config(
        AutoConfig.for_model(llm_cfg.pop('model_type'), **llm_cfg))
    lora = dict(cfg.lora)
    lora.pop('trainable_token_indices')
    lm = get_peft_model(lm, LoraConfig(task_type='CAUSAL_LM', **lora))
    lm.load_state_dict({k[3:]: v for k, v in official.items()
                        if k.startswith('lm.')}, strict=True)
    lm.eval()

    ours_tokens, src = model_added_tokens(model), official_tokens(g)
    shared = [t for t in ours_tokens if t in src]
    assert set(shared) == set(src)
    base = [5, 17, 42, 101]
    src_ids = torch.tensor([base + [src[t] for t in shared]])
    dst_ids = torch.tensor([base + [ours_tokens[t] for t in shared]])
    converted = videochat_tpo_to_tpo.convert_videochat_tpo(
        official, src_tokens=src, dst_tokens=ours_tokens,
        dst_vocab_size=vocab_rows(model))
    model.load_state_dict(heads_of(model, converted.state_dict))
    with torch.no_grad():
        ref = lm(input_ids=src_ids).logits[0]
        ours = model.llm(input_ids=dst_ids).logits[0]
    nb = g['base_vocab']
    torch.testing.assert_close(ours[:, :nb], ref[:, :nb], rtol=1e-5,
                               atol=1e-5)
    for t in shared:
        torch.testing.assert_close(ours[:, ours_tokens[t]], ref[:, src[t]],
                                   rtol=1e-5, atol=1e-5)
    # A token the release lacks starts at the mean base embedding.
    embed = model.llm.get_input_embeddings().weight
    video = ours_tokens[model.prompt.video_token]
    torch.testing.assert_close(
        embed[video], official['lm.base_model.model.model.embed_tokens.'
                               'weight'][:nb].mean(0))


def test_unmapped_keys_are_reported(converted, official):
    """Nothing is dropped silently: the temporal / mask head parts and the
    unused ones are listed with their reason and prefix."""
    unmapped = converted.unmapped
    # CG-DETR goes to the temporal head (its key names are checked in
    # test_heads/test_cg_detr_head.py), but for two modules the release
    # never runs.
    cg = videochat_tpo_to_tpo.convert_videochat_tpo({
        'cg_model.class_embed.weight': torch.zeros(2, 4),
        'cg_model.txt_proj_linear.net.1.weight': torch.zeros(4, 4)})
    assert list(cg.state_dict) == [
        'heads.temporal.cg_model.class_embed.weight']
    assert cg.unmapped_keys() == ['cg_model.txt_proj_linear.net.1.weight']
    unused = {k for r, keys in unmapped.items() if r.startswith(
        ('unused', 'buffer', 'legacy')) for k in keys}
    assert {'cg_criterion.empty_weight', 'project_down.weight',
            'project_down.bias', 'temporal_embed.layers.0.weight',
            'action_embed.layers.1.bias'} <= unused
    # The mask head: SAM2 and its prompt adapter (SAM2MaskHead).
    assert converted.renamed['sam.image_encoder.neck.convs.0.conv.weight'] \
        == 'heads.mask.sam.image_encoder.neck.convs.0.conv.weight'
    assert converted.renamed['track_embed.layers.0.weight'] == \
        'heads.mask.adapter.layers.0.weight'
    assert converted.renamed['track_embed_decode2.layers.1.bias'] == \
        'heads.mask.aux_box.layers.1.bias'
    assert set(converted.unmapped_keys()) == \
        set(official) - set(converted.renamed)
    assert any('merge_proj.weight' in keys and r.startswith('unused')
               for r, keys in unmapped.items())
    assert 'qformer.bert.embeddings.position_ids' in \
        converted.unmapped_keys()
    report = converted.report(max_keys=None)
    assert 'project_down.* : 2 keys' in report
    assert 'merge_proj.weight' in report
    assert 'unused' in report
    # Vocabulary rows: the placeholder is new, no release row is dropped.
    assert any('<video>' in n and 'new' in n for n in converted.notes)
    assert not any('dropped' in n for n in converted.notes)
    res = videochat_tpo_to_tpo.convert_videochat_tpo(
        {'lm.base_model.model.model.embed_tokens.weight': torch.zeros(9, 2)},
        src_tokens={'<a>': 7, '<b>': 8}, dst_tokens={'<a>': 7},
        dst_vocab_size=8)
    assert any('<b>' in n and 'dropped' in n for n in res.notes)
    odd = videochat_tpo_to_tpo.convert_videochat_tpo(
        {'foo.bar': torch.zeros(1)})
    assert odd.unmapped == {'unknown: no conversion rule': ['foo.bar']}
    assert 'foo.bar' in odd.report()


def test_cli_converts_shards_and_reorders_vocab(tmp_path, official, model,
                                                converted):
    """The tool on a sharded safetensors release: output equals the library
    conversion with TPOModel's token ids (from --config)."""
    tool = videochat_tpo_to_tpo

    src = tmp_path / 'release'
    src.mkdir()
    keys = sorted(official)
    shards = {'model-00001-of-00002.safetensors': keys[::2],
              'model-00002-of-00002.safetensors': keys[1::2]}
    weight_map = {}
    for name, part in shards.items():
        save_file({k: official[k].contiguous() for k in part},
                  str(src / name))
        weight_map.update({k: name for k in part})
    (src / 'model.safetensors.index.json').write_text(
        json.dumps(dict(metadata={}, weight_map=weight_map)))
    (src / 'added_tokens.json').write_text(
        json.dumps(official_tokens(tiny_geometry())))
    assert set(read_state_dict(str(src))) == set(official)

    out = tmp_path / 'converted.safetensors'
    result = tool.main([str(src), str(out), '--config', str(TINY)])
    written = load_file(str(out))
    assert set(written) == set(converted.state_dict)
    for key, value in converted.state_dict.items():
        assert torch.equal(written[key], value), key
    assert set(result.unmapped_keys()) == set(converted.unmapped_keys())
    assert 'merge_proj.weight' in (
        tmp_path / 'converted.report.txt').read_text()

    sharded = tmp_path / 'converted_dir'
    tool.main([str(src), str(sharded)])
    index = json.loads((sharded / 'model.safetensors.index.json').read_text())
    assert set(index['weight_map']) == set(converted.state_dict)
    kept = read_state_dict(str(sharded))
    embed = 'llm.base_model.model.model.embed_tokens.weight'
    assert torch.equal(kept[embed],
                       official['lm.base_model.model.model.embed_tokens.'
                                'weight'])


def test_tpo_added_tokens_agree_with_model(model):
    cfg = Config.fromfile(str(TINY)).model
    tokens, size = tpo_added_tokens(TOKENIZERS.build(cfg.tokenizer), cfg)
    assert tokens == model_added_tokens(model)
    # The release's ids: the added tokens keep 32000-32006 (offset here).
    base = tiny_geometry()['base_vocab']
    assert {t: i for t, i in tokens.items() if t != '<video>'} == \
        official_tokens(tiny_geometry())
    assert tokens['<video>'] == base + 7
    assert size == vocab_rows(model)
