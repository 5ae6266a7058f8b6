"""MLLM-TPO: a video MLLM plus task tokens and task heads (Fig. 3, Eq. 1)."""
import contextlib
import inspect
import logging
import math
from typing import (Callable, Dict, Iterable, List, Optional, Sequence, Set,
                    Tuple)

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from torch import nn

from tpo.registry import MODELS, TOKENIZERS
from tpo.structures import (BOX_PROMPT_TOKEN, OFFICIAL_TOKEN_ORDER,
                            TASK_ALIASES, TPO_TASKS, TPODataSample)
from tpo.utils import describe_sample
from .grounded_qa import ground_questions
from .llms.prompt_template import IGNORE_INDEX, build_prompt_template
from .task_tokens import TaskTokens

NO_TASK = 'none'
# Parameters that peft adds to a plain LLM (fresh when a checkpoint has none).
ADAPTER_KEYS = ('lora_', 'trainable_tokens_delta')


def sample_tokens(logits: torch.Tensor, temperature: float, top_p: float,
                  generator: Optional[torch.Generator] = None
                  ) -> torch.Tensor:
    """One token per row of ``logits`` ``(B, V)``, drawn from the softmax of
    ``logits / temperature`` restricted to the nucleus of mass ``top_p``
    (the most probable token always stays in)."""
    probs = torch.softmax(logits.float() / temperature, -1)
    if top_p < 1:
        sorted_probs, order = probs.sort(-1, descending=True)
        outside = sorted_probs.cumsum(-1) - sorted_probs >= top_p
        sorted_probs = sorted_probs.masked_fill(outside, 0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


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
        task_aliases: ``{task: task whose tokens and head serve it}``;
            defaults to :data:`tpo.structures.TASK_ALIASES`
            (``track='mask'``: a tracking sample answers with the mask
            tokens, the mask head predicts it, and at inference it gets the
            mask head's output even when the mask task is not called).
            Default aliases of a task not in ``tasks``, or of a task that
            ``tasks`` lists itself, are ignored.
        heads: ``{name: head config}``; each head names the task it serves.
        prompt_template: keyword arguments of :class:`PromptTemplate`, or a
            registered ``type`` (``PROMPT_TEMPLATES``) with its arguments.
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
        box_prompt_encoder: config of a :class:`BoxPromptEncoder`; enables
            ``<track_box>`` placeholders whose embeddings encode the
            sample's ``prompt_bboxes`` (tracking prompts).
        padding_side: where a batch is padded, ``'right'`` or ``'left'``
            (positions are counted over real tokens either way); generation
            always pads on the left.
        amp_dtype: e.g. ``'bfloat16'``: run forward passes under
            ``torch.autocast`` (CPU or GPU); losses stay in float32.
        gradient_checkpointing: recompute the LLM's (and, if supported, the
            vision encoder's) activations in the backward pass.
        task_token_in_context: at inference, feed a called task's token
            right after its task-begin token and keep both in the answer
            (the training layout ``<time_begin><temp>``); False runs the
            task token on a side branch before the begin token is fed and
            drops it from the context afterwards, as the released
            VideoChat-TPO's ``app.py`` does.
        last_task_only: at inference, run only the head of the last task
            an answer calls, on its last call (``app.py`` keeps one
            ``prompt_token``, overwritten by each call); False runs the head
            of every called task on all its calls.
        strict_load: loading a checkpoint fails, listing the keys, when it
            has unexpected keys, keys of the wrong shape, or lacks keys that
            neither a ``pretrained`` source nor fresh LoRA adapters provide;
            with False those keys are skipped and logged.

    Checkpoints (``state_dict``) hold every tensor except the frozen weights
    of components built from a ``pretrained`` source (e.g. a 7B LLM's base
    weights, or a head's ``pretrained_submodules`` such as SAM2), unless they
    were loaded from a checkpoint themselves.
    """

    def __init__(self,
                 vision_encoder: dict,
                 connector: dict,
                 llm: dict,
                 tokenizer: dict,
                 tasks: Optional[Dict[str, dict]] = None,
                 task_aliases: Optional[Dict[str, str]] = None,
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
        self.prompt = build_prompt_template(prompt_template)
        self.tokenizer = TOKENIZERS.build(tokenizer)
        self.tasks = {
            task: dict(spec)
            for task, spec in (tasks or TPO_TASKS).items()
        }
        self.task_aliases = self._check_aliases(task_aliases)
        if padding_side not in ('left', 'right'):
            raise ValueError(
                f"padding_side must be 'left' or 'right', got {padding_side!r}")
        self.padding_side = padding_side
        num_known = len(self.tokenizer)
        self.tokenizer.add_special_tokens({
            'additional_special_tokens':
            self._special_tokens(box_prompt_encoder is not None)
        })
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

        # Components loaded from a `pretrained` source: their frozen weights
        # are not written into checkpoints (see `state_dict`).
        self._pretrained_modules = tuple(
            name for name, cfg in (('vision_encoder', vision_encoder),
                                   ('connector', connector), ('llm', llm))
            if cfg.get('pretrained'))
        self._carried_keys: Set[str] = set()
        self.strict_load = strict_load
        self.task_token_in_context = task_token_in_context
        self.last_task_only = last_task_only
        self.amp_dtype = getattr(torch, amp_dtype) if amp_dtype else None

        self.vision_encoder = MODELS.build(vision_encoder)
        language_model = MODELS.build(llm)
        self._fit_vocabulary(language_model, num_known)
        llm_dims = language_model.config.hidden_size
        connector = dict(connector)
        connector.setdefault('vision_dims', self.vision_encoder.embed_dims)
        connector.setdefault('llm_dims', llm_dims)
        self.connector = MODELS.build(connector)
        self.task_tokens = TaskTokens(self.tasks, llm_dims)
        self.task_tokens.init_from_embeddings(
            language_model.get_input_embeddings().weight[:num_known])
        self.box_prompt_id = None
        if box_prompt_encoder is not None:
            self.box_prompt_encoder = MODELS.build(
                dict(out_dims=llm_dims, **box_prompt_encoder))
            self.box_prompt_id = self.tokenizer.convert_tokens_to_ids(
                BOX_PROMPT_TOKEN)
        if gradient_checkpointing:
            language_model.activation_checkpointing_enable(
                activation_checkpointing_kwargs=dict(use_reentrant=False))
            if hasattr(self.vision_encoder, 'with_cp'):
                self.vision_encoder.with_cp = True
        if lora is not None:
            language_model = self._add_lora(language_model, lora)
        self.llm = language_model

        self.heads = nn.ModuleDict()
        for name, head in (heads or {}).items():
            head = dict(head)
            head.setdefault('in_dims', llm_dims)
            if 'vision_dims' in self._head_arguments(head['type']):
                head.setdefault('vision_dims', self.vision_encoder.embed_dims)
            self.heads[name] = MODELS.build(head)
            if self.heads[name].task not in self.tasks:
                raise KeyError(
                    f'heads.{name} serves task {self.heads[name].task!r}, '
                    f'which is not in tasks {sorted(self.tasks)}')
            if self.heads[name].in_dims != llm_dims:
                raise ValueError(
                    f'heads.{name}.in_dims is {self.heads[name].in_dims}, but '
                    f'the task embeddings are {llm_dims} wide (the LLM '
                    'hidden size): remove in_dims to have it filled in')
        self.loss_weights = dict(mllm=1.0, assign=1.0)
        self.loss_weights.update(loss_weights or {})
        self.max_new_tokens = max_new_tokens
        self.connector_instruction = connector_instruction
        self.connector_tokenizer = TOKENIZERS.build(connector_tokenizer) \
            if connector_tokenizer else self.tokenizer
        self.frozen_modules = tuple(frozen_modules)
        self._freeze()
        self._register_load_state_dict_pre_hook(self._before_load)
        self.register_load_state_dict_post_hook(self._after_load)

    def _check_aliases(self, aliases: Optional[Dict[str, str]]
                       ) -> Dict[str, str]:
        """The aliases that apply (see ``task_aliases``); given ones must
        name tasks of the table."""
        if aliases is not None:
            unknown = {a: t for a, t in aliases.items() if t not in self.tasks}
            if unknown:
                raise KeyError(f'task_aliases {unknown} name tasks that are '
                               f'not in tasks {sorted(self.tasks)}')
        return {
            alias: task
            for alias, task in (TASK_ALIASES if aliases is None else
                                aliases).items()
            if task in self.tasks and alias not in self.tasks
        }

    def head_task(self, task: Optional[str]) -> Optional[str]:
        """The task (of ``tasks``) whose tokens and head serve a sample of
        ``task``: itself, or the task it aliases."""
        return self.task_aliases.get(task, task)

    @staticmethod
    def _head_arguments(head_type) -> Set[str]:
        """Constructor arguments of a head type (a registered name or a
        class), so widths the model knows can be filled in."""
        cls = MODELS.get(head_type) if isinstance(head_type, str) \
            else head_type
        return set(inspect.signature(cls).parameters)

    @torch.no_grad()
    def _fit_vocabulary(self, language_model: nn.Module,
                        num_known: int) -> None:
        """Give every token added to the tokenizer an embedding row.

        The tables grow (new rows drawn around the mean row) when the
        tokenizer outgrows them; they never shrink: a vocabulary padded
        beyond the tokenizer (Qwen2: 152064 rows) keeps its size and the
        added tokens take padding rows, set to the mean of the known rows.
        """
        weight = language_model.get_input_embeddings().weight
        if len(self.tokenizer) > weight.shape[0]:
            # Mean resizing draws from the rows' covariance: impossible on
            # the meta device (a model built to count its parameters).
            language_model.resize_token_embeddings(
                len(self.tokenizer), mean_resizing=not weight.is_meta)
            return
        for table in (language_model.get_input_embeddings(),
                      language_model.get_output_embeddings()):
            if table is not None:
                table.weight[num_known:len(self.tokenizer)] = \
                    table.weight[:num_known].mean(0)

    def _special_tokens(self, box_prompts: bool) -> List[str]:
        """Task tokens in the official release's order, then the others,
        then the video placeholder."""
        names = [
            spec[key] for spec in self.tasks.values()
            for key in ('begin', 'token')
        ]
        if box_prompts:
            names.append(BOX_PROMPT_TOKEN)
        ordered = [t for t in OFFICIAL_TOKEN_ORDER if t in names]
        ordered += [t for t in names if t not in ordered]
        return ordered + [self.prompt.video_token]

    # Parts of parameter names that peft inserts when it wraps the LLM.
    _PEFT_NAME_PARTS = ('base_model.model.', '.token_adapter', '.base_layer',
                        '.original_module',
                        '.modules_to_save.default')

    @classmethod
    def _plain_name(cls, key: str) -> str:
        for part in cls._PEFT_NAME_PARTS:
            key = key.replace(part, '')
        return key

    def _adapt_llm_keys(self, state_dict: dict, prefix: str,
                        own_keys: Iterable[str]) -> None:
        """Let a checkpoint of the LLM without LoRA (a previous stage, or
        released weights) load into the LoRA-wrapped LLM: each plain weight
        goes to every parameter that peft derived from it."""
        own = {}
        for key in own_keys:
            own.setdefault(self._plain_name(key), []).append(key)
        for key in [k for k in state_dict if k.startswith(prefix + 'llm.')]:
            name = key[len(prefix):]
            targets = own.get(self._plain_name(name), [])
            if name in targets or not targets:
                continue
            value = state_dict.pop(key)
            for target in targets:
                state_dict[prefix + target] = value

    # ------------------------------------------------------------ checkpoints
    def _rebuildable_keys(self) -> Set[str]:
        """Frozen tensors of ``pretrained`` components that no checkpoint
        loaded: the config rebuilds them, checkpoints leave them out."""
        keys = set()
        names = list(self._pretrained_modules)
        for head_name, head in self.heads.items():
            names += [f'heads.{head_name}.{sub}'
                      for sub in getattr(head, 'pretrained_submodules', ())]
        for name in names:
            module = self.get_submodule(name)
            for key, param in module.named_parameters(remove_duplicate=False):
                if not param.requires_grad:
                    keys.add(f'{name}.{key}')
            keys.update(f'{name}.{key}' for key, _ in
                        module.named_buffers(remove_duplicate=False))
        return keys - self._carried_keys

    def state_dict(self, *args, destination=None, prefix: str = '',
                   keep_vars: bool = False) -> dict:
        state = super().state_dict(
            *args, destination=destination, prefix=prefix,
            keep_vars=keep_vars)
        for key in self._rebuildable_keys():
            state.pop(prefix + key, None)
        return state

    def _before_load(self, state_dict: dict, prefix: str, *args) -> None:
        """Adapt plain LLM keys, then check the checkpoint against the model
        (see ``strict_load``) before any tensor is copied."""
        own = nn.Module.state_dict(self, keep_vars=True)
        self._adapt_llm_keys(state_dict, prefix, own)
        incoming = {
            k[len(prefix):]: k
            for k in state_dict if k.startswith(prefix)
        }
        unexpected = sorted(set(incoming) - set(own))
        mismatched = sorted(
            (k, tuple(state_dict[incoming[k]].shape), tuple(own[k].shape))
            for k in incoming
            if k in own and state_dict[incoming[k]].shape != own[k].shape)
        optional = self._rebuildable_keys()
        if not any(p in k for k in incoming for p in ADAPTER_KEYS):
            optional |= {k for k in own if any(p in k for p in ADAPTER_KEYS)}
        missing = sorted(set(own) - set(incoming) - optional)
        self._load_prefix = prefix
        if unexpected or mismatched or missing:
            message = self._load_report(unexpected, mismatched, missing)
            if self.strict_load:
                raise RuntimeError(
                    message + '\nSet `model.strict_load=False` to skip these '
                    'keys (they are logged).')
            print_log(message + '\nstrict_load=False: these keys are skipped.',
                      logger='current', level=logging.WARNING)
            for key in unexpected + [m[0] for m in mismatched]:
                state_dict.pop(incoming[key])
        skipped = set(unexpected) | {m[0] for m in mismatched}
        self._carried_keys |= set(incoming) - skipped

    def _load_report(self, unexpected: List[str], mismatched: List[tuple],
                     missing: List[str]) -> str:
        lines = ['The checkpoint does not match the model:']
        if unexpected:
            lines.append(f'unexpected keys ({len(unexpected)}): '
                         f'{", ".join(unexpected)}')
        if mismatched:
            lines.append('keys of the wrong shape (checkpoint vs model): ' +
                         ', '.join(f'{k} {a} vs {b}'
                                   for k, a, b in mismatched))
            if any('embed_tokens' in k or 'lm_head' in k
                   for k, _, _ in mismatched):
                lines.append(
                    f'The tokenizer has {len(self.tokenizer)} tokens: the '
                    'checkpoint was saved with another vocabulary (a '
                    'tokenizer without the task tokens, or other added '
                    'tokens).')
        if missing:
            lines.append(f'missing keys ({len(missing)}): '
                         f'{", ".join(missing)}')
        return '\n'.join(lines)

    def _after_load(self, module: nn.Module, incompatible) -> None:
        """Missing keys were checked in ``_before_load``: drop them from the
        report that torch / mmengine print."""
        incompatible.missing_keys[:] = [
            k for k in incompatible.missing_keys
            if not k.startswith(getattr(self, '_load_prefix', ''))
        ]

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

    def init_weights(self) -> None:
        """mmengine's ``init_weights`` (the Runner calls it before
        ``load_from``), leaving out Hugging Face and PEFT modules: they were
        initialised when built, from their pretrained weights or their
        config, and their own ``init_weights`` would re-draw every weight
        they did not load, e.g. LoRA's B matrices, which must start at zero
        so that fresh adapters leave the LLM unchanged."""
        from peft import PeftModel
        from transformers import PreTrainedModel
        for module in self.modules():
            if isinstance(module, (PreTrainedModel, PeftModel)):
                module.is_init = True
        super().init_weights()

    def train(self, mode: bool = True) -> 'TPOModel':
        super().train(mode)
        for path in self.frozen_modules:
            self.get_submodule(path).eval()
        return self

    # ------------------------------------------------------------ encoding
    def _autocast(self, device: torch.device):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.amp_dtype)

    def _connector_instruction(self, data_samples: List[TPODataSample],
                               device: torch.device) -> dict:
        """Token ids and mask of each sample's first question."""
        if not self.connector_instruction:
            return {}
        texts = [
            f"{s.get('instruction', '')} {s.conversation[0]['question']}"
            .strip() for s in data_samples
        ]
        if self.connector_tokenizer is self.tokenizer:
            options = dict(add_special_tokens=False)
        else:
            # Its own (BERT) tokenizer: [CLS] ... [SEP], cut to BERT's
            # length (from the left when the tokenizer says so), as
            # VideoChat2 does.
            options = dict(add_special_tokens=True, truncation=True,
                           max_length=512)
        tokens = self.connector_tokenizer(
            texts, padding=True, return_tensors='pt', **options).to(device)
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

    def _embed(self, ids: List[int], visual: torch.Tensor,
               sample: Optional[TPODataSample] = None
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Input embeddings with visual tokens spliced in at the video
        placeholder, task-token embeddings at task tokens and box-prompt
        embeddings at ``<track_box>`` placeholders.

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
        if self.box_prompt_id is not None:
            embeds = self._embed_box_prompts(ids_t, embeds, sample)
        embeds = torch.cat(
            [embeds[:pos], visual.to(embeds), embeds[pos + 1:]])
        token_ids = torch.cat(
            [ids_t[:pos],
             ids_t.new_full((len(visual), ), -1), ids_t[pos + 1:]])
        return embeds, token_ids

    def _embed_box_prompts(self, ids: torch.Tensor, embeds: torch.Tensor,
                           sample: Optional[TPODataSample]) -> torch.Tensor:
        """The i-th ``<track_box>`` of a prompt takes the encoding of the
        i-th row of the sample's ``prompt_bboxes``."""
        where = (ids == self.box_prompt_id).nonzero().flatten()
        if len(where) == 0:
            if sample is None:
                return embeds
            # The encoder runs for every training sample (on no boxes
            # here), so that every rank runs the same modules and has
            # gradients for its weights (zero ones): DDP and ZeRO-3 need it.
            boxes, shape = embeds.new_zeros(0, 4), (1, 1)
        else:
            boxes = None if sample is None else sample.get('prompt_bboxes')
            if boxes is None or len(boxes) != len(where):
                raise ValueError(
                    f'the prompt holds {len(where)} {BOX_PROMPT_TOKEN} '
                    f'placeholder(s) but the sample has '
                    f'{0 if boxes is None else len(boxes)} prompt_bboxes')
            shape = sample.ori_shape
        codes = self.box_prompt_encoder(
            torch.as_tensor(boxes, device=embeds.device), shape)
        embeds = embeds.clone()
        embeds[where] = codes.to(embeds)
        return embeds

    def _pad(self, rows: List[torch.Tensor], value, side: str) -> torch.Tensor:
        length = max(len(r) for r in rows)
        pads = [(0, 0) * (r.dim() - 1) + ((length - len(r), 0) if side ==
                                           'left' else (0, length - len(r)))
                for r in rows]
        return torch.stack(
            [F.pad(r, pad, value=value) for r, pad in zip(rows, pads)])

    def _stack(self, embeds: List[torch.Tensor], side: str) -> dict:
        """Pad variable-length embedding rows into a batch with its
        attention mask and positions counted over real tokens."""
        mask = self._pad([
            torch.ones(len(e), dtype=torch.long, device=e.device)
            for e in embeds
        ], 0, side)
        return dict(
            inputs_embeds=self._pad(embeds, 0.0, side),
            attention_mask=mask,
            position_ids=(mask.cumsum(1) - 1).clamp(min=0))

    def _batch_embeddings(self, visual_embeds: torch.Tensor,
                          data_samples: List[TPODataSample]) -> dict:
        """Padded embeddings, labels and token ids of a batch."""
        rows, all_labels, all_ids = [], [], []
        for visual, sample in zip(visual_embeds, data_samples):
            ids, labels = self.prompt.encode(
                self.tokenizer, sample.conversation,
                sample.get('answer_prefix', ''),
                sample.get('instruction', ''))
            embeds, token_ids = self._embed(ids, visual, sample)
            labels = torch.tensor(labels, device=embeds.device)
            labels = labels[torch.tensor(ids) != self.video_id]
            full_labels = torch.full_like(token_ids, IGNORE_INDEX)
            full_labels[token_ids != -1] = labels
            rows.append(embeds)
            all_labels.append(full_labels)
            all_ids.append(token_ids)
        batch = self._stack(rows, self.padding_side)
        batch['labels'] = self._pad(all_labels, IGNORE_INDEX,
                                    self.padding_side)
        batch['token_ids'] = self._pad(all_ids, -1, self.padding_side)
        return batch

    def _llm_forward(self, batch: dict, **kwargs):
        return self.llm(
            inputs_embeds=batch['inputs_embeds'],
            attention_mask=batch['attention_mask'],
            position_ids=batch['position_ids'],
            **kwargs)

    # ------------------------------------------------------------ training
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
                batch = self._batch_embeddings(visual['visual_embeds'],
                                               data_samples)
                return self._llm_forward(batch).logits
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
        return indices, [hidden[i][mask[i]].float() for i in indices]

    def loss(self, inputs: torch.Tensor,
             data_samples: List[TPODataSample]) -> Dict[str, torch.Tensor]:
        visual = self.encode_video(inputs, data_samples)
        batch = self._batch_embeddings(visual['visual_embeds'], data_samples)
        out = self._llm_forward(batch, output_hidden_states=True)
        losses = self._lm_losses(out.logits, batch['labels'])
        hidden = out.hidden_states[-1]
        # Samples reach a head through its task token in their answers: a
        # sample of an alias (tracking) carries the aliased task's token
        # (FormatTaskConversation) and is that head's.
        for name, head in self.heads.items():
            weight = self.loss_weights.get(head.task, 1.0)
            if weight == 0:
                continue
            # Every trainable head parameter gets a gradient on every rank,
            # whichever tasks and branches this rank's batch reaches: DDP
            # and DeepSpeed ZeRO-3 reduce the same gradients everywhere.
            losses['loss_mllm'] = losses['loss_mllm'] + sum(
                p.sum() * 0 for p in head.parameters() if p.requires_grad)
            indices, embeddings = self._task_embeddings(
                hidden, batch['token_ids'], head.task)
            if not indices:
                continue
            self._check_gt_fields(name, head,
                                  [data_samples[i] for i in indices])
            head_inputs = {
                key: visual[key][indices]
                for key in head.extra_inputs
            }
            # Heads and their losses run in float32, also under autocast.
            with torch.autocast(inputs.device.type, enabled=False):
                head_losses = head.loss(embeddings, head_inputs,
                                        [data_samples[i] for i in indices])
            for key, value in head_losses.items():
                losses[f'{name}.{key}'] = weight * value
        return losses

    def parse_losses(self, losses: Dict[str, torch.Tensor]
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """:meth:`BaseModel.parse_losses` that fails before the backward
        pass when the total loss is NaN or infinite, naming the iteration
        (1-based, as logged) and the loss terms at fault: the weights are
        not updated with it."""
        loss, log_vars = super().parse_losses(losses)
        # One host sync per iteration; the terms are looked at only when the
        # total is not finite (any non-finite term makes it so).
        if not isinstance(loss, torch.Tensor) or torch.isfinite(loss).all():
            return loss, log_vars
        values = {k: v.item() for k, v in log_vars.items() if 'loss' in k}
        bad = [k for k, v in values.items()
               if k != 'loss' and not math.isfinite(v)] or ['loss']
        iteration = MessageHub.get_current_instance().get_info('iter')
        where = '' if iteration is None else f'iteration {iteration + 1}: '
        terms = ', '.join(f"loss term '{k}' is {values[k]}" for k in bad)
        all_terms = ', '.join(f'{k}={v:.4g}' for k, v in values.items())
        raise FloatingPointError(
            f'{where}{terms} ({all_terms}). The backward pass and optimizer '
            'step of this batch were not run. Usual causes: a learning rate '
            'too high for the module behind that term (lower optimizer.lr or '
            'its lr_mult in optim_wrapper.paramwise_cfg.custom_keys, or warm '
            'up longer), no gradient clipping (optim_wrapper.clip_grad='
            "dict(max_norm=1.0)), float16 overflow (use model.amp_dtype="
            "'bfloat16'), or a degenerate sample in this batch (e.g. an "
            'empty box). The last checkpoint holds finite weights. '
            '`tools/train.py CONFIG --resume` continues from it with the '
            "checkpoint's learning rates and schedule and the same batches: "
            'fix what the checkpoint does not hold (clip_grad, amp_dtype, '
            'the data) before resuming; to lower a learning rate, start '
            'from its weights instead (`--cfg-options load_from=<last '
            'checkpoint>`).')

    @staticmethod
    def _check_gt_fields(name: str, head: nn.Module,
                         samples: List[TPODataSample]) -> None:
        """Fail, naming the head, field and sample, when a sample routed to
        a head lacks a target field the head declares."""
        for sample in samples:
            missing = [f for f in getattr(head, 'gt_fields', ())
                       if f not in sample]
            if missing:
                raise KeyError(
                    f'heads.{name} ({type(head).__name__}) needs {missing} '
                    f'in its {head.task!r} samples, but '
                    f'{describe_sample(sample.to_dict())} has none: does '
                    'its dataset provide these targets?')

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def generate(self,
                 prompts: List[torch.Tensor],
                 max_new_tokens: Optional[int] = None,
                 do_sample: bool = False,
                 temperature: float = 1.0,
                 top_p: float = 1.0,
                 generator: Optional[torch.Generator] = None,
                 logits_processor: Optional[Callable[[int, torch.Tensor],
                                                     torch.Tensor]] = None
                 ) -> Tuple[List[List[int]], List[Dict[str, list]]]:
        """Batched decoding with task routing, greedy by default.

        Prompts (input embeddings) are left-padded. When a sample emits a
        task-begin token, its task token is fed in the same step right
        after it (the KV cache is kept) and the last hidden state there is
        recorded for the task's head; the other samples pad that step.

        Args:
            prompts: one ``(L_i, C)`` embedding row per sample.
            max_new_tokens: decoding steps; defaults to the model's
                ``max_new_tokens``.
            do_sample: draw each token from the softmax of the logits over
                ``temperature``, restricted to the smallest set of tokens
                whose probability reaches ``top_p`` (nucleus sampling);
                else take the argmax.
            generator: random generator of the draws (reproducible
                sampling).
            logits_processor: ``(step, logits (B, V)) -> logits``, applied
                before each choice (e.g. to force tokens).

        Returns, per sample, the generated ids (task tokens included, up to
        EOS) and ``{task: [hidden states]}``.
        """
        if do_sample and not (temperature > 0 and 0 < top_p <= 1):
            raise ValueError(
                'sampling needs temperature > 0 and 0 < top_p <= 1, got '
                f'temperature={temperature}, top_p={top_p}')
        max_new_tokens = self.max_new_tokens if max_new_tokens is None \
            else max_new_tokens
        if max_new_tokens < 1:
            raise ValueError(
                f'max_new_tokens must be >= 1, got {max_new_tokens}')
        num = len(prompts)
        embed_layer = self.llm.get_input_embeddings()
        batch = self._stack(prompts, 'left')
        mask, positions = batch['attention_mask'], batch['position_ids'][:, -1]
        out = self._llm_forward(batch, use_cache=True)
        cache, logits = out.cache, out.logits[:, -1]
        generated = [[] for _ in range(num)]
        states = [{} for _ in range(num)]
        done = [False] * num
        for step_index in range(max_new_tokens):
            if logits_processor is not None:
                logits = logits_processor(step_index, logits)
            tokens = (sample_tokens(logits, temperature, top_p, generator)
                      if do_sample else logits.argmax(-1)).tolist()
            steps, routed = [], []
            for i, token in enumerate(tokens):
                if done[i]:
                    steps.append(None)
                    routed.append(None)
                    continue
                generated[i].append(token)
                done[i] = token == self.tokenizer.eos_token_id
                task = self.begin_ids.get(token)
                step = embed_layer(logits.new_tensor([token],
                                                     dtype=torch.long))
                if task is not None and not done[i] and \
                        self.task_token_in_context:
                    generated[i].append(self.task_token_ids[task])
                    step = torch.cat(
                        [step, self.task_tokens[task][None].to(step)])
                steps.append(step)
                routed.append(task)
            if not self.task_token_in_context and any(routed):
                for i, hidden in self._task_token_branch(
                        routed, cache, mask, positions).items():
                    states[i].setdefault(routed[i], []).append(hidden)
                routed = [None] * num
            if all(done):
                break
            live = [s for s in steps if s is not None]
            width = max(len(s) for s in live)
            step_mask = torch.zeros(num, width, dtype=torch.long,
                                    device=mask.device)
            rows = []
            for i, step in enumerate(steps):
                if step is None:
                    step = live[0].new_zeros(1, live[0].shape[-1])
                else:
                    step_mask[i, :len(step)] = 1
                rows.append(F.pad(step, (0, 0, 0, width - len(step))))
            step_pos = positions[:, None] + step_mask.cumsum(1)
            positions = step_pos[:, -1]
            mask = torch.cat([mask, step_mask], 1)
            out = self.llm(
                inputs_embeds=torch.stack(rows),
                attention_mask=mask,
                position_ids=step_pos,
                cache=cache,
                use_cache=True,
                output_hidden_states=any(routed))
            cache = out.cache
            last = (step_mask.sum(1) - 1).clamp(min=0)
            rows_idx = torch.arange(num, device=last.device)
            logits = out.logits[rows_idx, last]
            for i, task in enumerate(routed):
                if task is not None:
                    states[i].setdefault(task, []).append(
                        out.hidden_states[-1][i, last[i]].float())
        return generated, states

    def _task_token_branch(self, routed: List[Optional[str]], cache,
                           mask: torch.Tensor, positions: torch.Tensor
                           ) -> Dict[int, torch.Tensor]:
        """The release's way of calling a head (``app.py`` ``generate``):
        the task token alone is run right after the context, *before* its
        task-begin token is fed, and the cache is restored afterwards, so
        that neither the task token nor its id enter the answer. Returns the
        last hidden state at the task token of each routed sample."""
        rows = []
        for task in routed:
            rows.append(self.task_tokens[task][None] if task is not None
                        else self.task_tokens[next(iter(self.tasks))][None]
                        * 0)
        live = torch.tensor([[task is not None] for task in routed],
                            dtype=mask.dtype, device=mask.device)
        length = cache.get_seq_length()
        dtype = self.llm.get_input_embeddings().weight.dtype
        out = self.llm(
            inputs_embeds=torch.stack(rows).to(mask.device, dtype),
            attention_mask=torch.cat([mask, live], 1),
            position_ids=positions[:, None] + 1,
            cache=cache,
            use_cache=True,
            output_hidden_states=True)
        cache.crop(length - cache.get_seq_length())  # drop the task token
        return {
            i: out.hidden_states[-1][i, 0].float()
            for i, task in enumerate(routed) if task is not None
        }

    def predict(self, inputs: torch.Tensor,
                data_samples: List[TPODataSample],
                **generate_kwargs) -> List[TPODataSample]:
        """Generate answers (``generate_kwargs``: see :meth:`generate`) and
        run the heads of the tasks they call."""
        visual = self.encode_video(inputs, data_samples)
        heads_by_task = {head.task: head for head in self.heads.values()}
        prompts = []
        for b, sample in enumerate(data_samples):
            ids = self.prompt.encode_prompt(self.tokenizer,
                                            sample.conversation,
                                            sample.get('answer_prefix', ''),
                                            sample.get('instruction', ''))
            prompts.append(
                self._embed(ids, visual['visual_embeds'][b], sample)[0])
        all_generated, all_states = self.generate(prompts, **generate_kwargs)
        for b, (sample, generated, states) in enumerate(
                zip(data_samples, all_generated, all_states)):
            if generated and generated[-1] == self.tokenizer.eos_token_id:
                generated = generated[:-1]
            sample.pred_text = self.tokenizer.decode(generated)
            begins = [self.begin_ids[t] for t in generated
                      if t in self.begin_ids]
            sample.pred_task = self.tasks[begins[0]]['begin'] if begins \
                else NO_TASK
            if self.last_task_only and begins:
                states = {begins[-1]: states[begins[-1]][-1:]}
            task = self.head_task(sample.get('task'))
            if task in heads_by_task:
                # A sample of a head's task (or of an alias of it: tracking
                # -> mask) always gets that head's output, empty when the
                # model did not call the task.
                states.setdefault(task, [])
            for task, hidden in states.items():
                head = heads_by_task.get(task)
                if head is None:
                    continue
                embeddings = torch.stack(hidden) if hidden else \
                    visual['visual_embeds'].new_zeros(0, head.in_dims).float()
                head_inputs = {
                    key: visual[key][b:b + 1]
                    for key in head.extra_inputs
                }
                # Heads run in float32, also under autocast (as in `loss`).
                with torch.autocast(inputs.device.type, enabled=False):
                    head.predict([embeddings], head_inputs, [sample])
        ground_questions(self, visual, data_samples, heads_by_task)
        return data_samples
