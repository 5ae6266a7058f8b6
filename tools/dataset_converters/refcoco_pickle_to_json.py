"""Convert RefCOCO / RefCOCO+ / RefCOCOg ``refs(unc|umd|google).p`` to the
JSON that ``RefCOCODataset`` reads. Run it once per pickle after download:

    python tools/dataset_converters/refcoco_pickle_to_json.py \
        data/refcoco/refs(unc).p data/refcoco+/refs(unc).p \
        data/refcocog/refs(umd).p

writes ``refs(unc).json`` etc. beside each pickle. The pickles are read with
a restricted unpickler that only builds lists, dicts, strings and numbers: a
pickle that names any other object is refused (a pickle can run code when
loaded), and nothing is written for it.
"""
import argparse
import pickle
import sys

from tpo.datasets.annotation import AnnotationError
from tpo.datasets.refer_pickle import convert_refs_pickle


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('pickles', nargs='+', help='refs(*).p files')
    parser.add_argument(
        '--out', help='output JSON (only with one pickle); defaults to the '
        'pickle with .json')
    parser.add_argument(
        '--encoding', default='utf-8',
        help="decoding of Python 2 byte strings (default utf-8; 'latin1' "
        'never fails)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing JSON files')
    args = parser.parse_args(argv)
    if args.out and len(args.pickles) > 1:
        parser.error('--out needs exactly one pickle')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    failed = 0
    for src in args.pickles:
        try:
            dst = convert_refs_pickle(src, args.out, args.encoding,
                                      args.overwrite)
        except (pickle.UnpicklingError, AnnotationError, OSError) as error:
            print(f'FAILED {src}: {error}', file=sys.stderr)
            failed += 1
            continue
        print(f'{src} -> {dst}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
