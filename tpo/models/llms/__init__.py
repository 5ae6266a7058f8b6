from .causal_lm import HFCausalLM
from .prompt_template import (IGNORE_INDEX, PromptTemplate,
                              build_prompt_template)
from .videochat_tpo_prompt import VideoChatTPOPromptTemplate
from .tokenizers import (PretrainedTokenizer, SyntheticWorldTokenizer,
                         TokenizerFile, word_level_tokenizer)

__all__ = [
    'HFCausalLM', 'IGNORE_INDEX', 'PromptTemplate', 'PretrainedTokenizer',
    'SyntheticWorldTokenizer', 'TokenizerFile', 'VideoChatTPOPromptTemplate',
    'build_prompt_template', 'word_level_tokenizer'
]
