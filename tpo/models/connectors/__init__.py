from .qformer import QFormerConnector

__all__ = ['QFormerConnector']
