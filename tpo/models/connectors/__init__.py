from .mlp_projector import MLPProjector
from .qformer import QFormerConnector

__all__ = ['MLPProjector', 'QFormerConnector']
