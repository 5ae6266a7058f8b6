"""Samples, inputs and tiny head configs of the temporal head tests."""
import torch
from mmengine.registry import init_default_scope

from tpo.registry import MODELS
from tpo.structures import TPODataSample

init_default_scope('tpo')

IN_DIMS, VISION_DIMS, FRAMES, TOKENS = 16, 12, 4, 5
# A CG-DETR small enough for CPU tests; every other argument is official.
TINY = dict(transformer=dict(
    type='CGDETR', dims=32, num_heads=4, ffn_dims=64, enc_layers=1,
    dec_layers=2, t2v_layers=1, num_queries=5, num_dummies=3,
    total_prompts=4, input_dropout=0.0, dropout=0.0))
TEXT = dict(type='QueryHashEmbedding', embed_dims=8, num_buckets=64)


def temporal_sample(windows=((2., 5.), ), duration=8.0, vid='v0', qid=0,
                    query='when does the red circle move', **meta):
    sample = TPODataSample(metainfo=dict(
        task='temporal', duration=duration, query=query, vid=vid, qid=qid,
        **meta))
    sample.gt_windows = torch.tensor(windows,
                                     dtype=torch.float32).reshape(-1, 2)
    return sample


def mllm_inputs(batch_size, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(
        frames=torch.randn(batch_size, FRAMES, 3, 8, 8, generator=gen),
        visual_tokens=torch.randn(batch_size, FRAMES * TOKENS, VISION_DIMS,
                                  generator=gen))


def embeddings(batch_size, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(1, IN_DIMS, generator=gen).requires_grad_()
            for _ in range(batch_size)]


def cgdetr_cfg(**kwargs):
    cfg = dict(type='CGDETRHead', vision_dims=VISION_DIMS, text_features=TEXT,
               **TINY)
    cfg.update(kwargs)
    return cfg


def build_head(cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(cfg, in_dims=IN_DIMS))
