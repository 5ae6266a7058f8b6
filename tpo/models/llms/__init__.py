from .causal_lm import HFCausalLM
from .prompt_template import IGNORE_INDEX, PromptTemplate
from .tokenizers import (PretrainedTokenizer, SyntheticWorldTokenizer,
                         word_level_tokenizer)

__all__ = [
    'HFCausalLM', 'IGNORE_INDEX', 'PromptTemplate', 'PretrainedTokenizer',
    'SyntheticWorldTokenizer', 'word_level_tokenizer'
]
