from .local_files import require_local_path
from .sample_description import describe_sample

__all__ = ['describe_sample', 'require_local_path']
