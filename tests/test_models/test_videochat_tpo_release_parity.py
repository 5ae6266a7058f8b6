"""The released VideoChat-TPO, run by tpo (every head, and the
InternVideo2-CLIP encoders of its temporal-head inputs), against the official
inference code: ``tests/data/videochat_tpo_release/`` holds what the
release's own code (``app.py`` + ``inference/``, at tiny widths, float32)
answered on one synthetic video, made by ``make_fixture.py`` there. tpo
rebuilds the same weights from their names (``named_weights.py``), converts
them with ``tools/model_converters``' key map, loads them strictly and must
give the same token ids, first-step logits (1e-4), windows and boxes (1e-5)
and masks (IoU >= 0.999). A difference is named in the assertion message;
``docs/backbones.md`` says why where parity is impossible."""
import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

pytest.importorskip('sam2')

from tests._shared import load_tool  # noqa: E402
from tpo.models.utils.state_dict_conversion import (  # noqa: E402
    tpo_added_tokens)
from tpo.models.encoders import (  # noqa: E402
    InternVideo2CLIPText, InternVideo2CLIPVision, clip_frame_indices)
from tpo.models.encoders.internvideo2_clip import (  # noqa: E402
    temporal_endpoint_features)
from tpo.registry import MODELS, TOKENIZERS  # noqa: E402
from tpo.structures import TPODataSample  # noqa: E402

init_default_scope('tpo')
DATA = Path(__file__).resolve().parents[1] / 'data' / 'videochat_tpo_release'
CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
sys.path.insert(0, str(DATA))
from make_fixture import synthetic_video  # noqa: E402
from named_weights import named_state_dict  # noqa: E402

convert_videochat_tpo = load_tool(
    'model_converters/videochat_tpo_to_tpo.py').convert_videochat_tpo
META = json.loads((DATA / 'release_outputs.json').read_text())
ARRAYS = dict(np.load(DATA / 'release_outputs.npz'))
SIZES = META['sizes']
ANSWERS = ('chat', 'temporal', 'region', 'mask')


def tiny_release_cfg(text_encoder_ckpt: str) -> dict:
    """configs/tpo/videochat_tpo_release.py at the fixture's widths."""
    cfg = copy.deepcopy(
        Config.fromfile(str(CONFIGS / 'tpo/videochat_tpo_release.py')).model)
    llm, umt, qformer = SIZES['llm'], SIZES['umt'], SIZES['qformer']
    video = META['video']
    tokenizer = dict(type='TokenizerFile', path=str(DATA / 'tokenizer'))
    cfg.vision_encoder = dict(
        type='VideoViT', img_size=video['size'],
        patch_size=umt['patch_size'], num_frames=video['num_frames'],
        tubelet_size=1, embed_dims=umt['encoder_embed_dim'],
        depth=umt['encoder_depth'], num_heads=umt['encoder_num_heads'],
        mlp_ratio=4.0, qkv_bias='qv', out_layer=-2, final_norm=True,
        norm_eps=1e-6, final_norm_eps=1e-12, position_table='1d',
        pos_ckpt_frames=4, pos_ckpt_size=None)
    cfg.connector = dict(
        type='QFormerConnector', num_queries=SIZES['num_queries'],
        num_extra_queries=SIZES['num_extra_queries'], vision_norm=False,
        qformer=dict(vocab_size=len(SIZES['bert_words']) + 1,
                     cross_attention_frequency=2, max_position_embeddings=64,
                     layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
                     attention_probs_dropout_prob=0.1, **qformer))
    cfg.llm = dict(type='HFCausalLM', attn_implementation='sdpa', config=dict(
        model_type='mistral', vocab_size=400, max_position_embeddings=1024,
        sliding_window=None, tie_word_embeddings=False, **llm))
    cfg.tokenizer = tokenizer
    hidden = llm['hidden_size']
    cfg.heads.region.update(in_dims=hidden, hidden_dims=hidden // 2)
    cfg.box_prompt_encoder.update(hidden_dims=hidden // 2)
    cg = SIZES['cgdetr']
    cfg.heads.temporal.update(
        video_features=dict(type='SampleClipFeatures',
                            dims=SIZES['clip_vision']['clip_embed_dim'],
                            clip_length=1.0),
        transformer=dict(type='CGDETR', dims=cg['hidden_dim'],
                         num_heads=cg['nheads'],
                         ffn_dims=cg['dim_feedforward']))
    encoder = cfg.heads.temporal.text_features.encoder
    encoder['llama'] = dict(
        vocab_size=400, hidden_size=hidden, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
        max_position_embeddings=128)
    # the release builds its LLaMA with the default 768-d text_projection
    encoder.update(tokenizer=tokenizer, pretrained=text_encoder_ckpt,
                   clip_dims=META['clip_manifest'][
                       'text_encoder.text_projection'][1])
    cfg.heads.mask.update(model_cfg='configs/sam2/sam2_hiera_t.yaml',
                          image_size=video['size'])
    cfg.update(amp_dtype=None, gradient_checkpointing=False)
    return cfg.to_dict()


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    """The tiny release in tpo, loaded strictly from the converted
    release-named weights, and the conversion result."""
    from safetensors.torch import save_file
    tmp = tmp_path_factory.mktemp('release')
    clip = named_state_dict(META['clip_manifest'])
    text_ckpt = str(tmp / 'internvideo2_clip_text.safetensors')
    save_file({k: v for k, v in clip.items()
               if k.startswith('text_encoder.')}, text_ckpt)
    cfg = tiny_release_cfg(text_ckpt)
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    dst_tokens, dst_size = tpo_added_tokens(
        TOKENIZERS.build(cfg['tokenizer']), cfg)
    result = convert_videochat_tpo(
        named_state_dict(META['manifest'], META['row_scales']),
        src_tokens=META['tokens'],
        dst_tokens=dst_tokens, dst_vocab_size=dst_size)
    missing, unexpected = model.load_state_dict(result.state_dict,
                                                strict=True)
    return model, result, missing, unexpected


def test_strict_load_of_every_head(release):
    model, result, missing, unexpected = release
    assert missing == [] and unexpected == []
    # every head of the release is built and received weights
    loaded = set(result.state_dict)
    for prefix in ('heads.region.', 'heads.temporal.cg_model.',
                   'heads.mask.adapter.', 'heads.mask.aux_box.',
                   'heads.mask.sam.', 'box_prompt_encoder.',
                   'task_tokens.tokens.'):
        assert any(k.startswith(prefix) for k in loaded), prefix
    # what the release holds and tpo does not build is listed with a reason
    unmapped = result.unmapped_keys()
    assert {k.split('.')[0] for k in unmapped} == {
        'project_down', 'temporal_embed', 'action_embed', 'merge_proj',
        'cg_model'}, result.report()
    assert 'unknown: no conversion rule' not in result.unmapped


def _sample(question: str) -> TPODataSample:
    video = META['video']
    v_feat = ARRAYS['temporal.v_feat']
    return TPODataSample(metainfo=dict(
        task='chat', conversation=[dict(question=question, answer='')],
        duration=float(video['duration']), ori_shape=(video['size'],) * 2,
        img_shape=(video['size'],) * 2, video_path='synthetic.mp4',
        clip_features=v_feat[:, :-2]))


@pytest.fixture(scope='module')
def answers(release):
    model = release[0]
    frames = torch.from_numpy(synthetic_video()).permute(0, 3, 1, 2)
    out = {}
    for name in ANSWERS:
        question = META[name]['question']
        batch = model.data_preprocessor(
            dict(inputs=[frames], data_samples=[_sample(question)]), False)
        first = []

        def keep_first(chosen_ids, logits):
            if chosen_ids.shape[1] == 0:
                first.append(logits[0].float().clone())
            return logits

        ids = model.prompt.encode_prompt(
            model.tokenizer, batch['data_samples'][0].conversation)
        generated = []
        generate = model.generate

        def keep_ids(*args, **kwargs):
            result = generate(*args, **kwargs)
            generated.append(result[0][0])
            return result

        model.generate = keep_ids
        low_res = []
        propagate = model.heads.mask._propagate

        def keep_low_res(*args, **kwargs):
            for out in propagate(*args, **kwargs):
                low_res.append(out['pred_masks'][0, 0].float().clone())
                yield out

        model.heads.mask._propagate = keep_low_res
        decoded = []
        hook = model.heads.mask.sam.sam_mask_decoder.register_forward_hook(
            lambda module, args, out: decoded.append(
                (out[0][0, 0].float().clone(), out[3][0].float().clone())))
        try:
            sample = model(**batch, mode='predict',
                           logits_processor=keep_first)[0]
        finally:
            del model.generate, model.heads.mask._propagate
            hook.remove()
        out[name] = dict(sample=sample, prompt_ids=ids, logits=first[0],
                         generated=generated[0],
                         low_res=torch.stack(low_res) if low_res else None,
                         decoded=decoded)
    return out


def _expand_video(ids, video_id, num_tokens):
    out = []
    for token in ids:
        out += [0] * num_tokens if token == video_id else [token]
    return out


@pytest.mark.parametrize('name', ANSWERS)
def test_prompt_ids_match_the_release(release, answers, name):
    model = release[0]
    num = SIZES['num_queries'] + SIZES['num_extra_queries']
    ids = _expand_video(answers[name]['prompt_ids'], model.splicer.video_id,
                        num)
    assert ids == META[name]['prompt_ids'], (
        'prompt layout differs from app.py process_qa:\n'
        f'tpo     {model.tokenizer.decode(answers[name]["prompt_ids"])!r}\n'
        f'release {META[name]["prompt_text"]!r}')


@pytest.mark.parametrize('name', ANSWERS)
def test_first_step_logits(answers, name):
    ours = answers[name]['logits'].numpy()
    theirs = ARRAYS[f'{name}.first_logits']
    # tpo's vocabulary has one more row, its video placeholder <video>
    # (never a target: its input row is replaced by visual tokens)
    assert len(ours) == len(theirs) + 1
    diff = np.abs(ours[:len(theirs)] - theirs).max()
    assert diff < 1e-4, f'first-step logits differ by {diff:.3g}'
    assert ours.argmax() < len(theirs)


@pytest.mark.parametrize('name', ANSWERS)
def test_generated_token_ids(release, answers, name):
    model = release[0]
    ours, theirs = answers[name]['generated'], META[name]['output_ids']
    assert ours == theirs, (
        f'answer differs: tpo {model.tokenizer.decode(ours)!r} vs release '
        f'{model.tokenizer.decode(theirs)!r}')


def test_temporal_window_and_saliency(answers):
    sample = answers['temporal']['sample']
    window = ARRAYS['temporal.window']  # [start, end, score], 1-s rounded
    ours = sample.pred_windows[0].numpy()
    assert np.abs(ours[:2] - window[:2]).max() < 1e-5, (
        f'window {ours[:2]} vs release {window[:2]}')
    assert abs(ours[2] - window[2]) < 1e-4, (  # the release rounds to 1e-4
        f'window score {ours[2]} vs release {window[2]}')
    raw = ARRAYS['temporal.saliency_raw'][:len(sample.pred_saliency)]
    diff = np.abs(sample.pred_saliency.numpy() - raw).max()
    assert diff < 1e-5, f'saliency differs by {diff:.3g}'


def test_region_box(release, answers):
    # the head's raw (normalised xyxy) box on the release's hidden state
    model = release[0]
    hidden = torch.from_numpy(ARRAYS['region.prompt_token'])
    with torch.no_grad():
        raw = model.heads.region.mlp(hidden).numpy()
    assert np.abs(raw - ARRAYS['region.box']).max() < 1e-5, (
        f'raw box {raw} vs release {ARRAYS["region.box"]}')
    # end to end, in pixels: tpo clips the box to the image, the release's
    # app.py draws it as it comes (here partly outside the frame)
    size = META['video']['size']
    box = np.clip(ARRAYS['region.box'] * size, 0, size)
    ours = answers['region']['sample'].pred_bboxes[0].numpy()
    assert np.abs(ours - box).max() < 1e-5 * size, (
        f'box {ours} vs release {box} (clipped to the image)')


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def test_mask_logits_and_iou(answers):
    size = META['video']['size']
    theirs = np.unpackbits(ARRAYS['mask.masks'], axis=-1)[..., :size]
    ours = answers['mask']['sample'].pred_masks.numpy()
    assert _iou(ours, theirs) >= 0.999, (
        f'mask IoU {_iou(ours, theirs):.4f} over {len(ours)} frames')
    # The tiny random SAM2 segments nothing at logit 0, so the low-resolution
    # logits are compared too, and the masks of their upper half.
    low_ours = answers['mask']['low_res'].numpy()
    low_theirs = ARRAYS['mask.low_res_logits']
    diff = np.abs(low_ours - low_theirs).max()
    assert diff < 1e-3 * max(1.0, np.abs(low_theirs).max()), (
        f'SAM2 low-res mask logits differ by {diff:.3g}')
    # ungated mask-decoder logits, frame by frame, and their masks
    decoded = answers['mask']['decoded']
    dec_ours = np.stack([m.numpy() for m, _ in decoded])
    dec_theirs = ARRAYS['mask.decoder_logits']
    assert dec_ours.shape == dec_theirs.shape, (
        f'{len(dec_ours)} mask-decoder calls vs the release\'s '
        f'{len(dec_theirs)}')
    diff = np.abs(dec_ours - dec_theirs).max()
    assert diff < 1e-3 * max(1.0, np.abs(dec_theirs).max()), (
        f'SAM2 mask-decoder logits differ by {diff:.3g}')
    assert _iou(dec_ours > 0, dec_theirs > 0) >= 0.999
    scores = np.stack([o.numpy() for _, o in decoded])
    assert np.abs(scores - ARRAYS['mask.object_scores']).max() < 1e-3


def test_report(release, answers, capsys):
    """The measured differences (``pytest -s -k report`` prints them; the
    numbers of docs/backbones.md come from here)."""
    lines = []
    for name in ANSWERS:
        theirs = ARRAYS[f'{name}.first_logits']
        ours = answers[name]['logits'].numpy()[:len(theirs)]
        same = answers[name]['generated'] == META[name]['output_ids']
        lines.append(
            f'{name}: max |logit diff| {np.abs(ours - theirs).max():.2e}, '
            f'generated ids identical: {same} '
            f'({len(META[name]["output_ids"])} tokens)')
    sample = answers['temporal']['sample']
    window = ARRAYS['temporal.window']
    ours = sample.pred_windows[0].numpy()
    saliency = sample.pred_saliency.numpy()
    lines.append(
        f'temporal: window diff {np.abs(ours[:2] - window[:2]).max():.2e} s, '
        f'score diff {abs(ours[2] - window[2]):.2e} (release rounds to '
        '1e-4), saliency diff '
        f'{np.abs(saliency - ARRAYS["temporal.saliency_raw"]).max():.2e}')
    with torch.no_grad():
        raw = release[0].heads.region.mlp(
            torch.from_numpy(ARRAYS['region.prompt_token'])).numpy()
    lines.append(f'region: raw box diff '
                 f'{np.abs(raw - ARRAYS["region.box"]).max():.2e}')
    size = META['video']['size']
    theirs = np.unpackbits(ARRAYS['mask.masks'], axis=-1)[..., :size]
    ours = answers['mask']['sample'].pred_masks.numpy()
    dec_ours = np.stack([m.numpy() for m, _ in answers['mask']['decoded']])
    dec_theirs = ARRAYS['mask.decoder_logits']
    lines.append(
        f'mask: IoU {_iou(ours, theirs):.6f} over {len(ours)} frames '
        f'({int(theirs.sum())} release mask pixels: SAM2 gates them off); '
        f'ungated decoder logits max diff '
        f'{np.abs(dec_ours - dec_theirs).max():.2e} (range '
        f'{dec_theirs.min():.2f}..{dec_theirs.max():.2f}), their masks\' '
        f'IoU {_iou(dec_ours > 0, dec_theirs > 0):.6f} '
        f'({int((dec_theirs > 0).sum())} pixels)')
    with capsys.disabled():
        print('\n' + '\n'.join(lines))
    assert len(lines) == len(ANSWERS) + 3

# ------------------------------------------------- InternVideo2-CLIP inputs
VISION = META['sizes']['clip_vision']


def _checkpoint(tmp_path, prefix: str) -> str:
    from safetensors.torch import save_file
    state = named_state_dict(META['clip_manifest'])
    path = str(tmp_path / f'{prefix}.safetensors')
    save_file({k: v for k, v in state.items() if k.startswith(prefix)}, path)
    return path


def tiny_vision(pretrained=None) -> InternVideo2CLIPVision:
    return InternVideo2CLIPVision(
        img_size=META['video']['size'], patch_size=VISION['patch_size'],
        num_frames=8, embed_dims=VISION['embed_dim'], depth=VISION['depth'],
        num_heads=VISION['num_heads'], clip_dims=VISION['clip_embed_dim'],
        pool_heads=VISION['attn_pool_num_heads'], pretrained=pretrained)


def test_vision_tower_matches_the_release(tmp_path):
    model = tiny_vision(_checkpoint(tmp_path, 'vision_encoder.')).eval()
    video = synthetic_video()
    frames = torch.from_numpy(video[clip_frame_indices(16, 4.0)])
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    frames = (frames.permute(0, 3, 1, 2).float() / 255 - mean) / std
    feats = model.clip_features(frames)
    release = ARRAYS['temporal.v_feat']
    assert feats.shape == (3, VISION['clip_embed_dim'])
    diff = (feats - torch.from_numpy(release[:, :-2])).abs().max()
    assert diff < 1e-4, f'clip features differ by {diff:.3g}'
    assert torch.allclose(temporal_endpoint_features(3),
                          torch.from_numpy(release[:, -2:]))


def test_text_encoder_matches_the_release(tmp_path):
    tokenizer = dict(type='TokenizerFile', path=str(DATA / 'tokenizer'))
    encoder = InternVideo2CLIPText(
        llama=dict(vocab_size=400, hidden_size=64, intermediate_size=128,
                   num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=4, max_position_embeddings=128),
        tokenizer=tokenizer,
        clip_dims=META['clip_manifest']['text_encoder.text_projection'][1],
        pretrained=_checkpoint(tmp_path, 'text_encoder.')).eval()
    question = META['temporal']['question']
    ids = encoder.token_ids(question)
    release_ids = [i for i in META['temporal']['clip_text_ids'] if i > 0]
    assert ids == release_ids
    feats = encoder([question])[0]
    diff = (feats - torch.from_numpy(ARRAYS['temporal.q_feat'])).abs().max()
    assert diff < 1e-4, f'word features differ by {diff:.3g}'
