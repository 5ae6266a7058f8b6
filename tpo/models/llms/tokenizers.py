"""Tokenizer builders: a downloaded model's tokenizer, or a word-level one
for the synthetic world."""
import re
from typing import Dict, Iterable, List, Optional

from tokenizers import (Tokenizer, decoders, models, normalizers,
                        pre_tokenizers)
from transformers import AutoTokenizer, PreTrainedTokenizerBase
from transformers import PreTrainedTokenizerFast

from tpo.registry import TOKENIZERS
from tpo.utils.local_files import require_local_path

SPECIAL_TOKENS = dict(
    pad_token='<pad>', unk_token='<unk>', bos_token='<s>', eos_token='</s>')
PUNCTUATION = list('.,:;?!()[]<>/-\'"%+=*&#@_')


@TOKENIZERS.register_module()
def PretrainedTokenizer(path: str, **kwargs) -> PreTrainedTokenizerBase:
    """The tokenizer saved in a local model folder."""
    require_local_path(path, 'PretrainedTokenizer',
                       ['tokenizer.json or tokenizer.model',
                        'tokenizer_config.json'],
                       'the same hub repository as the LLM weights')
    tokenizer = AutoTokenizer.from_pretrained(
        path, local_files_only=True, **kwargs)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return tokenizer


@TOKENIZERS.register_module()
def TokenizerFile(path: str) -> PreTrainedTokenizerFast:
    """A model folder's ``tokenizer.json`` used exactly as written, with the
    special tokens of its ``tokenizer_config.json`` /
    ``special_tokens_map.json``.

    transformers 5 rebuilds a ``LlamaTokenizer``'s pipeline from the
    vocabulary (a Metaspace pre-tokenizer that prepends no ``▁`` to text
    that starts with a space), so a piece like ``" [INST] ..."`` loses the
    SentencePiece dummy prefix that Mistral's released ``tokenizer.json``
    (a ``Prepend("▁")`` normaliser) and the slow tokenizer add. The
    released VideoChat-TPO tokenizes its prompt in such pieces: this builder
    keeps the file's normaliser.
    """
    import json
    import os.path as osp
    require_local_path(osp.join(path, 'tokenizer.json'), 'TokenizerFile',
                       ['tokenizer.json', 'tokenizer_config.json'],
                       'the same hub repository as the LLM weights')
    special = {}
    for name in ('special_tokens_map.json', 'tokenizer_config.json'):
        file = osp.join(path, name)
        if osp.isfile(file):
            with open(file) as f:
                config = json.load(f)
            for key in ('bos_token', 'eos_token', 'unk_token', 'pad_token'):
                value = config.get(key)
                if isinstance(value, dict):
                    value = value.get('content')
                if value and key not in special:
                    special[key] = value
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=osp.join(path, 'tokenizer.json'), **special)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return tokenizer


def word_level_tokenizer(words: Iterable[str]) -> PreTrainedTokenizerFast:
    """A whitespace/punctuation word tokenizer; digits, single letters and
    punctuation marks are always in the vocabulary."""
    vocab: Dict[str, int] = {w: i for i, w in
                             enumerate(SPECIAL_TOKENS.values())}
    singles = set(PUNCTUATION) | set('0123456789abcdefghijklmnopqrstuvwxyz')
    for word in sorted(set(words) | singles):
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(
        models.WordLevel(vocab, unk_token=SPECIAL_TOKENS['unk_token']))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Punctuation(),
        pre_tokenizers.Digits(individual_digits=True)
    ])
    backend.decoder = decoders.WordPiece(prefix='##', cleanup=True)
    return PreTrainedTokenizerFast(tokenizer_object=backend, **SPECIAL_TOKENS)


@TOKENIZERS.register_module()
def SyntheticWorldTokenizer(
        extra_words: Optional[List[str]] = None) -> PreTrainedTokenizerFast:
    """Word-level tokenizer covering every text of the synthetic world, of
    the instruction templates and of the MVBench prompt (so nothing maps to
    ``<unk>``)."""
    from tpo.datasets.mvbench import ANSWER_PREFIX, mvbench_prompt
    from tpo.datasets.synthetic import world_vocabulary
    from tpo.tasks.templates import template_vocabulary
    words = set(world_vocabulary()) | set(template_vocabulary())
    scaffold = ' '.join(mvbench_prompt('', [''], '')) + ' ' + ANSWER_PREFIX
    words |= set(re.findall(r'[a-z]+', scaffold.lower()))
    words |= set(extra_words or [])
    return word_level_tokenizer(w.lower() for w in words)
