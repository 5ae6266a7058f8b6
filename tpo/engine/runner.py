"""Build an mmengine Runner from a tpo config."""
from mmengine.config import Config
from mmengine.runner import Runner

from .checkpoint import resolve_checkpoint


def build_runner(cfg: Config) -> Runner:
    """``Runner.from_cfg`` after resolving ``load_from``: a work dir stands
    for its last checkpoint, and a missing one fails before any work."""
    if cfg.get('load_from'):
        cfg.load_from = resolve_checkpoint(cfg.load_from)
    return Runner.from_cfg(cfg)
