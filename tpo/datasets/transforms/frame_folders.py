"""List the frame files of a frame-folder sample."""
import os.path as osp

from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ListFramePaths(BaseTransform):
    """Write ``image_paths`` of a sample whose video is a folder of frames
    (MeViS / Ref-YouTube-VOS ``JPEGImages/{vid}``): ``{frame_dir or
    video_path}/{name}{ext}`` for each of ``frame_names``, for
    ``LoadImageSequence`` to read (its ``frame_inds`` are then positions in
    ``frame_names``, as ``LoadPaletteMasks`` and the MeViS ``mask_rles``
    expect).

    A sample without ``frame_names`` but with ``num_frames`` (LaSOT and
    GOT-10k sequences: frames ``00000001.jpg`` ... numbered like the rows of
    their ``groundtruth.txt``) gets the names ``name_format.format(k)`` for
    ``k = first_index ... first_index + num_frames - 1``: frame position
    ``i`` is then ground-truth row ``i``. The names are derived, not listed
    from the disk, so the readers need not hold thousands of names per
    sequence.

    Required Keys: frame_names or num_frames, frame_dir or video_path

    Added Keys: image_paths

    Args:
        ext (str): Extension of the frame files. Defaults to ``'.jpg'``.
        name_format (str): Name of frame ``k`` without ``frame_names``.
            Defaults to ``'{:08d}'``.
        first_index (int): Number of the first frame without
            ``frame_names``. Defaults to 1.
    """

    def __init__(self,
                 ext: str = '.jpg',
                 name_format: str = '{:08d}',
                 first_index: int = 1) -> None:
        self.ext = ext
        self.name_format = name_format
        self.first_index = first_index

    def transform(self, results: dict) -> dict:
        folder = results.get('frame_dir') or results['video_path']
        names = results.get('frame_names')
        if names is None:
            if 'num_frames' not in results:
                raise KeyError(f'{type(self).__name__} needs frame_names or '
                               f'num_frames, got {sorted(results)}.')
            names = [
                self.name_format.format(self.first_index + k)
                for k in range(int(results['num_frames']))
            ]
        results['image_paths'] = [
            osp.join(folder, f'{name}{self.ext}') for name in names
        ]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ext={self.ext!r}, '
                f'name_format={self.name_format!r}, '
                f'first_index={self.first_index})')
