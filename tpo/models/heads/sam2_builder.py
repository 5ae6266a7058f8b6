"""Build SAM2 (``SAM2Base``) from a config of the installed ``sam2``
package, without weights."""
import glob
import os.path as osp
from typing import List, Mapping, Optional

from torch import nn

#: Overrides that sam2's ``build_sam2_video_predictor`` applies by default
#: (``apply_postprocessing=True``), which the official TPO code used.
SAM2_POSTPROCESSING = {
    'sam_mask_decoder_extra_args': {
        'dynamic_multimask_via_stability': True,
        'dynamic_multimask_stability_delta': 0.05,
        'dynamic_multimask_stability_thresh': 0.98,
    },
    'binarize_mask_from_pts_for_mem_enc': True,
}


def sam2_config_dir() -> str:
    """The folder of the model configs shipped in the ``sam2`` package."""
    try:
        import sam2
    except ImportError as error:
        raise ImportError(
            'SAM2MaskHead needs the sam2 package (extra `sam2` of setup.cfg; '
            'on machines without CUDA install it with tools/install.sh).'
        ) from error
    return osp.dirname(sam2.__file__)


def available_sam2_configs() -> List[str]:
    """The model configs of the installed ``sam2`` (training configs
    excluded), as ``'configs/sam2.1/sam2.1_hiera_t.yaml'``."""
    root = sam2_config_dir()
    return sorted(
        osp.relpath(path, root) for folder in ('sam2', 'sam2.1')
        for path in glob.glob(osp.join(root, 'configs', folder, '*.yaml')))


def resolve_sam2_config(model_cfg: str, owner: str = 'SAM2MaskHead') -> str:
    """Path of a SAM2 model config given as shipped (``'configs/sam2.1/
    sam2.1_hiera_l.yaml'``), by file name or stem (``'sam2.1_hiera_l'``), or
    as an existing ``.yaml`` file."""
    if model_cfg.endswith('.yaml') and osp.isfile(model_cfg):
        return model_cfg
    names = available_sam2_configs()
    for name in names:
        stem = osp.splitext(osp.basename(name))[0]
        if model_cfg in (name, osp.basename(name), stem):
            return osp.join(sam2_config_dir(), name)
    raise ValueError(
        f'{owner}: model_cfg {model_cfg!r} is neither a SAM2 config shipped '
        f'with the installed sam2 package nor a .yaml file. Available '
        f'model_cfg names: {names} (file names and stems work too, e.g. '
        "'sam2.1_hiera_t').")


def _plain(value):
    """Config values as OmegaConf takes them: mappings (mmengine's
    ``ConfigDict`` included) as dicts, tuples as lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def build_sam2_base(model_cfg: str,
                    image_size: Optional[int] = None,
                    overrides: Optional[dict] = None,
                    owner: str = 'SAM2MaskHead') -> nn.Module:
    """Instantiate ``SAM2Base`` from a config of the sam2 package (no
    weights), optionally at another square ``image_size``."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf
    cfg = OmegaConf.load(resolve_sam2_config(model_cfg, owner))
    if 'model' not in cfg:
        raise ValueError(f'{owner}: {model_cfg!r} has no top-level `model` '
                         'entry; is it a SAM2 model config?')
    OmegaConf.update(cfg, 'model._target_',
                     'sam2.modeling.sam2_base.SAM2Base', force_add=True)
    if image_size is not None:
        if image_size < 64 or image_size % 32:
            raise ValueError(f'{owner}: image_size must be a multiple of 32 '
                             f'and >= 64 (SAM2 downsamples by 32), got '
                             f'{image_size}.')
        OmegaConf.update(cfg, 'model.image_size', image_size)
        layer = cfg.model.get('memory_attention', {}).get('layer', {})
        side = image_size // 16
        for attn in ('self_attention', 'cross_attention'):
            if attn in layer and 'feat_sizes' in layer[attn]:
                layer[attn]['feat_sizes'] = [side, side]
    for key, value in (overrides or {}).items():
        OmegaConf.update(cfg, f'model.{key}', _plain(value), merge=True,
                         force_add=True)
    return instantiate(cfg.model, _recursive_=True)
