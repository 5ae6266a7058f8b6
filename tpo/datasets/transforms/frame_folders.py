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

    Required Keys: frame_names, frame_dir or video_path

    Added Keys: image_paths

    Args:
        ext (str): Extension of the frame files. Defaults to ``'.jpg'``.
    """

    def __init__(self, ext: str = '.jpg') -> None:
        self.ext = ext

    def transform(self, results: dict) -> dict:
        folder = results.get('frame_dir') or results['video_path']
        results['image_paths'] = [
            osp.join(folder, f'{name}{self.ext}')
            for name in results['frame_names']
        ]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ext={self.ext!r})'
