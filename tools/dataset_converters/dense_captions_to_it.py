"""Convert YouCook2 / ActivityNet Captions dense captions into the stage-3
temporal-reasoning conversations (VideoChat2-IT json).

    python tools/dataset_converters/dense_captions_to_it.py \
        --source youcook2 youcookii_annotations_trainval.json \
        data/youcook2/train_it.json
    python tools/dataset_converters/dense_captions_to_it.py \
        --source activitynet captions/train.json \
        data/activitynet/train_it.json --skip-invalid

What each video becomes: :mod:`tpo.datasets.converters.temporal_reasoning`.
A malformed record stops the conversion with an error naming the file, the
record and the field, and nothing is written; ``--skip-invalid`` drops
events whose window is invalid after clipping (ActivityNet Captions
``train.json`` has 2 with start > end) and lists them.
"""
import argparse
import sys

from tpo.datasets.annotation import AnnotationError
from tpo.datasets.converters.temporal import InvalidWindowError
from tpo.datasets.converters.temporal_reasoning import (
    read_activitynet, read_youcook2, reasoning_conversations, write_it_json)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--source', required=True,
                        choices=('youcook2', 'activitynet'))
    parser.add_argument('input', help='the dense-caption annotation file')
    parser.add_argument('output', help='the VideoChat2-IT json to write')
    parser.add_argument('--subset', default='training',
                        help="youcook2: the subset to keep ('training', "
                        "'validation', or 'all')")
    parser.add_argument('--video-format', default='{vid}.mp4',
                        help="the written video path (default '{vid}.mp4')")
    parser.add_argument('--skip-invalid', action='store_true',
                        help='drop events whose window is invalid')
    parser.add_argument('--show-skipped', type=int, default=5,
                        help='print this many skip reasons (default 5)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.source == 'youcook2':
            read = read_youcook2(
                args.input, None if args.subset == 'all' else args.subset,
                skip_invalid=args.skip_invalid)
        else:
            read = read_activitynet(args.input,
                                    skip_invalid=args.skip_invalid)
    except (AnnotationError, FileNotFoundError) as error:
        hint = (' (--skip-invalid drops such events)'
                if isinstance(error, InvalidWindowError) else '')
        print(f'error: {error}{hint}', file=sys.stderr)
        return 1
    entries = reasoning_conversations(read.videos, args.video_format,
                                      args.seed)
    if not entries:
        print(f'error: no event of {args.input} could be converted.',
              file=sys.stderr)
        return 1
    write_it_json(entries, args.output)
    print(f'{len(read.videos)} videos -> {len(entries)} conversations in '
          f'{args.output}; skipped {len(read.skipped)} events.')
    for reason in read.skipped[:args.show_skipped]:
        print(f'  skipped: {reason}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
