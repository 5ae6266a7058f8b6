"""Convert temporal grounding annotations to the QVHighlights jsonl that
``QVHighlightsDataset(require_saliency=False)`` reads.

    python tools/dataset_converters/temporal_to_qvh.py --source SOURCE IN OUT

SOURCE is one of didemo, activitynet, tacos, queryd, hirest, ego4d_nlq; IN
is its annotation file (QuerYD: the captions file, with --times and
--durations), OUT the jsonl to write. Formats and conventions:
:mod:`tpo.datasets.converters.temporal` and ``docs/dataset_preparation.md``.
A malformed record stops the conversion with an error naming the file, the
record and the field, and nothing is written.
"""
import argparse
import sys

from tpo.datasets.annotation import AnnotationError
from tpo.datasets.converters.temporal import (DIDEMO_WINDOWS, SOURCES,
                                              InvalidWindowError,
                                              write_qvh_jsonl)

# options that only some sources take: dest -> (flag, sources)
SOURCE_OPTIONS = dict(
    durations=('--durations', ('didemo', 'queryd')),
    times=('--times', ('queryd', )),
    video_list=('--video-list', ('queryd', )),
    windows=('--didemo-windows', ('didemo', )),
    steps=('--hirest-steps', ('hirest', )))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--source', required=True, choices=list(SOURCES))
    parser.add_argument('input', help='annotation file of the source')
    parser.add_argument('output', help='QVHighlights jsonl to write')
    parser.add_argument(
        '--durations',
        help='JSON {video: seconds} (queryd: required; didemo: the real '
        'durations, else 5 s x num_segments)')
    parser.add_argument('--times', help='queryd: the times file')
    parser.add_argument('--video-list',
                        help='queryd: only the video keys of this split list')
    parser.add_argument(
        '--didemo-windows', dest='windows', choices=DIDEMO_WINDOWS,
        help="didemo: every distinct annotator window, most agreed first "
        "('all', default) or only the most agreed ('mode')")
    parser.add_argument('--hirest-steps', dest='steps', action='store_true',
                        default=None,
                        help='hirest: also write one row per step')
    parser.add_argument(
        '--skip-invalid', action='store_true',
        help='drop queries whose window is not inside the video instead of '
        'stopping')
    parser.add_argument(
        '--vid-format', default='{vid}',
        help="written vid, e.g. '{vid}-cam-002' for TACoS (default '{vid}')")
    parser.add_argument('--show-skipped', type=int, default=5,
                        help='print this many skip reasons (default 5)')
    args = parser.parse_args(argv)
    for dest, (flag, sources) in SOURCE_OPTIONS.items():
        if getattr(args, dest) is not None and args.source not in sources:
            parser.error(f'{flag} is only for {", ".join(sources)}')
    if args.source == 'queryd' and not (args.times and args.durations):
        parser.error('queryd needs --times and --durations')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    kwargs = {
        dest: getattr(args, dest)
        for dest in SOURCE_OPTIONS if getattr(args, dest) is not None
    }
    try:
        converted = SOURCES[args.source](
            args.input, skip_invalid=args.skip_invalid, **kwargs)
    except (AnnotationError, FileNotFoundError) as error:
        hint = (' (--skip-invalid drops such queries)'
                if isinstance(error, InvalidWindowError) else '')
        print(f'error: {error}{hint}', file=sys.stderr)
        return 1
    if not converted.rows:
        print(f'error: no query of {args.input} could be converted.',
              file=sys.stderr)
        return 1
    count = write_qvh_jsonl(converted.rows, args.output, args.vid_format)
    print(f'{args.source}: wrote {count} queries of '
          f'{len({row["vid"] for row in converted.rows})} videos to '
          f'{args.output}; skipped {len(converted.skipped)}.')
    for reason in converted.skipped[:args.show_skipped]:
        print(f'  skipped: {reason}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
