# VideoChat2-Mistral + TPO, the paper's main model (Sec. 4) and the layout of
# the released VideoChat-TPO: UMT-L (224px, 16 frames, tubelet 1, the 23rd of
# 24 blocks) -> vision_layernorm -> instruction-aware Q-Former (BERT-base,
# 32 + 64 queries) -> Mistral-7B-Instruct with LoRA -> task tokens -> region
# head, plus the release's box-prompt encoder (<track_box>).
#
# Local files (nothing is downloaded):
#   checkpoints/Mistral-7B-Instruct-v0.2   mistralai/Mistral-7B-Instruct-v0.2
#                                          (LLM and tokenizer; the release's
#                                          added tokens start at id 32000, so
#                                          its base vocabulary is v0.2's)
#   checkpoints/bert-base-uncased          google-bert/bert-base-uncased
#                                          (tokenizer files of the Q-Former's
#                                          instruction)
#   checkpoints/videochat2_stage3_converted.safetensors
#                                          OpenGVLab/VideoChat2_stage3_Mistral_7B
#                                          converted by tools/model_converters/
#                                          videochat2_to_tpo.py (UMT-L and
#                                          Q-Former weights are read from its
#                                          vision_encoder.* / connector.* keys)
# The whole VideoChat2 stage-3 model (with its LLM LoRA) or the released
# VideoChat-TPO (OpenGVLab/VideoChat-TPO, converted by
# tools/model_converters/videochat_tpo_to_tpo.py) is loaded with
# `load_from`; then set the two `pretrained` fields below to None.
videochat2_ckpt = 'checkpoints/videochat2_stage3_converted.safetensors'

# Video input of this model: 16 frames at 224x224 (14x14 patches per frame).
# Referenced by dataset pipelines, not by the model.
videochat2_video = dict(num_frames=16, img_size=224)

model = dict(
    type='TPOModel',
    # ImageNet normalisation, as VideoChat2 / VideoChat-TPO.
    data_preprocessor=dict(
        type='TPODataPreprocessor', mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375)),
    # UMT-L: q/v biases, LayerNorm eps 1e-6 in the blocks, the output of the
    # second-to-last block (23 blocks built), the 1-d sine-cosine table of a
    # 4-frame 14x14 grid stretched to 16 frames (UMT's ckpt_num_frame=4), no
    # encoder-internal norm; VideoChat2's vision_layernorm (eps 1e-12) is the
    # final `norm`.
    vision_encoder=dict(
        type='VideoViT', img_size=224, patch_size=16, num_frames=16,
        tubelet_size=1, embed_dims=1024, depth=24, num_heads=16,
        mlp_ratio=4.0, qkv_bias='qv', out_layer=-2, final_norm=True,
        norm_eps=1e-6, final_norm_eps=1e-12, position_table='1d',
        pos_ckpt_frames=4, pos_ckpt_size=14, pretrained=videochat2_ckpt),
    # The question steers the queries (VideoChat2's qformer_text_input),
    # tokenized by BERT's tokenizer with [DEC] added as bos (vocabulary 30523)
    # and truncated / padded on the left, as the official code does.
    connector_instruction=True,
    connector_tokenizer=dict(
        type='PretrainedTokenizer', path='checkpoints/bert-base-uncased',
        bos_token='[DEC]', truncation_side='left', padding_side='left'),
    # BERT-base Q-Former, cross-attention in every 2nd layer; the visual
    # tokens are already normalised by vision_layernorm (vision_norm=False).
    connector=dict(
        type='QFormerConnector', num_queries=32, num_extra_queries=64,
        vision_norm=False,
        qformer=dict(vocab_size=30523, hidden_size=768, num_hidden_layers=12,
                     num_attention_heads=12, intermediate_size=3072,
                     cross_attention_frequency=2, max_position_embeddings=512,
                     layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
                     attention_probs_dropout_prob=0.1),
        pretrained=videochat2_ckpt),
    llm=dict(
        type='HFCausalLM', pretrained='checkpoints/Mistral-7B-Instruct-v0.2',
        torch_dtype='bfloat16', attn_implementation='sdpa'),
    tokenizer=dict(type='PretrainedTokenizer',
                   path='checkpoints/Mistral-7B-Instruct-v0.2'),
    # Mistral's [INST] template as VideoChat2 / VideoChat-TPO use it: the
    # sample's instruction is prepended, "[INST] <video> question [/INST]"
    # per turn, the answer after a space and closed by </s>.
    prompt_template=dict(
        system='{instruction}',
        user='[INST] {video} {question} [/INST]',
        assistant=' {answer}</s>',
        video_token='<video>'),
    # The region head of the release (loc_decoder): 4096 -> 2048 -> 4, its
    # raw output read as a normalised xyxy box.
    heads=dict(
        region=dict(type='RegionHead', in_dims=4096, hidden_dims=2048,
                    box_coder=dict(type='NormalizedBoxCoder', mode='xyxy'),
                    sigmoid=False,
                    # The paper's MSE (default; why x5, and the
                    # release's 2 x L1 + 0.2 x GIoU to select instead:
                    # configs/_base_/losses/region_losses.py).
                    loss_bbox=dict(type='MSELoss', loss_weight=5.0),
                    loss_iou=None)),
    # LoRA r16 / alpha 32 / dropout 0.1 as the release, which also puts LoRA
    # on lm_head (its checkpoint holds lm_head.lora_A/B): with lm_head a LoRA
    # target, peft's trainable token rows cannot be used there, so they are
    # off (the release trains the task-begin tokens through lm_head's LoRA;
    # their input rows start at the mean embedding). To train without LoRA on
    # lm_head, drop it here and convert with `--merge-lora lm_head`.
    # The release's loc_encoder: a user-given box (normalised xyxy, as the
    # official tracking prompts) -> one input embedding at <track_box>.
    box_prompt_encoder=dict(
        type='BoxPromptEncoder', hidden_dims=2048,
        box_coder=dict(type='NormalizedBoxCoder', mode='xyxy')),
    lora=dict(r=16, lora_alpha=32, lora_dropout=0.1,
              target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj',
                              'gate_proj', 'up_proj', 'down_proj',
                              'lm_head'],
              trainable_token_indices=None),
    frozen_modules=(),
    loss_weights=dict(mllm=1.0, assign=1.0, heads=1.0),
    # bf16 autocast and activation recomputation: what lets 7B train on the
    # paper's GPUs (see docs/memory.md).
    amp_dtype='bfloat16',
    gradient_checkpointing=True,
    max_new_tokens=256,
)
