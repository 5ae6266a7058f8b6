"""Naming a sample in error messages."""


def describe_sample(sample: dict) -> str:
    """``sample_idx`` and ``video_path`` of a sample (a results dict or a
    data sample converted to a dict), for error messages."""
    ident = ', '.join(f'{name}={sample[name]!r}'
                      for name in ('sample_idx', 'video_path')
                      if name in sample)
    return f'sample ({ident or "no sample_idx/video_path"})'
