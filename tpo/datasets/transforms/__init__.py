from .clip_features import LoadClipFeatures, clip_feature_path
from .formatting import FormatTaskConversation, PackTPOInputs
from .frame_folders import ListFramePaths
from .frame_sampling import (random_indices, start_indices,
                             uniform_indices, window_to_frame_range)
from .full_video import AttachFullVideo
from .load_images import LoadImageSequence
from .loading import LoadVideoFrames, VideoReadError
from .masks import DecodeRLEMasks, LoadMaskletMasks, LoadPaletteMasks
from .processing import ResizeFrames
from .pseudo_video import ImageToPseudoVideo
from .query_features import LoadQueryFeatures
from .textualize import TextualizeTaskAnswer
from .tracking import SelectTrackTargets

__all__ = [
    'FormatTaskConversation', 'PackTPOInputs', 'uniform_indices',
    'random_indices', 'start_indices', 'window_to_frame_range', 'LoadVideoFrames',
    'VideoReadError', 'ResizeFrames', 'LoadImageSequence', 'ListFramePaths',
    'LoadMaskletMasks', 'LoadPaletteMasks', 'DecodeRLEMasks',
    'SelectTrackTargets', 'TextualizeTaskAnswer', 'LoadClipFeatures',
    'clip_feature_path', 'LoadQueryFeatures', 'ImageToPseudoVideo',
    'AttachFullVideo'
]
