from . import synthetic, transforms
from .annotation import AnnotationError
from .as_v2 import ASV2Dataset
from .as_v2_video import ASV2VideoDataset
from .base import TPOBaseDataset, UnreadableDatasetError
from .charades_sta import CharadesSTADataset
from .collate import pad_clips, tpo_collate
from .dataset_wrappers import SyntheticWorldDataset
from .lasot import LaSOTDataset
from .mevis import MeViSDataset, decode_masks
from .mixing import MixedDataset, RatioSampler, mix_indices
from .mlvu import MLVUDataset
from .mmiu import MMIUDataset
from .mvbench import MVBenchDataset, mvbench_prompt
from .nextgqa import NExTGQADataset, load_gsub
from .qvhighlights import QVHighlightsDataset
from .ref_youtube_vos import RefYouTubeVOSDataset, decode_palette_masks
from .refcoco import RefCOCODataset
from .refer_pickle import convert_refs_pickle, load_refs_pickle
from .samplers import LengthGroupedBatchSampler, sample_length
from .sav import SAVDataset
from .seedbench2 import SEEDBench2Dataset
from .sharegpt import ShareGPTDataset
from .videochat2_it import VideoChat2ITDataset
from .videomme import VideoMMEDataset
from .visual_genome import VisualGenomeDataset

__all__ = [
    'synthetic', 'transforms', 'AnnotationError', 'TPOBaseDataset',
    'UnreadableDatasetError',
    # temporal grounding / highlights
    'QVHighlightsDataset', 'CharadesSTADataset',
    # referring boxes
    'RefCOCODataset', 'convert_refs_pickle', 'load_refs_pickle',
    'VisualGenomeDataset', 'ASV2Dataset', 'ASV2VideoDataset',
    # referring masks, tracking
    'MeViSDataset', 'decode_masks', 'RefYouTubeVOSDataset',
    'decode_palette_masks', 'SAVDataset', 'LaSOTDataset',
    # conversations
    'VideoChat2ITDataset', 'ShareGPTDataset',
    # benchmarks
    'MVBenchDataset', 'mvbench_prompt', 'NExTGQADataset', 'load_gsub',
    'VideoMMEDataset', 'MLVUDataset', 'MMIUDataset', 'SEEDBench2Dataset',
    # mixing and batching
    'SyntheticWorldDataset', 'MixedDataset', 'RatioSampler', 'mix_indices',
    'LengthGroupedBatchSampler', 'sample_length', 'pad_clips', 'tpo_collate'
]
