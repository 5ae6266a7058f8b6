"""How a conversation is laid out in tokens for one LLM family."""
from typing import List, Optional, Sequence, Tuple

from transformers import PreTrainedTokenizerBase

from tpo.registry import PROMPT_TEMPLATES

IGNORE_INDEX = -100


def build_prompt_template(cfg: Optional[dict]) -> 'PromptTemplate':
    """A prompt template from a model's ``prompt_template`` config: a
    registered ``type`` with its arguments, or the arguments of
    :class:`PromptTemplate`."""
    cfg = dict(cfg or {})
    cfg.setdefault('type', 'PromptTemplate')
    return PROMPT_TEMPLATES.build(cfg)


@PROMPT_TEMPLATES.register_module()
class PromptTemplate:
    """Turns (question, answer) turns into token ids and LM labels.

    Only answers (and the end-of-turn text after them) are learned; the
    system text, questions, the video placeholder and ``answer_prefix`` get
    ``IGNORE_INDEX`` labels.

    Args:
        system: text placed once before the first turn; ``{instruction}``
            there takes the sample's instruction (e.g. VideoChat2-IT's ``i``).
        user: a user turn; ``{video}`` marks where visual tokens go (first
            turn only) and ``{question}`` the question.
        assistant: an assistant turn around ``{answer}``; the text before
            ``{answer}`` opens the turn at generation time.
        video_token: the placeholder token replaced by visual tokens.
    """

    def __init__(self,
                 system: str = '',
                 user: str = '[INST] {video} {question} [/INST]',
                 assistant: str = ' {answer}</s>',
                 video_token: str = '<video>') -> None:
        if '{answer}' not in assistant:
            raise ValueError(f'assistant template {assistant!r} lacks {{answer}}')
        self.system = system
        self.user = user
        self.assistant_open, self.assistant_close = assistant.split('{answer}')
        self.video_token = video_token

    def _ids(self, tokenizer: PreTrainedTokenizerBase, text: str) -> List[int]:
        return tokenizer(text, add_special_tokens=False)['input_ids'] if text \
            else []

    def _prefix(self, tokenizer, index: int, question: str,
                instruction: str) -> List[int]:
        video = self.video_token if index == 0 else ''
        text = self.user.format(video=video, question=question)
        if index == 0:
            text = self.system.format(instruction=instruction) + text
        return self._ids(tokenizer, text + self.assistant_open)

    def _start(self, tokenizer: PreTrainedTokenizerBase,
               instruction: str) -> List[int]:
        """The ids before the first turn."""
        return [tokenizer.bos_token_id] \
            if tokenizer.bos_token_id is not None else []

    def _turn_prompt(self, tokenizer: PreTrainedTokenizerBase, index: int,
                     question: str, answer_prefix: str,
                     instruction: str) -> List[int]:
        """The ids of turn ``index`` up to where its answer begins."""
        return self._prefix(tokenizer, index, question, instruction) + \
            self._ids(tokenizer, answer_prefix)

    def encode(self, tokenizer: PreTrainedTokenizerBase,
               turns: Sequence[dict],
               answer_prefix: str = '',
               instruction: str = '') -> Tuple[List[int], List[int]]:
        """Token ids and labels of a whole conversation (training)."""
        ids = self._start(tokenizer, instruction)
        labels = [IGNORE_INDEX] * len(ids)
        for i, turn in enumerate(turns):
            prompt = self._turn_prompt(tokenizer, i, turn['question'],
                                       answer_prefix, instruction)
            answer = self._ids(tokenizer,
                               turn['answer'] + self.assistant_close)
            ids += prompt + answer
            labels += [IGNORE_INDEX] * len(prompt) + answer
        return ids, labels

    def encode_prompt(self, tokenizer: PreTrainedTokenizerBase,
                      turns: Sequence[dict],
                      answer_prefix: str = '',
                      instruction: str = '') -> List[int]:
        """Token ids that end where the model must answer the last turn."""
        ids, _ = self.encode(tokenizer, turns[:-1], instruction=instruction)
        return ids + self._turn_prompt(tokenizer, len(turns) - 1,
                                       turns[-1]['question'], answer_prefix,
                                       instruction)
