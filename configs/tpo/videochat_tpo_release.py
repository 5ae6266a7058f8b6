# The released VideoChat-TPO (OpenGVLab/VideoChat-TPO; inference code
# OpenGVLab/TPO `inference/` + `app.py`), every head included, as it runs:
# load the converted checkpoint with strict loading (zero missing, zero
# unexpected keys):
#   python tools/model_converters/videochat_tpo_to_tpo.py \
#       checkpoints/VideoChat-TPO checkpoints/videochat_tpo_converted \
#       --config configs/tpo/videochat_tpo_release.py
# Where the release and the paper differ, this config follows the release
# (the recipes videochat_stage*.py follow the paper); docs/backbones.md lists
# every difference. Each setting names the release file it comes from.
_base_ = [
    '../_base_/models/videochat2_umtl_mistral7b.py',
    '../_base_/default_runtime.py', '../_base_/losses/region_losses.py'
]

# ---------------------------------------------------------------- settings
load_from = 'checkpoints/videochat_tpo_converted'
# InternVideo2-CLIP clip features of the videos (temporal head input), cached
# by tools/dataset_converters/extract_clip_features.py with `clip_vision`.
clip_feature_root = 'data/clip_features/internvideo2_clip_1b'
# InternVideo2-CLIP 1B (OpenGVLab/InternVideo2-CLIP-1B-224p-f8) and its
# LLaMA text encoder (chinese_alpaca_lora_7b config + tokenizer).
internvideo2_clip_ckpt = 'checkpoints/InternVideo2-CLIP-1B-224p-f8/1B_clip.pth'
chinese_alpaca = 'checkpoints/chinese_alpaca_lora_7b'
# ---------------------------------------------------------------------------

# app.py temporal_head: InternVideo2 1B vision tower (embed 1408, depth 40,
# 16 heads, mlp 48/11, patch 14, 224 px, 8 frames, qk-norm, layer scale 0.1,
# attention pooling to 768); used offline by extract_clip_features.py.
clip_vision = dict(
    type='InternVideo2CLIPVision', img_size=224, patch_size=14, num_frames=8,
    embed_dims=1408, depth=40, num_heads=16, mlp_ratio=48 / 11,
    qkv_bias=False, init_value=0.1, clip_dims=768, pool_heads=16,
    pretrained=internvideo2_clip_ckpt)

model = dict(
    # The converted release holds the encoder and the Q-Former.
    vision_encoder=dict(pretrained=None),
    connector=dict(pretrained=None),
    # config.json names Mistral-7B-Instruct-v0.3, but its added tokens start
    # at id 32000 (added_tokens.json), which fits only v0.2's vocabulary, as
    # app.py's tokenizer path and the README's model card say: v0.2.
    llm=dict(pretrained='checkpoints/Mistral-7B-Instruct-v0.2'),
    # tokenizer.json as written (its SentencePiece dummy prefix): app.py
    # tokenizes its prompt in pieces that start with a space.
    tokenizer=dict(_delete_=True, type='TokenizerFile',
                   path='checkpoints/Mistral-7B-Instruct-v0.2'),
    # modeling_videochate.py generate_caption / app.py generate: the
    # Q-Former gets no instruction at inference.
    connector_instruction=False,
    connector_tokenizer=None,
    # app.py process_qa: "[INST] <Video>...</Video>[/INST]" then
    # " [INST] question [/INST] ", each piece with its own BOS.
    prompt_template=dict(_delete_=True, type='VideoChatTPOPromptTemplate'),
    # app.py generate: the task token is run beside the answer, before its
    # task-begin token, and left out of the context.
    task_token_in_context=False,
    # app.py generate: one prompt_token, overwritten by each task call; the
    # head of the last call runs.
    last_task_only=True,
    # app.py generate: max_new_tokens = 20.
    max_new_tokens=20,
    heads=dict(
        # modeling_base.py build_bbox_decoder (loc_decoder, 4096 -> 2048 ->
        # 4, raw output) is the region head of the base config, with
        # modeling_videochate.py box_loss (for fine-tuning the release).
        region=_base_.region_loss_release,
        # modeling_base.py build_CGDETR + cg_detr/model.py CGDETRConfig:
        # 770-d video input (768 InternVideo2-CLIP + 2 TEF), 4096-d words
        # from InternVideo2-CLIP's LLaMA with the LLM's task hidden state
        # appended unprojected; app.py temporal_head: 1-s clips, windows
        # rounded to 1 s (PostProcessorDETR clip_length=1 round_multiple).
        # Its words come from the frozen text encoder, run online and
        # unnormalised (app.py extract_text), whose own weights are the
        # InternVideo2-CLIP checkpoint (left out of TPO checkpoints).
        # modeling_videochate.py forward: 0.05 x the CG-DETR losses.
        temporal=dict(
            type='CGDETRHead',
            video_features=dict(type='SampleClipFeatures', dims=768,
                                clip_length=1.0),
            text_features=dict(
                type='EncoderTextFeatures', normalize=False,
                encoder=dict(
                    type='InternVideo2CLIPText',
                    llama=dict(path=chinese_alpaca),
                    tokenizer=dict(type='PretrainedTokenizer',
                                   path=chinese_alpaca),
                    clip_dims=768, max_length=80, max_words=100,
                    pretrained=internvideo2_clip_ckpt)),
            project_task_embedding=False,
            saliency_clip_length=None, window_round=1.0, loss_weight=0.05),
        # modeling_videochate.py: track_embed (4096 -> 4096 -> 3 x 256 SAM
        # prompt tokens) and track_embed_decode2 (4096 -> 4096 -> 4, raw box,
        # L1); modeling_base.py build_sam: SAM2 v1 Hiera-L, frozen; its
        # weights are in the release (sam.*).
        mask=dict(
            type='SAM2MaskHead',
            model_cfg='configs/sam2/sam2_hiera_l.yaml',
            pretrained=None, freeze_sam=True,
            objectives=('prompt_distill', ),
            # app.py mask_head: a tracking request with a box prompts SAM2
            # with the box itself (get_prompt_embeding), not the adapter.
            track_prompt='box',
            loss_aux_bbox=dict(type='L1Loss', loss_weight=1.0),
            aux_box_sigmoid=False)),
)
