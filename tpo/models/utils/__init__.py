"""The parts of the TPO model that are not modules: input splicing,
decoding with task routing, checkpoint keys, freezing, pretrained weights."""
from .checkpoint_keys import CheckpointKeys
from .finite_losses import check_finite_loss
from .freezing import freeze_modules, keep_in_eval, mark_built_initialised
from .generation import TaskRoutingDecoder
from .multimodal_inputs import (MultimodalSplicer, SpliceModules,
                                instruction_tokens, pad_rows,
                                stack_embeddings)
from .pretrained import (checkpoint_files, load_pretrained, read_state_dict,
                         state_dict_keys)

__all__ = [
    'CheckpointKeys', 'check_finite_loss', 'freeze_modules', 'keep_in_eval',
    'mark_built_initialised',
    'TaskRoutingDecoder', 'MultimodalSplicer', 'SpliceModules',
    'instruction_tokens', 'pad_rows', 'stack_embeddings',
    'checkpoint_files', 'load_pretrained', 'read_state_dict',
    'state_dict_keys'
]
