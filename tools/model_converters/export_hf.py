"""Export a trained TPO model for Hugging Face transformers.

``python tools/model_converters/export_hf.py CONFIG CHECKPOINT OUT_DIR``

CHECKPOINT is a ``.pth``, a ``.safetensors`` (e.g. written by
``SafetensorsCheckpointHook``) or a work dir (its last checkpoint). OUT_DIR
gets the LLM with LoRA merged (``AutoModelForCausalLM.from_pretrained``),
the tokenizer with the task tokens (``AutoTokenizer.from_pretrained``),
``tpo_components.safetensors`` (vision encoder, connector, task tokens,
heads) and ``tpo_config.py``.
"""
import argparse
import json
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a TPO checkpoint: merged HF LLM + tokenizer + '
        'the other components as safetensors')
    parser.add_argument('config', help='config file the model was trained '
                        'with')
    parser.add_argument(
        'checkpoint',
        help='.pth or .safetensors checkpoint, or a work dir (its last '
        'checkpoint is used)')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--dtype', choices=['float32', 'float16', 'bfloat16'],
        help='cast the LLM to this dtype before saving')
    parser.add_argument(
        '--bake-task-tokens', action='store_true',
        help='also write the learned task-token embeddings into the LLM '
        'input-embedding rows of the task tokens')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. model.llm.torch_dtype=bfloat16')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from tpo.engine.export import export_hf
    try:
        summary = export_hf(
            args.config, args.checkpoint, args.out_dir, dtype=args.dtype,
            bake_task_tokens=args.bake_task_tokens,
            cfg_options=args.cfg_options)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        sys.exit(f'export_hf: {error}')
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
