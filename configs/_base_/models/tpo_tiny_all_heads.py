# tpo_tiny.py with every task head of the paper (Fig. 3): region (MLP),
# temporal (CG-DETR at toy size) and mask (SAM2), plus the box-prompt
# encoder of tracking prompts. Tracking has no tokens of its own: a LaSOT
# sample answers with the mask tokens (<track_begin><tracking>), its
# question holds the <track_box> placeholder whose embedding encodes the
# first sampled frame's box, and the mask head predicts its masks and boxes
# (the 'track' task spec aliases 'mask'). SAM2 is frozen as in the paper;
# only its mask adapter trains, by prompt distillation.
#
# SAM2 here is SAM2Base of the sam2.1 Hiera-T config at 64 px, shrunk by
# `tiny_sam2` (the same classes, 0.8M parameters instead of 39M): the full
# Hiera-T made every checkpoint of the quick start's chain 160 MB and
# doubled a mask iteration, and a 64 px world needs none of its width.
_base_ = ['./tpo_tiny.py']

tiny_sam2 = dict(
    # Hiera: 4 stages of one block (Hiera-T: 1, 2, 7, 2), 16 channels
    # doubling per stage; at 64 px every window covers its whole stage, so
    # no global-attention blocks are needed.
    image_encoder=dict(
        trunk=dict(embed_dim=16, num_heads=1, stages=[1, 1, 1, 1],
                   global_att_blocks=[],
                   window_pos_embed_bkg_spatial_size=[4, 4]),
        neck=dict(d_model=32, backbone_channel_list=[128, 64, 32, 16],
                  position_encoding=dict(num_pos_feats=32))),
    # memory attention and encoder at the neck's width (Hiera-T: 256, 4
    # layers, FFN 2048), memories of 16 channels (64)
    memory_attention=dict(
        d_model=32, num_layers=1,
        layer=dict(d_model=32, dim_feedforward=64,
                   self_attention=dict(embedding_dim=32),
                   cross_attention=dict(embedding_dim=32, kv_in_dim=16))),
    memory_encoder=dict(
        out_dim=16, in_dim=32, position_encoding=dict(num_pos_feats=16),
        mask_downsampler=dict(embed_dim=32), fuser=dict(layer=dict(dim=32))))

model = dict(
    box_prompt_encoder=dict(type='BoxPromptEncoder'),
    heads=dict(
        temporal=dict(
            type='CGDETRHead',
            # 512 hashed word buckets cover the world's small vocabulary
            text_features=dict(
                type='QueryHashEmbedding', embed_dims=32, num_buckets=512),
            # CG-DETR at toy size (official: 256 wide, 8 heads, 3 + 3
            # layers, 2 T2V layers, 10 queries, 45 dummies, 10 prompts)
            transformer=dict(
                type='CGDETR', dims=32, num_heads=4, ffn_dims=64,
                enc_layers=1, dec_layers=2, t2v_layers=1, num_queries=5,
                num_dummies=3, total_prompts=4),
            # TPO's release weights the temporal (CG-DETR) losses by 0.05.
            loss_weight=0.05),
        mask=dict(
            type='SAM2MaskHead',
            model_cfg='configs/sam2.1/sam2.1_hiera_t.yaml',
            image_size=64,  # SAM2's smallest input (a multiple of 32)
            sam_overrides=tiny_sam2,
            freeze_sam=True,
            hidden_dims=128,  # adapter width (official: the LLM's)
            objectives=('prompt_distill', ))))
