"""The prompt layout of the released VideoChat-TPO inference (OpenGVLab/TPO
``app.py`` ``Inference.process_qa`` with its ``MultimodalLlamaTokenizer``).

The release tokenizes its prompt in pieces, each with a BOS token (its
``build_input_ids`` passes the list of added tokens as
``add_special_tokens``, which is truthy): the video turn ``"[INST]
<Video>"`` + the visual tokens + ``"</Video>[/INST]"``, then the question
turn ``" [INST] {question} [/INST] "``. It has no system text and no
history in ``app.py``; earlier turns of a conversation are laid out as
question turns with their answer and ``</s>`` appended (the layout of
``generate_answer``'s history in ``modeling_videochate.py``).

Not reproduced: the app adds ``" The video contains N frames sampled at
... seconds."`` to the video turn when the question contains the word
"timestamp"; the release publishes no training code, so the training
layout (the answer tokenized after the question turn, then ``</s>``) is
this toolkit's.
"""
from typing import List

from transformers import PreTrainedTokenizerBase

from tpo.registry import PROMPT_TEMPLATES
from .prompt_template import PromptTemplate


@PROMPT_TEMPLATES.register_module()
class VideoChatTPOPromptTemplate(PromptTemplate):
    """``[BOS] video_open <video> [BOS] video_close`` then, per turn, ``[BOS]
    user`` (with ``{question}``) followed by the answer.

    Args:
        video_open, video_close: the text around the visual tokens
            (``app.py``: ``"[INST] <Video>"`` and ``"</Video>[/INST]"``).
        user: a question turn (``app.py``: ``" [INST] {question}
            [/INST]"``).
        answer_open: text that opens the answer when no ``answer_prefix``
            is given (``app.py``: a space).
        answer_close: text after an answer (``"</s>"``).
        video_token: the placeholder token replaced by visual tokens.
    """

    def __init__(self,
                 video_open: str = '[INST] <Video>',
                 video_close: str = '</Video>[/INST]',
                 user: str = ' [INST] {question} [/INST]',
                 answer_open: str = ' ',
                 answer_close: str = '</s>',
                 video_token: str = '<video>') -> None:
        super().__init__(system='', user=user,
                         assistant=answer_open + '{answer}' + answer_close,
                         video_token=video_token)
        self.video_open = video_open
        self.video_close = video_close

    def _segment(self, tokenizer: PreTrainedTokenizerBase,
                 text: str) -> List[int]:
        """One piece as the release tokenizes it: BOS, then the text."""
        return [tokenizer.bos_token_id] + self._ids(tokenizer, text)

    def _start(self, tokenizer: PreTrainedTokenizerBase,
               instruction: str) -> List[int]:
        return (self._segment(tokenizer, instruction + self.video_open) +
                [tokenizer.convert_tokens_to_ids(self.video_token)] +
                self._segment(tokenizer, self.video_close))

    def _turn_prompt(self, tokenizer: PreTrainedTokenizerBase, index: int,
                     question: str, answer_prefix: str,
                     instruction: str) -> List[int]:
        return self._segment(
            tokenizer,
            self.user.format(question=question) +
            (answer_prefix or self.assistant_open))
