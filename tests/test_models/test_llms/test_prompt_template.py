"""Prompt templates: where turns, the video placeholder and the answers go,
and which ids the LM learns."""
from tpo.models.llms.prompt_template import (IGNORE_INDEX, PromptTemplate,
                                             build_prompt_template)
from tpo.models.llms.videochat_tpo_prompt import VideoChatTPOPromptTemplate

BOS, VIDEO = 1, 2


class CharTokenizer:
    """One id per character (its code point), plus BOS and ``<video>``."""

    bos_token_id = BOS

    def __call__(self, text, add_special_tokens=False):
        ids, rest = [], text
        while rest:
            if rest.startswith('<video>'):
                ids.append(VIDEO)
                rest = rest[len('<video>'):]
            else:
                ids.append(ord(rest[0]))
                rest = rest[1:]
        return dict(input_ids=ids)

    def convert_tokens_to_ids(self, token):
        return VIDEO if token == '<video>' else None


def text(ids):
    return ''.join('^' if i == BOS else '@' if i == VIDEO else chr(i)
                   for i in ids)


TURNS = [dict(question='q1', answer='a1'), dict(question='q2', answer='a2')]


def test_turns_and_learned_answers():
    template = build_prompt_template(dict(
        system='S{instruction}|', user='[{video}{question}]',
        assistant='>{answer}.'))
    assert type(template) is PromptTemplate
    tok = CharTokenizer()
    ids, labels = template.encode(tok, TURNS, instruction='i')
    assert text(ids) == '^Si|[@q1]>a1.[q2]>a2.'
    learned = [i for i, label in zip(ids, labels) if label != IGNORE_INDEX]
    assert text(learned) == 'a1.a2.'
    assert all(label in (IGNORE_INDEX, i) for i, label in zip(ids, labels))
    prompt = template.encode_prompt(tok, TURNS, answer_prefix='A:',
                                    instruction='i')
    assert text(prompt) == '^Si|[@q1]>a1.[q2]>A:'


def test_the_release_layout_tokenizes_in_pieces():
    template = VideoChatTPOPromptTemplate(
        video_open='<V>', video_close='</V>', user=' [{question}]',
        answer_open=' ', answer_close='</s>')
    tok = CharTokenizer()
    ids, labels = template.encode(tok, TURNS[:1])
    assert text(ids) == '^<V>@^</V>^ [q1] a1</s>'
    learned = [i for i, label in zip(ids, labels) if label != IGNORE_INDEX]
    assert text(learned) == 'a1</s>'
    assert text(template.encode_prompt(tok, TURNS)) == \
        '^<V>@^</V>^ [q1] a1</s>^ [q2] '
    assert text(template.encode_prompt(tok, TURNS[1:], answer_prefix='(')) \
        == '^<V>@^</V>^ [q2]('
