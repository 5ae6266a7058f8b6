"""Time from prompt to structured output: task head vs textualized answer.

    python tools/analysis_tools/benchmark_head_vs_text.py \\
        [--config configs/tpo/tiny_stage3.py] [--checkpoint CKPT] \\
        [--task region|temporal] [--repeats 50] [--device cpu]

Both paths start from the same prompt embeddings (the video encoded and
spliced in once, outside the timing: both paths share that cost) of the
same model, and decode with the same batched KV-cache loop
(``TPOModel.generate``):

(a) **head**: the prefill, whose next token is the task-begin token, one
    step that feeds it with its task token, then the task head on the last
    hidden state (Sec. 3.1);
(b) **text**: the prefill, then one step per token of the structure
    written as text (``tpo.tasks.text_forms``: ``[0.12,0.34,0.56,0.78]``
    for a box, ``[2.0,6.0]`` for a window) and EOS, then the text parsed
    back into pixels / seconds.

The model's own choices are overridden in both paths to emit exactly those
tokens (its weights may be random or trained: the cost is the same), so
both do the work of a model that answers that way. The median and the
minimum of ``--repeats`` interleaved runs of each path and their ratios are
printed (the minimum is the least disturbed by other jobs).
"""
import argparse
import statistics
import time
from typing import Callable, List

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tpo.tasks.text_forms import (box_to_text, text_to_boxes,
                                     text_to_windows, windows_to_text)
from tpo.registry import MODELS
from tpo.structures import TPODataSample

QUESTIONS = dict(
    region='Where is the red circle?',
    temporal='Localize the visual content described by the given textual '
    'query the red circle appears in the video, and output the start and '
    'end timestamps in seconds.')
ORI_SHAPE = (128, 128)  # the synthetic world's frame size
DURATION = 10.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/tpo/tiny_stage3.py')
    parser.add_argument('--checkpoint',
                        help='weights (default: the random initialisation)')
    parser.add_argument('--task', choices=sorted(QUESTIONS),
                        default='region')
    parser.add_argument('--repeats', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def forcing(token_ids: List[int]) -> Callable:
    """A logits processor that makes step ``i`` emit ``token_ids[i]``
    (``chosen``: the tokens of the steps before)."""

    def force(chosen: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.clone()
        logits[:, token_ids[chosen.shape[1]]] = logits.max() + 1
        return logits

    return force


def build_model(args: argparse.Namespace):
    if args.checkpoint:
        from tpo.engine.export import build_model_from_checkpoint
        model, cfg, _ = build_model_from_checkpoint(args.config,
                                                    args.checkpoint)
    else:
        cfg = Config.fromfile(args.config)
        init_default_scope(cfg.get('default_scope', 'tpo'))
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
    return model.to(args.device).eval(), cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    model, cfg = build_model(args)
    heads = {head.task: head for head in model.heads.values()}
    if args.task not in heads:
        raise SystemExit(
            f'{args.config} has no {args.task} head (its heads: '
            f'{sorted(heads)}); configs/tpo/tiny_stage3.py has every head')
    head = heads[args.task]
    encoder = cfg.model.vision_encoder
    frames = torch.randint(
        0, 256, (1, encoder.num_frames, 3, encoder.img_size,
                 encoder.img_size), generator=torch.Generator().manual_seed(0))
    sample = TPODataSample(metainfo=dict(
        conversation=[dict(question=QUESTIONS[args.task], answer='')],
        ori_shape=ORI_SHAPE, duration=DURATION, video_path='benchmark'))
    tokenizer = model.tokenizer
    height, width = ORI_SHAPE
    if args.task == 'region':
        text = box_to_text([15.4, 40.2, 71.9, 99.6], width, height)
        parse = lambda t: text_to_boxes(t, width, height)  # noqa: E731
    else:
        text = windows_to_text([[2.0, 6.0]])
        parse = text_to_windows
    text_ids = tokenizer(text, add_special_tokens=False)['input_ids']
    begin = tokenizer.convert_tokens_to_ids(model.tasks[args.task].begin)

    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[frames[0]], data_samples=[sample]), False)
        visual = model.encode_video(data['inputs'], data['data_samples'])
        ids = model.prompt.encode_prompt(tokenizer, sample.conversation)
        prompt = model.splicer.embed(model.splice_modules(), ids,
                                     visual['visual_embeds'][0], sample)[0]
        head_inputs = {key: visual[key] for key in head.extra_inputs}

    def head_path():
        _, states = model.generate([prompt], max_new_tokens=1,
                                   logits_processor=forcing([begin]))
        out = TPODataSample(metainfo=sample.metainfo)
        head.predict([torch.stack(states[0][args.task])], head_inputs,
                     [out])
        return out

    def text_path():
        generated, _ = model.generate(
            [prompt], max_new_tokens=len(text_ids) + 1,
            logits_processor=forcing(text_ids + [tokenizer.eos_token_id]))
        return parse(tokenizer.decode(generated[0][:-1]))

    check = text_path()
    assert len(check) == 1, f'{text!r} decoded as {check}'
    times = dict(head=[], text=[])
    paths = dict(head=head_path, text=text_path)
    for i in range(args.warmup + args.repeats):
        for name, path in paths.items():
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            start = time.perf_counter()
            path()
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            if i >= args.warmup:
                times[name].append(time.perf_counter() - start)
    head_ms = 1000 * statistics.median(times['head'])
    text_ms = 1000 * statistics.median(times['text'])
    fastest = {name: 1000 * min(t) for name, t in times.items()}
    llm = model.llm.config if hasattr(model.llm, 'config') else None
    result = dict(
        task=args.task, text=text, text_tokens=len(text_ids),
        prompt_tokens=len(prompt), head_ms=head_ms, text_ms=text_ms,
        ratio=text_ms / head_ms, head_min_ms=fastest['head'],
        text_min_ms=fastest['text'],
        ratio_of_minima=fastest['text'] / fastest['head'],
        threads=torch.get_num_threads(),
        device=args.device,
        llm=None if llm is None else
        f'{llm.num_hidden_layers} layers x {llm.hidden_size}')
    print(f'{args.task}: prompt {len(prompt)} tokens, LLM {result["llm"]}, '
          f'{args.device}, {result["threads"]} threads, median (minimum) '
          f'of {args.repeats} runs')
    print(f'(a) head path: prefill + 1 step + {type(head).__name__}: '
          f'{head_ms:.2f} ms ({fastest["head"]:.2f} ms)')
    print(f'(b) text path: prefill + {len(text_ids) + 1} steps '
          f'({text!r} + EOS) + parse: {text_ms:.2f} ms '
          f'({fastest["text"]:.2f} ms)')
    print(f'ratio text / head: {result["ratio"]:.1f}x '
          f'({result["ratio_of_minima"]:.1f}x)')
    return result


if __name__ == '__main__':
    main()
