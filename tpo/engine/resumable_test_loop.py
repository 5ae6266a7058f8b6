"""A test loop that can be interrupted and resumed without predicting the
same batches twice."""
import json
import logging
import os
import os.path as osp
import shutil

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.logging import print_log
from mmengine.runner import autocast
from mmengine.runner.loops import TestLoop
from mmengine.structures import BaseDataElement

from tpo.registry import LOOPS
from .checkpoint import load_checkpoint_file


@LOOPS.register_module()
class ResumableTestLoop(TestLoop):
    """``TestLoop`` that writes each batch's predictions to ``cache_dir``
    (``rank<r>/batch_<i>.pt``) and, run again with the same ``key`` (e.g.
    the checkpoint's path, size and time) on the same data, feeds the
    cached predictions to the evaluator instead of running the model. The
    cache is removed once the metrics are computed.

    The cached batches are still read by the dataloader (their sample ids
    are checked against the cache), but not predicted.

    Args:
        cache_dir: where the predictions are cached.
        key: identifies the model the cache was written with; a cache of
            another key, world size or dataset length is discarded (logged).
        **kwargs: arguments of ``TestLoop``.
    """

    def __init__(self, runner, dataloader, evaluator, cache_dir: str,
                 key: str = '', fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.cache_dir = osp.join(cache_dir, f'rank{get_rank()}')
        self.key = key
        self.reused = 0

    def run(self) -> dict:
        self._open_cache()
        metrics = super().run()
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        return metrics

    def _open_cache(self) -> None:
        meta = dict(key=self.key, world_size=get_world_size(),
                    num_samples=len(self.dataloader.dataset))
        meta_file = osp.join(self.cache_dir, 'meta.json')
        if osp.isfile(meta_file):
            with open(meta_file) as f:
                if json.load(f) != meta:
                    print_log(
                        f'{self.cache_dir} holds predictions of another '
                        'model or test set: discarded.', logger='current',
                        level=logging.WARNING)
                    shutil.rmtree(self.cache_dir)
        os.makedirs(self.cache_dir, exist_ok=True)
        with open(meta_file, 'w') as f:
            json.dump(meta, f)

    @staticmethod
    def _sample_ids(data_batch: dict) -> list:
        return [s.get('sample_idx') for s in data_batch['data_samples']]

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: dict) -> None:
        path = osp.join(self.cache_dir, f'batch_{idx:06d}.pt')
        if not osp.isfile(path):
            self.runner.call_hook(
                'before_test_iter', batch_idx=idx, data_batch=data_batch)
            with autocast(enabled=self.fp16):
                outputs = self.runner.model.test_step(data_batch)
            self._save(idx, data_batch, outputs)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
            self.runner.call_hook(
                'after_test_iter', batch_idx=idx, data_batch=data_batch,
                outputs=outputs)
            return
        cached = load_checkpoint_file(path)
        if cached['sample_ids'] != self._sample_ids(data_batch):
            raise RuntimeError(
                f'{path} holds predictions of samples '
                f'{cached["sample_ids"]}, but batch {idx} now holds '
                f'{self._sample_ids(data_batch)}: delete {self.cache_dir}.')
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        self.evaluator.process(
            data_samples=cached['outputs'], data_batch=data_batch)
        self.reused += 1
        self.runner.call_hook(
            'after_test_iter', batch_idx=idx, data_batch=data_batch,
            outputs=cached['outputs'])

    def _save(self, idx: int, data_batch: dict, outputs: list) -> None:
        outputs = [o.to_dict() if isinstance(o, BaseDataElement) else o
                   for o in outputs]
        path = osp.join(self.cache_dir, f'batch_{idx:06d}.pt')
        torch.save(dict(sample_ids=self._sample_ids(data_batch),
                        outputs=outputs), path + '.tmp')
        os.replace(path + '.tmp', path)  # a batch is cached whole or not
