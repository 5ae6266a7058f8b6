# tpo_tiny.py with every task head of the paper (Fig. 3): region (MLP),
# temporal (CG-DETR at toy size) and mask (SAM2), plus the box-prompt
# encoder of tracking prompts. Tracking has no tokens of its own: a LaSOT
# sample answers with the mask tokens (<track_begin><tracking>), its
# question holds the <track_box> placeholder whose embedding encodes the
# first sampled frame's box, and the mask head predicts its masks and boxes
# (the 'track' task spec aliases 'mask'). SAM2 is the tiny Hiera at 64 px
# with random weights (none can be downloaded here), frozen as in the
# paper; only its mask adapter trains, by prompt distillation.
_base_ = ['./tpo_tiny.py']

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
            freeze_sam=True,
            hidden_dims=128,  # adapter width (official: the LLM's)
            objectives=('prompt_distill', ))))
