from . import synthetic, transforms
from .annotation import AnnotationError
from .base import TPOBaseDataset
from .charades_sta import CharadesSTADataset
from .dataset_wrappers import SyntheticWorldDataset
from .lasot import LaSOTDataset
from .mevis import MeViSDataset, decode_masks
from .mvbench import MVBenchDataset, mvbench_prompt
from .qvhighlights import QVHighlightsDataset
from .refcoco import RefCOCODataset
from .videochat2_it import VideoChat2ITDataset

__all__ = [
    'synthetic', 'transforms', 'AnnotationError', 'TPOBaseDataset',
    'RefCOCODataset', 'QVHighlightsDataset', 'VideoChat2ITDataset',
    'MVBenchDataset', 'mvbench_prompt', 'MeViSDataset', 'decode_masks',
    'SyntheticWorldDataset', 'CharadesSTADataset', 'LaSOTDataset'
]
