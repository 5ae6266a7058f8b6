"""tpo.engine.sam2_standin: the miniature's SAM2 stand-in is trained on the
world's masks, cached by its settings, reused, and loads into the mask head
as its frozen pretrained SAM2 (then left out of TPO checkpoints)."""
import os
import os.path as osp

import torch

from tests.conftest import CONFIGS
from tpo.engine.sam2_standin import (WorldMasklets, build_head, clip_losses,
                                     ensure_sam2_standin, head_cfg_of)
from tpo.models.heads.sam2_mask_head import BOX_LABELS
from tpo.registry import MODELS

CONFIG = str(CONFIGS / 'tpo/tiny_stage1.py')


def test_standin_is_cached_by_settings_and_loads(tiny_world, tmp_path):
    cache = str(tmp_path / 'standins')
    path = ensure_sam2_standin(CONFIG, cache, tiny_world, iters=2,
                               batch_size=2, clip_frames=(1, 2))
    stamp = os.stat(path).st_mtime_ns
    assert osp.isfile(osp.splitext(path)[0] + '.json')
    assert not [f for f in os.listdir(cache) if f.startswith('.')]
    # same settings: reused, not retrained
    assert ensure_sam2_standin(CONFIG, cache, tiny_world, iters=2,
                               batch_size=2, clip_frames=(1, 2)) == path
    assert os.stat(path).st_mtime_ns == stamp
    # other settings: another file
    other = ensure_sam2_standin(CONFIG, cache, tiny_world, iters=1,
                                batch_size=2, clip_frames=(1, ))
    assert other != path
    head_cfg, _ = head_cfg_of(CONFIG)
    head = MODELS.build(dict(head_cfg, in_dims=8, pretrained=path))
    assert head.pretrained_submodules == ('sam', )
    random = build_head(head_cfg)
    trained = dict(head.sam.named_parameters())
    assert any(not torch.equal(p, trained[k])
               for k, p in random.sam.named_parameters())


def test_clip_losses_train_sam2_through_memory(tiny_world):
    head_cfg, _ = head_cfg_of(CONFIG)
    torch.manual_seed(0)
    head = build_head(head_cfg)
    data = WorldMasklets(osp.join(tiny_world, 'mevis', 'train'),
                         head.image_size, max_videos=2)
    index = 0
    start = int(data.starts(index, 2)[0])
    frames, masks = data.clip(index, start, 2)
    ys, xs = torch.nonzero(masks[0], as_tuple=True)
    box = torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    box = box.float() / masks.shape[-1]
    terms = clip_losses(head, frames[None], masks[None], box.view(1, 2, 2),
                        torch.tensor([BOX_LABELS]))
    assert set(terms) == {'loss_mask', 'loss_dice', 'loss_iou', 'loss_obj'}
    sum(terms.values()).backward()
    # the second frame's loss reaches the memory encoder and attention
    for name in ('memory_encoder', 'memory_attention', 'image_encoder',
                 'sam_mask_decoder', 'sam_prompt_encoder'):
        grads = [p.grad for p in getattr(head.sam, name).parameters()
                 if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), name
