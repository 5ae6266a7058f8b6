"""Ask a video a question and look at the answer.

    python tools/demo.py VIDEO "PROMPT" [--config CONFIG --checkpoint CKPT]
        [--out-dir DIR] [--box X1 Y1 X2 Y2] [--task TASK] [--gt-window S E]

Prints the answer and writes into ``--out-dir``: ``result.json`` (the
:class:`tpo.apis.TPOInferencer` dict), ``frames.png`` (the sampled frames
with boxes and masks drawn), ``predictions.gif`` (or ``.mp4``) and, when
moments are predicted or ``--gt-window`` is given, ``timeline.png`` (the
saliency curve with the predicted and ground-truth windows, as Fig. 7 of
the paper). The defaults use the quick start's stage-3 model
(``python tools/quickstart.py`` leaves it in ``work_dirs/tiny_stage3``).
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'tpo', 'tiny_stage3.py')
DEFAULT_CHECKPOINT = osp.join('work_dirs', 'tiny_stage3')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Ask a video a question: text, moments, boxes, masks')
    parser.add_argument('video', help='video (or image) file')
    parser.add_argument('prompt', help='the question, e.g. "Where is the '
                        'red circle?"')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='model config (default: tiny_stage3)')
    parser.add_argument(
        '--checkpoint', default=DEFAULT_CHECKPOINT,
        help='.pth/.safetensors checkpoint or a work dir (default: the quick '
        "start's work_dirs/tiny_stage3)")
    parser.add_argument(
        '--exported', metavar='DIR',
        help='a folder of tools/model_converters/export_hf.py, instead of '
        '--config and --checkpoint')
    parser.add_argument('--out-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument(
        '--box', nargs=4, type=float, metavar=('X1', 'Y1', 'X2', 'Y2'),
        help='tracking box on the first frame, pixels of the original frame')
    parser.add_argument(
        '--task', help="the task asked for ('region', 'temporal', 'mask', "
        "'track'): checked against the model's heads")
    parser.add_argument(
        '--force-task', action='store_true',
        help="start the answer with --task's task-begin token")
    parser.add_argument('--gt-window', nargs=2, type=float,
                        metavar=('START', 'END'),
                        help='ground-truth window (s) for timeline.png')
    parser.add_argument('--animation', choices=['gif', 'mp4'],
                        default='gif')
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ...')
    parser.add_argument('--dtype', choices=['float32', 'bfloat16',
                                            'float16'], default='float32')
    parser.add_argument('--sample', action='store_true',
                        help='sample instead of greedy decoding')
    parser.add_argument('--temperature', type=float, default=1.0)
    parser.add_argument('--top-p', type=float, default=1.0)
    parser.add_argument('--max-new-tokens', type=int)
    parser.add_argument('--seed', type=int, help='seed of --sample')
    return parser.parse_args(argv)


@contextlib.contextmanager
def progress(message: str):
    """Print a step and how long it took (stderr)."""
    print(f'{message} ...', file=sys.stderr, flush=True)
    start = time.time()
    yield
    print(f'{message}: done in {time.time() - start:.1f} s',
          file=sys.stderr, flush=True)


def summary(result: dict) -> str:
    """The answer and its structured outputs, for the terminal."""
    lines = [f'answer: {result["text"]}']
    moments = result.get('moments')
    if moments:
        lines += [f'moment: {s:.1f}-{e:.1f} s (score {p:.2f})'
                  for s, e, p in moments['windows'][:3]]
    for box in result.get('boxes', []):
        lines.append('box: [' + ', '.join(f'{v:.1f}' for v in box['bbox']) +
                     ']')
    masks = result.get('masks')
    if masks:
        lines.append(f'masks: {len(masks)} frames (RLEs in result.json)')
    return '\n'.join(lines)


def check_inputs(args: argparse.Namespace) -> None:
    """Fail (SystemExit naming the input) before the model is built, which
    takes minutes at 7B: the video must be readable, the config /
    checkpoint / exported folder present, the box and window ordered."""
    from tpo.datasets.transforms import LoadVideoFrames, VideoReadError
    from tpo.engine.checkpoint import resolve_checkpoint
    if args.exported is None and args.checkpoint == DEFAULT_CHECKPOINT \
            and not osp.exists(args.checkpoint):
        sys.exit(f'demo: no {DEFAULT_CHECKPOINT}: run `python '
                 'tools/quickstart.py` first (it trains the tiny model '
                 'there), or pass --config and --checkpoint')
    try:  # one frame: the file opens and decodes with the reader used
        LoadVideoFrames(num_frames=1, on_error='raise')(
            dict(video_path=args.video))
    except VideoReadError as error:
        sys.exit(f'demo: {error}. Give a readable video file (mp4, avi, '
                 'mkv, webm, ...) or an image.')
    if args.exported is not None:
        if not osp.isdir(args.exported):
            sys.exit(f'demo: --exported {args.exported!r} is not a folder')
    else:
        if not osp.isfile(args.config):
            sys.exit(f'demo: --config {args.config!r} does not exist')
        try:
            resolve_checkpoint(args.checkpoint, key='--checkpoint')
        except FileNotFoundError as error:
            sys.exit(f'demo: {error}')
    if args.box is not None:
        x1, y1, x2, y2 = args.box
        if not (x2 > x1 and y2 > y1):
            sys.exit(f'demo: --box {x1:g} {y1:g} {x2:g} {y2:g}: give X1 Y1 '
                     'X2 Y2 with X2 > X1 and Y2 > Y1 (pixels)')
    if args.gt_window is not None and \
            not 0 <= args.gt_window[0] < args.gt_window[1]:
        sys.exit(f'demo: --gt-window {args.gt_window}: give START < END '
                 '(seconds)')


def main(argv=None) -> dict:
    args = parse_args(argv)
    check_inputs(args)
    from tpo.apis import TPOInferencer
    from tpo.datasets.transforms import VideoReadError
    from tpo.utils.safe_loading import UnsafeCheckpointError
    from tpo.visualization import write_pictures
    generation = dict(do_sample=args.sample, temperature=args.temperature,
                      top_p=args.top_p)
    if args.max_new_tokens is not None:
        generation['max_new_tokens'] = args.max_new_tokens
    try:
        with progress('loading the model'):
            inferencer = TPOInferencer(
                args.exported or args.config,
                None if args.exported else args.checkpoint,
                device=args.device, dtype=args.dtype)
        with progress(f'reading {args.video}'):
            clip = inferencer.load_video(args.video)
        with progress('answering'):
            result = inferencer(clip, args.prompt, box=args.box,
                                task=args.task, force_task=args.force_task,
                                seed=args.seed, **generation)
    except (VideoReadError, ValueError, FileNotFoundError,
            UnsafeCheckpointError) as error:
        sys.exit(f'demo: {error}')
    print(summary(result))
    for warning in result['warnings']:
        print(f'warning: {warning}', file=sys.stderr)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with progress('drawing'):
        paths = write_pictures(clip['frames'], result, args.out_dir,
                               args.gt_window, args.animation)
    print('wrote ' + ', '.join(
        [osp.join(args.out_dir, 'result.json')] + list(paths.values())))
    return result


if __name__ == '__main__':
    main()
