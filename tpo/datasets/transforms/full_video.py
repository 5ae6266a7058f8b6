"""Name the whole video for the mask head's full-video inference."""
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.utils import describe_sample


@TRANSFORMS.register_module()
class AttachFullVideo(BaseTransform):
    """Give SAM2 every frame of the video while the MLLM keeps its sampled
    frames: write ``full_video``, the frame files of the sample
    (``image_paths``, every frame listed by ``ListFramePaths``) when
    present, else its video file (``video_path``). Nothing is decoded here:
    ``SAM2FullVideoInference`` (the mask head's ``full_video`` mode) reads
    the frames in chunks at SAM2's input size, and predicts frame ``k`` of
    this list for ``k = 0 ... len - 1`` (positions in ``frame_names``, as
    MeViS' ``mask_rles`` and the tracking ground truth are indexed).

    Required Keys: image_paths or video_path

    Added Keys: full_video (list[str] | str)
    """

    def transform(self, results: dict) -> dict:
        paths = results.get('image_paths')
        source = list(paths) if paths else results.get('video_path')
        if not source:
            raise KeyError(f'{type(self).__name__} needs image_paths '
                           '(ListFramePaths) or video_path in '
                           f'{describe_sample(results)}.')
        results['full_video'] = source
        return results
