"""MLLM-TPO: a video MLLM plus task tokens and task heads (Fig. 3, Eq. 1)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from tpo.registry import MODELS, TOKENIZERS
from tpo.structures import TPO_TASKS, TPODataSample
from .llms.prompt_template import IGNORE_INDEX, PromptTemplate
from .task_tokens import TaskTokens

NO_TASK = 'none'


@MODELS.register_module()
class TPOModel(BaseModel):
    """Vision encoder -> connector -> LLM (LoRA) -> task tokens -> task heads.

    Training computes ``L = w_mllm L_mllm + w_assign L_assign + sum_i
    L_task_i``: the LM loss is split into the task-begin tokens of the
    answers (task assignment) and all other answer tokens; each head adds
    its own named losses, computed on the LLM's last hidden state at its
    task token. Inference generates text greedily; when a task-begin token
    is emitted, its task token is fed next and the head decodes the hidden
    state there.

    Args:
        vision_encoder, connector, llm: configs of registered components;
            ``connector`` gets ``vision_dims``/``llm_dims`` filled in.
        tokenizer: config of a ``TOKENIZERS`` builder.
        tasks: ``{task: {'begin': '<box_begin>', 'token': '<boxes>'}}``;
            defaults to :data:`tpo.structures.TPO_TASKS`.
        heads: ``{name: head config}``; each head names the task it serves.
        prompt_template: keyword arguments of :class:`PromptTemplate`.
        lora: keyword arguments of ``peft.LoraConfig``, or None to train or
            freeze the LLM as a whole.
        frozen_modules: attribute paths to freeze (``'vision_encoder'``,
            ``'connector'``, ``'task_tokens'``, ``'heads.region'``, ``'llm'``).
        loss_weights: weights of ``mllm``, ``assign`` and of each task; a
            task weighted 0 skips its head (stage 1).
        max_new_tokens: generation budget at inference.
        connector_instruction: feed the first question to the connector
            (VideoChat2's instruction-aware Q-Former).
        connector_tokenizer: tokenizer of that instruction (e.g. BERT's for
            VideoChat2); None reuses the LLM's.
    """

    def __init__(self,
                 vision_encoder: dict,
                 connector: dict,
                 llm: dict,
                 tokenizer: dict,
                 tasks: Optional[Dict[str, dict]] = None,
                 heads: Optional[Dict[str, dict]] = None,
                 prompt_template: Optional[dict] = None,
                 lora: Optional[dict] = None,
                 frozen_modules: Sequence[str] = (),
                 loss_weights: Optional[Dict[str, float]] = None,
                 max_new_tokens: int = 32,
                 connector_instruction: bool = False,
                 connector_tokenizer: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=MODELS.build(
                data_preprocessor or dict(type='TPODataPreprocessor')),
            init_cfg=init_cfg)
        self.prompt = PromptTemplate(**(prompt_template or {}))
        self.tokenizer = TOKENIZERS.build(tokenizer)
        self.tasks = {
            task: dict(spec)
            for task, spec in (tasks or TPO_TASKS).items()
        }
        special = [self.prompt.video_token]
        for spec in self.tasks.values():
            special += [spec['begin'], spec['token']]
        self.tokenizer.add_special_tokens(
            {'additional_special_tokens': special})
        self.video_id = self.tokenizer.convert_tokens_to_ids(
            self.prompt.video_token)
        self.begin_ids = {
            self.tokenizer.convert_tokens_to_ids(spec['begin']): task
            for task, spec in self.tasks.items()
        }
        self.task_token_ids = {
            task: self.tokenizer.convert_tokens_to_ids(spec['token'])
            for task, spec in self.tasks.items()
        }

        self.vision_encoder = MODELS.build(vision_encoder)
        language_model = MODELS.build(llm)
        num_old = language_model.get_input_embeddings().weight.shape[0]
        language_model.resize_token_embeddings(
            len(self.tokenizer), mean_resizing=True)
        llm_dims = language_model.config.hidden_size
        connector = dict(connector)
        connector.setdefault('vision_dims', self.vision_encoder.embed_dims)
        connector.setdefault('llm_dims', llm_dims)
        self.connector = MODELS.build(connector)
        self.task_tokens = TaskTokens(self.tasks, llm_dims)
        self.task_tokens.init_from_embeddings(
            language_model.get_input_embeddings().weight[:num_old])
        if lora is not None:
            language_model = self._add_lora(language_model, lora)
        self.llm = language_model

        self.heads = nn.ModuleDict()
        for name, head in (heads or {}).items():
            head = dict(head)
            head.setdefault('in_dims', llm_dims)
            self.heads[name] = MODELS.build(head)
            if self.heads[name].task not in self.tasks:
                raise KeyError(
                    f'heads.{name} serves task {self.heads[name].task!r}, '
                    f'which is not in tasks {sorted(self.tasks)}')
        self.loss_weights = dict(mllm=1.0, assign=1.0)
        self.loss_weights.update(loss_weights or {})
        self.max_new_tokens = max_new_tokens
        self.connector_instruction = connector_instruction
        self.connector_tokenizer = TOKENIZERS.build(connector_tokenizer) \
            if connector_tokenizer else self.tokenizer
        self.frozen_modules = tuple(frozen_modules)
        self._freeze()
        self._register_load_state_dict_pre_hook(self._adapt_llm_keys)

    # Parts of parameter names that peft inserts when it wraps the LLM.
    _PEFT_NAME_PARTS = ('base_model.model.', '.token_adapter', '.base_layer',
                        '.original_module',
                        '.modules_to_save.default')

    @classmethod
    def _plain_name(cls, key: str) -> str:
        for part in cls._PEFT_NAME_PARTS:
            key = key.replace(part, '')
        return key

    def _adapt_llm_keys(self, state_dict: dict, prefix: str, *args) -> None:
        """Let a checkpoint of the LLM without LoRA (a previous stage, or
        released weights) load into the LoRA-wrapped LLM: each plain weight
        goes to every parameter that peft derived from it."""
        own = {}
        for key in self.state_dict():
            own.setdefault(self._plain_name(key), []).append(key)
        for key in [k for k in state_dict if k.startswith(prefix + 'llm.')]:
            name = key[len(prefix):]
            targets = own.get(self._plain_name(name), [])
            if name in targets or not targets:
                continue
            value = state_dict.pop(key)
            for target in targets:
                state_dict[prefix + target] = value

    # ------------------------------------------------------------ building
    def _add_lora(self, language_model: nn.Module, lora: dict) -> nn.Module:
        """Wrap the LLM with LoRA; the rows of the task-begin tokens stay
        trainable in the input embeddings and the LM head (unless the whole
        module is in ``modules_to_save``), so that task assignment can be
        learned."""
        from peft import LoraConfig, get_peft_model
        begin_ids = sorted(self.begin_ids)
        lora = dict(lora)
        lora.setdefault('task_type', 'CAUSAL_LM')
        paths = {id(m): n for n, m in language_model.named_modules()}
        names = [
            paths[id(m)].split('.')[-1]
            for m in (language_model.get_input_embeddings(),
                      language_model.get_output_embeddings())
        ]
        saved = set(lora.get('modules_to_save') or ())
        lora.setdefault('trainable_token_indices',
                        {name: begin_ids
                         for name in names if name not in saved})
        return get_peft_model(language_model, LoraConfig(**lora))

    def _freeze(self) -> None:
        for path in self.frozen_modules:
            module = self.get_submodule(path)
            module.eval()
            for param in module.parameters():
                param.requires_grad_(False)

    def train(self, mode: bool = True) -> 'TPOModel':
        super().train(mode)
        for path in self.frozen_modules:
            self.get_submodule(path).eval()
        return self

    # ------------------------------------------------------------ encoding
    def _connector_instruction(self, data_samples: List[TPODataSample],
                               device: torch.device) -> dict:
        """Token ids and mask of each sample's first question."""
        if not self.connector_instruction:
            return {}
        texts = [
            f"{s.get('instruction', '')} {s.conversation[0]['question']}"
            .strip() for s in data_samples
        ]
        tokens = self.connector_tokenizer(
            texts, padding=True, add_special_tokens=False,
            return_tensors='pt').to(device)
        return dict(instruction_ids=tokens['input_ids'],
                    instruction_mask=tokens['attention_mask'])

    def encode_video(self, frames: torch.Tensor,
                     data_samples: List[TPODataSample]
                     ) -> Dict[str, torch.Tensor]:
        """Visual tokens of the encoder and their LLM-space projections."""
        visual_tokens = self.vision_encoder(frames)
        return dict(
            frames=frames,
            visual_tokens=visual_tokens,
            visual_embeds=self.connector(
                visual_tokens,
                **self._connector_instruction(data_samples, frames.device)))

    def _embed(self, ids: List[int],
               visual: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Input embeddings with visual tokens spliced in at the video
        placeholder and task-token embeddings at task tokens.

        Returns the embeddings and the token id at every position (-1 at the
        visual positions).
        """
        ids_t = torch.tensor(ids, device=visual.device)
        where = (ids_t == self.video_id).nonzero().flatten()
        if len(where) != 1:
            raise ValueError(
                f'a prompt must hold exactly one {self.prompt.video_token} '
                f'placeholder, found {len(where)}')
        pos = int(where[0])
        embeds = self.llm.get_input_embeddings()(ids_t)
        for task, token_id in self.task_token_ids.items():
            mask = (ids_t == token_id)[:, None]
            embeds = torch.where(mask, self.task_tokens[task].to(embeds),
                                 embeds)
        embeds = torch.cat(
            [embeds[:pos], visual.to(embeds), embeds[pos + 1:]])
        token_ids = torch.cat(
            [ids_t[:pos],
             ids_t.new_full((len(visual), ), -1), ids_t[pos + 1:]])
        return embeds, token_ids

    def _batch_embeddings(self, visual_embeds: torch.Tensor,
                          data_samples: List[TPODataSample]) -> dict:
        """Right-padded embeddings, labels and token ids of a batch."""
        rows = []
        for visual, sample in zip(visual_embeds, data_samples):
            ids, labels = self.prompt.encode(
                self.tokenizer, sample.conversation,
                sample.get('answer_prefix', ''),
                sample.get('instruction', ''))
            embeds, token_ids = self._embed(ids, visual)
            labels = torch.tensor(labels, device=embeds.device)
            labels = labels[torch.tensor(ids) != self.video_id]
            vis = token_ids == -1
            full_labels = torch.full_like(token_ids, IGNORE_INDEX)
            full_labels[~vis] = labels
            rows.append((embeds, full_labels, token_ids))
        length = max(len(r[0]) for r in rows)
        embeds = torch.stack(
            [F.pad(e, (0, 0, 0, length - len(e))) for e, _, _ in rows])
        labels = torch.stack([
            F.pad(lab, (0, length - len(lab)), value=IGNORE_INDEX)
            for _, lab, _ in rows
        ])
        token_ids = torch.stack(
            [F.pad(t, (0, length - len(t)), value=-1) for _, _, t in rows])
        mask = torch.stack([
            F.pad(torch.ones(len(e), dtype=torch.long, device=e.device),
                  (0, length - len(e))) for e, _, _ in rows
        ])
        return dict(
            inputs_embeds=embeds,
            labels=labels,
            token_ids=token_ids,
            attention_mask=mask)

    # ------------------------------------------------------------ training
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[TPODataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            visual = self.encode_video(inputs, data_samples)
            batch = self._batch_embeddings(visual['visual_embeds'],
                                           data_samples)
            return self.llm(
                inputs_embeds=batch['inputs_embeds'],
                attention_mask=batch['attention_mask']).logits
        raise ValueError(f'unknown mode {mode!r}: use loss, predict, tensor')

    def _lm_losses(self, logits: torch.Tensor,
                   labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Split next-token CE into task assignment and the rest."""
        logits, labels = logits[:, :-1].float(), labels[:, 1:]
        ce = F.cross_entropy(
            logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX,
            reduction='none')
        begin_ids = labels.new_tensor(list(self.begin_ids))
        assign = torch.isin(labels, begin_ids)
        other = (labels != IGNORE_INDEX) & ~assign
        zero = logits.sum() * 0
        losses = {}
        for name, mask in (('mllm', other), ('assign', assign)):
            loss = ce[mask].mean() if mask.any() else zero
            losses[f'loss_{name}'] = self.loss_weights[name] * loss
        return losses

    def _task_embeddings(self, hidden: torch.Tensor, token_ids: torch.Tensor,
                         task: str) -> Tuple[List[int], List[torch.Tensor]]:
        """Samples holding ``task``'s token and their hidden states there."""
        mask = token_ids == self.task_token_ids[task]
        indices = [i for i in range(len(mask)) if mask[i].any()]
        return indices, [hidden[i][mask[i]] for i in indices]

    def loss(self, inputs: torch.Tensor,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        visual = self.encode_video(inputs, data_samples)
        batch = self._batch_embeddings(visual['visual_embeds'], data_samples)
        out = self.llm(
            inputs_embeds=batch['inputs_embeds'],
            attention_mask=batch['attention_mask'],
            output_hidden_states=True)
        losses = self._lm_losses(out.logits, batch['labels'])
        hidden = out.hidden_states[-1]
        for name, head in self.heads.items():
            weight = self.loss_weights.get(head.task, 1.0)
            if weight == 0:
                continue
            indices, embeddings = self._task_embeddings(
                hidden, batch['token_ids'], head.task)
            if not indices:
                # No sample of this task: keep the head and its task token
                # in the graph with a zero term, so DDP sees their grads.
                losses['loss_mllm'] = losses['loss_mllm'] + sum(
                    p.sum() * 0 for p in head.parameters()) + \
                    self.task_tokens[head.task].sum() * 0
                continue
            head_inputs = {
                key: visual[key][indices]
                for key in head.extra_inputs
            }
            head_losses = head.loss(embeddings, head_inputs,
                                    [data_samples[i] for i in indices])
            for key, value in head_losses.items():
                losses[f'{name}.{key}'] = weight * value
        return losses

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def _generate(self, embeds: torch.Tensor
                  ) -> Tuple[List[int], Dict[str, List[torch.Tensor]]]:
        """Greedy decoding with task routing; returns the generated ids and,
        per task, the hidden states at the task tokens that were fed."""
        embed_layer = self.llm.get_input_embeddings()
        out = self.llm(inputs_embeds=embeds[None], use_cache=True)
        cache, logits = out.cache, out.logits[0, -1]
        generated, states = [], {}
        for _ in range(self.max_new_tokens):
            token = int(logits.argmax())
            generated.append(token)
            if token == self.tokenizer.eos_token_id:
                break
            step = embed_layer(logits.new_tensor([token], dtype=torch.long))
            task = self.begin_ids.get(token)
            if task is not None:
                generated.append(self.task_token_ids[task])
                step = torch.cat(
                    [step, self.task_tokens[task][None].to(step)])
            out = self.llm(
                inputs_embeds=step[None],
                cache=cache,
                use_cache=True,
                output_hidden_states=task is not None)
            cache, logits = out.cache, out.logits[0, -1]
            if task is not None:
                states.setdefault(task, []).append(out.hidden_states[-1][0,
                                                                         -1])
        return generated, states

    def predict(self, inputs: torch.Tensor,
                data_samples: List[TPODataSample]) -> List[TPODataSample]:
        visual = self.encode_video(inputs, data_samples)
        heads_by_task = {head.task: head for head in self.heads.values()}
        for b, sample in enumerate(data_samples):
            ids = self.prompt.encode_prompt(self.tokenizer,
                                            sample.conversation,
                                            sample.get('answer_prefix', ''),
                                            sample.get('instruction', ''))
            embeds, _ = self._embed(ids, visual['visual_embeds'][b])
            generated, states = self._generate(embeds)
            if generated and generated[-1] == self.tokenizer.eos_token_id:
                generated = generated[:-1]
            sample.pred_text = self.tokenizer.decode(generated)
            begins = [self.begin_ids[t] for t in generated
                      if t in self.begin_ids]
            sample.pred_task = self.tasks[begins[0]]['begin'] if begins \
                else NO_TASK
            if sample.get('task') in heads_by_task:
                # A sample of a head's task always gets that head's output,
                # empty when the model did not call the task.
                states.setdefault(sample.task, [])
            for task, hidden in states.items():
                head = heads_by_task.get(task)
                if head is None:
                    continue
                embeddings = torch.stack(hidden) if hidden else \
                    visual['visual_embeds'].new_zeros(0, head.in_dims)
                head_inputs = {
                    key: visual[key][b:b + 1]
                    for key in head.extra_inputs
                }
                head.predict([embeddings], head_inputs, [sample])
        return data_samples
