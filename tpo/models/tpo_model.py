"""MLLM-TPO: a video MLLM plus task tokens and task heads (Fig. 3, Eq. 1)."""
import contextlib
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModel

from tpo.registry import MODELS, TOKENIZERS
from tpo.structures import TPODataSample
from tpo.tasks import NO_TASK, TPO_TASKS, serving_task, task_table
from .grounded_qa import ground_questions
from .heads.head_router import HeadRouter
from .llms.lora import add_lora
from .llms.prompt_template import build_prompt_template
from .llms.vocabulary import add_task_tokens, fit_vocabulary
from .losses.lm_losses import task_assignment_lm_losses
from .task_tokens import TaskTokens
from .utils import (CheckpointKeys, MultimodalSplicer, SpliceModules,
                    TaskRoutingDecoder, check_finite_loss, freeze_modules,
                    instruction_tokens, keep_in_eval, mark_built_initialised)

LOSS_WEIGHT_KEYS = ('mllm', 'assign', 'heads')


@MODELS.register_module()
class TPOModel(BaseModel):
    """Vision encoder -> connector -> LLM (LoRA) -> task tokens -> task heads.

    Training computes ``L = w_mllm L_mllm + w_assign L_assign + w_heads
    sum_i w_i L_task_i``: the LM loss is split into the task-begin tokens of
    the answers (task assignment) and all other answer tokens; each head
    adds its own named losses (weighted by its ``loss_weight`` ``w_i``),
    computed on the LLM's last hidden state at its task token. Inference
    decodes (:class:`~tpo.models.utils.TaskRoutingDecoder`); when a
    task-begin token is emitted its task token is fed next, and the head
    decodes the hidden state there.

    The model assembles and routes; input splicing, decoding, LoRA and
    vocabulary, checkpoint keys and the heads (one per task) live in
    ``utils``, ``llms`` and ``heads.HeadRouter``.

    Args:
        vision_encoder, connector, llm: configs of registered components;
            ``connector`` gets ``vision_dims``/``llm_dims`` filled in
            (where left out or None).
        tokenizer: config of a ``TOKENIZERS`` builder.
        tasks: registered task specs (:mod:`tpo.tasks`) whose tokens the
            model adds and whose heads it may hold; a task aliasing one
            (``'track'`` -> ``'mask'``) is served by its tokens and head.
        heads: ``{name: head config}``; each head names the task it serves.
        prompt_template: a ``PROMPT_TEMPLATES`` config (default type
            ``PromptTemplate``).
        lora: keyword arguments of ``peft.LoraConfig``, or None to train or
            freeze the LLM as a whole.
        frozen_modules: attribute paths to freeze (``'connector'``,
            ``'heads.region'``, ...), besides the heads' own.
        loss_weights: ``mllm``, ``assign`` and ``heads`` (multiplies every
            head's loss; 0 skips the heads, stage 1). A head's own weight
            is its ``loss_weight``.
        max_new_tokens: generation budget at inference.
        connector_instruction: feed the first question to the connector
            (VideoChat2's instruction-aware Q-Former).
        connector_tokenizer: tokenizer of that instruction (e.g. BERT's for
            VideoChat2); None reuses the LLM's.
        box_prompt_encoder: config of a :class:`BoxPromptEncoder`; enables
            ``<track_box>`` placeholders whose embeddings encode the
            sample's ``prompt_bboxes`` (tracking prompts).
        padding_side: where a training batch is padded (``'right'`` or
            ``'left'``); generation pads on the left.
        amp_dtype: e.g. ``'bfloat16'``: forward passes under autocast
            (CPU or GPU); losses stay in float32.
        gradient_checkpointing: recompute the LLM's (and the vision
            encoder's, if it can) activations in the backward pass.
        strict_load: see :class:`~tpo.models.utils.CheckpointKeys`.
        task_token_in_context, last_task_only: how inference calls the
            heads (see :class:`~tpo.models.utils.TaskRoutingDecoder`).
    """

    def __init__(self,
                 vision_encoder: dict,
                 connector: dict,
                 llm: dict,
                 tokenizer: dict,
                 tasks: Sequence[str] = TPO_TASKS,
                 heads: Optional[Dict[str, dict]] = None,
                 prompt_template: Optional[dict] = None,
                 lora: Optional[dict] = None,
                 frozen_modules: Sequence[str] = (),
                 loss_weights: Optional[Dict[str, float]] = None,
                 max_new_tokens: int = 32,
                 connector_instruction: bool = False,
                 connector_tokenizer: Optional[dict] = None,
                 box_prompt_encoder: Optional[dict] = None,
                 padding_side: str = 'right',
                 amp_dtype: Optional[str] = None,
                 gradient_checkpointing: bool = False,
                 strict_load: bool = True,
                 task_token_in_context: bool = True,
                 last_task_only: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=MODELS.build(
                data_preprocessor or dict(type='TPODataPreprocessor')),
            init_cfg=init_cfg)
        self.loss_weights = {**dict(mllm=1.0, assign=1.0, heads=1.0),
                             **(loss_weights or {})}
        if set(self.loss_weights) != set(LOSS_WEIGHT_KEYS):
            raise KeyError(f'loss_weights {self.loss_weights}: the keys are '
                           f'{LOSS_WEIGHT_KEYS}; a head weighs its losses '
                           'with its loss_weight')
        self.prompt = build_prompt_template(prompt_template)
        self.tokenizer = TOKENIZERS.build(tokenizer)
        self.tasks = task_table(tasks)
        num_known, self.task_token_ids, self.begin_ids = add_task_tokens(
            self.tokenizer, self.tasks, box_prompt_encoder is not None,
            self.prompt.video_token)
        self.splicer = MultimodalSplicer(
            self.tokenizer, self.prompt, self.task_token_ids,
            box_prompt_encoder is not None, padding_side)
        self.amp_dtype = getattr(torch, amp_dtype) if amp_dtype else None
        self.vision_encoder = MODELS.build(vision_encoder)
        language_model = MODELS.build(llm)
        fit_vocabulary(language_model, len(self.tokenizer), num_known)
        llm_dims = language_model.config.hidden_size
        widths = dict(vision_dims=self.vision_encoder.embed_dims,
                      llm_dims=llm_dims)
        self.connector = MODELS.build(
            {**connector, **{k: v for k, v in widths.items()
                             if connector.get(k) is None}})
        self.task_tokens = TaskTokens(list(self.tasks), llm_dims)
        self.task_tokens.init_from_embeddings(
            language_model.get_input_embeddings().weight[:num_known])
        if box_prompt_encoder is not None:
            self.box_prompt_encoder = MODELS.build(
                dict(out_dims=llm_dims, **box_prompt_encoder))
        if gradient_checkpointing:
            language_model.activation_checkpointing_enable(
                activation_checkpointing_kwargs=dict(use_reentrant=False))
            if hasattr(self.vision_encoder, 'with_cp'):
                self.vision_encoder.with_cp = True
        self.llm = add_lora(language_model, lora, self.begin_ids) \
            if lora is not None else language_model
        self.heads = HeadRouter(heads or {}, list(self.tasks), dict(
            in_dims=llm_dims, vision_dims=self.vision_encoder.embed_dims))
        self.decoder = TaskRoutingDecoder(
            self.tokenizer.eos_token_id, self.begin_ids, self.task_token_ids,
            max_new_tokens, task_token_in_context, last_task_only)
        self.connector_instruction = connector_instruction
        self.connector_tokenizer = TOKENIZERS.build(connector_tokenizer) \
            if connector_tokenizer else self.tokenizer
        self.frozen_modules = (*frozen_modules, *self.heads.frozen_paths())
        freeze_modules(self, self.frozen_modules)
        parts = dict(vision_encoder=vision_encoder, connector=connector,
                     llm=llm)
        self.checkpoint_keys = CheckpointKeys(
            [name for name, cfg in parts.items() if cfg.get('pretrained')] +
            list(self.heads.pretrained_paths()), strict_load,
            len(self.tokenizer))
        self._register_load_state_dict_pre_hook(self._check_checkpoint)
        self.register_load_state_dict_post_hook(self._drop_checked_missing)

    def head_task(self, task: Optional[str]) -> Optional[str]:
        """The task whose tokens and head serve a sample of ``task``."""
        return serving_task(task, self.tasks)

    def init_weights(self) -> None:
        """mmengine's, but for the modules initialised when built."""
        mark_built_initialised(self)
        super().init_weights()

    def train(self, mode: bool = True) -> 'TPOModel':
        super().train(mode)
        keep_in_eval(self, self.frozen_modules)
        return self

    def state_dict(self, *args, destination=None, prefix: str = '',
                   keep_vars: bool = False) -> dict:
        """Every tensor but the rebuildable ones (see
        :class:`~tpo.models.utils.CheckpointKeys`)."""
        state = super().state_dict(
            *args, destination=destination, prefix=prefix,
            keep_vars=keep_vars)
        return self.checkpoint_keys.filter(self, state, prefix)

    def _check_checkpoint(self, state_dict: dict, prefix: str, *args) -> None:
        self.checkpoint_keys.check(self, state_dict, prefix)

    def _drop_checked_missing(self, module, incompatible) -> None:
        self.checkpoint_keys.drop_checked_missing(incompatible)

    def _autocast(self, device: torch.device):
        return contextlib.nullcontext() if self.amp_dtype is None else \
            torch.autocast(device_type=device.type, dtype=self.amp_dtype)

    def splice_modules(self) -> SpliceModules:
        """The modules whose outputs the splicer places in the inputs."""
        return SpliceModules(self.llm.get_input_embeddings(),
                             self.task_tokens,
                             getattr(self, 'box_prompt_encoder', None))

    def encode_video(self, frames: torch.Tensor,
                     data_samples: List[TPODataSample]
                     ) -> Dict[str, torch.Tensor]:
        """Visual tokens of the encoder and their LLM-space projections."""
        visual_tokens = self.vision_encoder(frames)
        instruction = instruction_tokens(
            self.connector_tokenizer, data_samples,
            self.connector_tokenizer is not self.tokenizer,
            frames.device) if self.connector_instruction else {}
        return dict(
            frames=frames,
            visual_tokens=visual_tokens,
            visual_embeds=self.connector(visual_tokens, **instruction))

    def _llm_forward(self, batch: dict, **kwargs):
        return self.llm(
            inputs_embeds=batch['inputs_embeds'],
            attention_mask=batch['attention_mask'],
            position_ids=batch['position_ids'],
            **kwargs)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[TPODataSample]] = None,
                mode: str = 'tensor',
                **generate_kwargs):
        """``mode='predict'`` passes ``generate_kwargs`` (sampling
        settings, see :meth:`generate`) on to :meth:`predict`."""
        with self._autocast(inputs.device):
            if mode == 'loss':
                return self.loss(inputs, data_samples)
            if mode == 'predict':
                return self.predict(inputs, data_samples, **generate_kwargs)
            if mode == 'tensor':
                visual = self.encode_video(inputs, data_samples)
                batch = self.splicer.training_batch(
                    self.splice_modules(), visual['visual_embeds'],
                    data_samples)
                return self._llm_forward(batch).logits
        raise ValueError(f'unknown mode {mode!r}: use loss, predict, tensor')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        visual = self.encode_video(inputs, data_samples)
        batch = self.splicer.training_batch(
            self.splice_modules(), visual['visual_embeds'], data_samples)
        out = self._llm_forward(batch, output_hidden_states=True)
        mllm, assign = task_assignment_lm_losses(out.logits, batch['labels'],
                                                 self.begin_ids)
        losses = dict(loss_mllm=self.loss_weights['mllm'] * mllm,
                      loss_assign=self.loss_weights['assign'] * assign)
        if self.loss_weights['heads'] == 0:
            return losses
        head_losses, anchor = self.heads.loss(
            out.hidden_states[-1], batch['token_ids'], self.task_token_ids,
            visual, data_samples)
        losses['loss_mllm'] = losses['loss_mllm'] + anchor
        losses.update({k: self.loss_weights['heads'] * v
                       for k, v in head_losses.items()})
        return losses

    def parse_losses(self, losses: Dict[str, torch.Tensor]
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """:meth:`BaseModel.parse_losses` that fails, before the backward
        pass, when the total loss is not finite."""
        loss, log_vars = super().parse_losses(losses)
        check_finite_loss(loss, log_vars)
        return loss, log_vars

    def generate(self, prompts: List[torch.Tensor],
                 **kwargs) -> Tuple[List[List[int]], List[Dict[str, list]]]:
        """Decode from prompt embeddings with task routing (keyword
        arguments: see :meth:`TaskRoutingDecoder.generate`)."""
        return self.decoder.generate(self.llm, self.task_tokens.__getitem__,
                                     prompts, **kwargs)

    def predict(self, inputs: torch.Tensor,
                data_samples: List[TPODataSample],
                **generate_kwargs) -> List[TPODataSample]:
        """Generate answers (``generate_kwargs``: see :meth:`generate`) and
        run the heads of the tasks they call."""
        visual = self.encode_video(inputs, data_samples)
        prompts = self.splicer.prompts(
            self.splice_modules(), visual['visual_embeds'], data_samples)
        all_generated, states = self.generate(prompts, **generate_kwargs)
        for sample, generated in zip(data_samples, all_generated):
            if generated and generated[-1] == self.tokenizer.eos_token_id:
                generated = generated[:-1]
            sample.pred_text = self.tokenizer.decode(generated)
            called = [self.begin_ids[t] for t in generated
                      if t in self.begin_ids] + [None]
            sample.pred_task = self.tasks[called[0]].begin if called[0] \
                else NO_TASK
        self.heads.predict(states, visual, data_samples,
                           [self.head_task(s.get('task'))
                            for s in data_samples])
        ground_questions(self, visual, data_samples)
        return data_samples
