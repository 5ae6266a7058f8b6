"""SAM2 mask head (tiny random-init SAM2 on CPU)."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('sam2')

from tpo.models.heads.sam2_mask_head import SAM2MaskHead  # noqa: E402
from tpo.models.utils import freeze_modules  # noqa: E402
from tpo.registry import MODELS  # noqa: E402
from tpo.structures import TPODataSample  # noqa: E402
from tpo.structures.masks import rle_to_mask  # noqa: E402

IN_DIMS = 16
TINY = 'configs/sam2.1/sam2.1_hiera_t.yaml'
FRAME_HW = (40, 56)  # model input frames
ORI_HW = (60, 84)  # original video frames


def _head(objectives, **kwargs):
    """A head frozen as a model freezes it (its ``frozen_submodules``)."""
    torch.manual_seed(0)
    head = SAM2MaskHead(in_dims=IN_DIMS, hidden_dims=32, model_cfg=TINY,
                        image_size=64, objectives=objectives, **kwargs)
    freeze_modules(head, head.frozen_submodules)
    return head


@pytest.fixture(scope='module')
def head():
    return _head(('prompt_distill', 'pixel'),
                 loss_aux_bbox=dict(type='L1Loss', loss_weight=1.0))


def _sample(num_frames=3, masks=True):
    sample = TPODataSample(metainfo=dict(sample_idx=0, ori_shape=ORI_HW))
    if masks:
        gt = torch.zeros(num_frames, *ORI_HW, dtype=torch.bool)
        for t in range(num_frames):
            gt[t, 10 + 2 * t:35 + 2 * t, 20:50] = True
        sample.gt_masks = gt
    return sample


def _frames(num_frames=3):
    torch.manual_seed(1)
    return torch.randn(1, num_frames, 3, *FRAME_HW)


# ---------------------------------------------------------------- building
def test_missing_pretrained_weights_are_named():
    with pytest.raises(FileNotFoundError,
                       match='SAM2MaskHead.pretrained.*no_such_sam2.pt'):
        SAM2MaskHead(in_dims=IN_DIMS, image_size=64,
                     pretrained='/nonexistent/no_such_sam2.pt')


def test_pretrained_sam2_release_and_converted_tpo_weights(head, tmp_path):
    """SAM2's release layout (a ``model`` dict) and a converted TPO
    checkpoint (keys under ``heads.mask.sam.``) load alike."""
    from safetensors.torch import save_file
    release = tmp_path / 'sam2_tiny.pt'
    torch.save(dict(model=head.sam.state_dict()), release)
    converted = tmp_path / 'tpo.safetensors'
    save_file({f'heads.mask.sam.{k}': v.contiguous()
               for k, v in head.sam.state_dict().items()}, str(converted))
    for path, prefix in ((release, ''), (converted, 'heads.mask.sam.')):
        torch.manual_seed(123)  # another random init, then overwritten
        loaded = SAM2MaskHead(in_dims=IN_DIMS, hidden_dims=32,
                              model_cfg=TINY, image_size=64,
                              pretrained=str(path), pretrained_prefix=prefix)
        assert loaded.pretrained_submodules == ('sam', )
        for (name, a), b in zip(head.sam.state_dict().items(),
                                loaded.sam.state_dict().values()):
            assert torch.equal(a, b), name
    with pytest.raises(RuntimeError, match='missing'):
        SAM2MaskHead(in_dims=IN_DIMS, model_cfg=TINY, image_size=64,
                     pretrained=str(converted), pretrained_prefix='sam.')


def test_declares_sam2_frozen(head):
    assert head.frozen_submodules == ('sam', )
    assert head.pretrained_submodules == ()
    unfrozen = _head(('prompt_distill', ), freeze_sam=False)
    assert unfrozen.frozen_submodules == ()
    assert all(p.requires_grad for p in unfrozen.sam.parameters())
    # the adapter replaces the prompt encoder: 3 tokens of SAM2's width
    assert head(torch.randn(2, IN_DIMS)).shape == (2, 3, 256)


# ---------------------------------------------------------------- training
def test_no_gt_gives_zero_losses(head):
    emb = [torch.randn(1, IN_DIMS, requires_grad=True)]
    sample = TPODataSample(metainfo=dict(sample_idx=0, ori_shape=ORI_HW))
    losses = head.loss(emb, dict(frames=_frames()), [sample])
    assert set(losses) == {'loss_distill', 'loss_mask', 'loss_dice',
                           'loss_iou', 'loss_obj', 'loss_aux_bbox'}
    for value in losses.values():
        assert torch.isfinite(value) and value.item() == 0
    sum(losses.values()).backward()
    assert torch.equal(emb[0].grad, torch.zeros_like(emb[0]))
    # no task token in any sample: zeros, still differentiable
    losses = head.loss([torch.zeros(0, IN_DIMS)], dict(frames=_frames()),
                       [_sample()])
    assert all(v.item() == 0 for v in losses.values())
    sum(losses.values()).backward()


def test_one_gt_gives_positive_losses(head):
    emb = [torch.randn(1, IN_DIMS)]
    losses = head.loss(emb, dict(frames=_frames()), [_sample()])
    for name, value in losses.items():
        assert torch.isfinite(value) and value.item() > 0, name


@pytest.mark.parametrize('objective', ['prompt_distill', 'pixel'])
def test_gradients_reach_embedding_through_adapter(head, objective):
    head.objectives = (objective, )  # the fixture's SAM2, one objective
    try:
        emb = [torch.randn(1, IN_DIMS, requires_grad=True)]
        head.zero_grad()
        losses = head.loss(emb, dict(frames=_frames()), [_sample()])
        sum(losses.values()).backward()
    finally:
        head.objectives = ('prompt_distill', 'pixel')
    assert emb[0].grad is not None and emb[0].grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in head.adapter.parameters())
    assert all(p.grad is None for p in head.sam.parameters())
    # the auxiliary box MLP (official track_embed_decode2) trains as well
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in head.aux_box.parameters())


def test_distill_target_is_sam_box_prompt_of_first_frame(head):
    sample = _sample()
    box = head._gt_box(sample, head._gt_masks(sample, 3), ORI_HW)
    # tight box of frame 0: x 20..50, y 10..35 of an 84 x 60 frame
    assert torch.allclose(box, torch.tensor([20 / 84, 10 / 60, 50 / 84,
                                             35 / 60]))
    # a tracking prompt box (xyxy pixels) takes precedence
    sample.prompt_bboxes = torch.tensor([[0., 0, 42, 30]])
    assert torch.allclose(head._gt_box(sample, None, ORI_HW),
                          torch.tensor([0., 0, 0.5, 0.5]))
    target = head.box_prompt(box)
    assert target.shape == (1, 3, 256)
    prompt = target.clone().requires_grad_()
    assert head.loss_distill(prompt, target).item() == 0


def test_gt_masks_need_one_mask_per_frame(head):
    sample = _sample()
    assert torch.equal(head._gt_masks(sample, 3), sample.gt_masks)
    assert head._gt_masks(_sample(masks=False), 3) is None
    with pytest.raises(ValueError, match='T=5'):
        head._gt_masks(sample, 5)
    undecoded = _sample(masks=False)
    undecoded.set_metainfo(dict(mask_rles=[[None] * 3]))
    with pytest.raises(ValueError, match='mask_rles.*DecodeRLEMasks'):
        head._gt_masks(undecoded, 3)


# ---------------------------------------------------------------- inference
def test_predict_outputs_rles_boxes_and_bitmaps(head):
    num_frames = 5
    sample = _sample(num_frames)
    head.predict([torch.randn(1, IN_DIMS)], dict(frames=_frames(num_frames)),
                 [sample])
    height, width = ORI_HW
    assert len(sample.pred_mask_rles) == num_frames  # propagated to all
    for rle, bitmap in zip(sample.pred_mask_rles, sample.pred_masks):
        assert isinstance(rle['counts'], str)
        decoded = rle_to_mask(rle)
        assert decoded.shape == (height, width)
        assert np.array_equal(decoded, bitmap.numpy())
    assert sample.pred_masks.shape == (num_frames, height, width)
    assert sample.pred_masks.dtype == torch.bool
    boxes = sample.pred_track_bboxes
    assert boxes.shape == (num_frames, 4)
    assert (boxes >= 0).all()
    assert (boxes[:, 0] + boxes[:, 2] <= width).all()
    assert (boxes[:, 1] + boxes[:, 3] <= height).all()
    for box, rle in zip(boxes, sample.pred_mask_rles):
        if rle_to_mask(rle).any():
            coco = dict(size=rle['size'], counts=rle['counts'].encode())
            assert np.allclose(box.numpy(), mask_utils.toBbox(coco))
    assert sample.pred_mask_scores.shape == (num_frames, )


def test_adapter_tokens_replace_sam_box_tokens_exactly(head):
    """Prompting with SAM2's own box tokens through the adapter path equals
    SAM2's box prompt: the tokens land where the prompt encoder's did."""
    frames = _frames(3)[0]
    box = torch.tensor([0.2, 0.1, 0.7, 0.6])
    via_tokens = head.segment(frames, ORI_HW, prompt=head.box_prompt(box))
    via_box = head.segment(frames, ORI_HW, box_norm=box)
    assert torch.equal(via_tokens['masks'], via_box['masks'])
    other = head.segment(frames, ORI_HW, prompt=torch.randn(1, 3, 256) * 5)
    assert not torch.equal(other['masks'], via_box['masks'])


def test_predict_without_task_token_gives_empty_masks(head):
    sample = _sample()
    head.predict([torch.zeros(0, IN_DIMS)], dict(frames=_frames()), [sample])
    assert len(sample.pred_mask_rles) == 3
    assert not sample.pred_masks.any()
    assert not sample.pred_track_bboxes.any()


def test_memory_pruning_does_not_change_long_videos(head, monkeypatch):
    """Past frames beyond SAM2's reach are dropped from the memory bank
    (bounded memory on long videos) without changing any mask."""
    window = head._memory_window()
    assert window >= head.sam.num_maskmem
    frames = torch.randn(window + 3, 3, 32, 32)
    box = torch.tensor([0.2, 0.1, 0.7, 0.6])
    pruned = head.segment(frames, (32, 32), box_norm=box)
    monkeypatch.setattr(head, '_memory_window', lambda: 10**6)
    kept = head.segment(frames, (32, 32), box_norm=box)
    assert torch.equal(pruned['masks'], kept['masks'])
    assert torch.equal(pruned['scores'], kept['scores'])


def test_tpo_checkpoint_leaves_out_frozen_sam2_from_its_checkpoint(
        head, tmp_path):
    """A 7B recipe must not copy SAM2's frozen weights into every
    checkpoint: with `pretrained=` they are rebuilt from that file."""
    from tests.conftest import tiny_model_cfg
    path = tmp_path / 'sam2_tiny.pt'
    torch.save(dict(model=head.sam.state_dict()), path)
    sam = dict(type='SAM2MaskHead', hidden_dims=32, model_cfg=TINY,
               image_size=64)
    for pretrained, kept in ((None, True), (str(path), False)):
        cfg = tiny_model_cfg()
        cfg['heads']['mask'] = dict(sam, pretrained=pretrained)
        model = MODELS.build(cfg)
        keys = set(model.state_dict())
        assert any(k.startswith('heads.mask.sam.') for k in keys) == kept
        assert 'heads.mask.adapter.layers.0.weight' in keys
    # the model freezes what the head declares, and keeps it in eval
    assert 'heads.mask.sam' in model.frozen_modules
    model.train()
    assert not model.heads.mask.sam.training
    assert not any(p.requires_grad for p in model.heads.mask.sam.parameters())
    assert all(p.requires_grad for p in model.heads.mask.adapter.parameters())


@pytest.mark.parametrize('sigmoid', [False, True])
def test_aux_box_is_raw_in_the_release(sigmoid):
    """The release's training terms: L1 between the adapter tokens and
    SAM2's box tokens, plus an L1 box regressed raw by
    ``track_embed_decode2`` (``aux_box``, no sigmoid)."""
    head = _head(('prompt_distill', ),
                 loss_aux_bbox=dict(type='L1Loss', loss_weight=1.0),
                 aux_box_sigmoid=sigmoid)
    emb = torch.randn(1, IN_DIMS)
    box = torch.tensor([0.1, 0.2, 0.5, 0.7])
    sample = TPODataSample(metainfo=dict(ori_shape=(100, 100)))
    sample.prompt_bboxes = torch.tensor([[10., 20., 50., 70.]])
    losses = head.loss([emb], {}, [sample])
    pred = head.aux_box(emb)[0]
    pred = pred.sigmoid() if sigmoid else pred
    assert losses['loss_aux_bbox'].item() == pytest.approx(
        F.l1_loss(pred, box).item(), rel=1e-5)
    target = head.box_prompt(box)
    assert losses['loss_distill'].item() == pytest.approx(
        F.l1_loss(head(emb), target).item(), rel=1e-5)
