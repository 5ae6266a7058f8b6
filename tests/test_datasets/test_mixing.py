"""Mixing sources with ratios, length-grouped batches, collating, and the
dataset checking tool."""
import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset, ConcatDataset, DefaultSampler
from mmengine.registry import DefaultScope
from torch.utils.data import BatchSampler

from tpo.datasets import (LengthGroupedBatchSampler, MixedDataset,
                          RatioSampler, mix_indices, sample_length,
                          tpo_collate)
from tpo.datasets.mixing import _override_pipeline
from tpo.datasets.samplers import padding_of
from tpo.registry import DATA_SAMPLERS, DATASETS, FUNCTIONS
from tpo.structures import TPODataSample

REPO = Path(__file__).resolve().parents[2]


class ToyDataset(BaseDataset):
    """``size`` items of source ``name``; item ``i`` has a question of
    ``lengths[i]`` words."""

    def __init__(self, size, name, lengths=None, **kwargs):
        self.size, self.name = size, name
        self.lengths = list(lengths) if lengths is not None else [1] * size
        super().__init__(metainfo=dict(dataset_name=name), **kwargs)

    def load_data_list(self):
        return [
            dict(source=self.name, index=i,
                 conversation=[dict(question=' '.join(['w'] * n),
                                    answer='')])
            for i, n in enumerate(self.lengths)
        ]


DATASETS.register_module(name='_MixingToyDataset', module=ToyDataset,
                         force=True)


class ToyPack(BaseTransform):
    """Pack a toy item: 2 or 3 frames by its index."""

    def transform(self, results):
        return packed(2 + results['index'] % 2, meta=dict(task='chat'))


SIZES = [50, 200, 10]
RATIOS = [2, 1, 1]


def toys():
    return [ToyDataset(n, f's{k}') for k, n in enumerate(SIZES)]


def patch_ranks(monkeypatch, rank, world_size):
    for module in ('tpo.datasets.mixing', 'mmengine.dataset.sampler'):
        monkeypatch.setattr(f'{module}.get_dist_info',
                            lambda: (rank, world_size))


# ------------------------------------------------------------------ ratios
def test_mix_indices_exact_shares_and_repeats():
    rng = np.random.default_rng(0)
    indices = mix_indices(SIZES, RATIOS, 1000, rng)
    assert len(indices) == 1000
    sources = np.searchsorted(np.cumsum(SIZES), indices, side='right')
    assert Counter(sources.tolist()) == {0: 500, 1: 250, 2: 250}
    # source 2 (10 samples, 250 draws) repeats each sample 25 times; source 1
    # (200 samples, 250 draws) uses every sample once or twice
    local2 = indices[sources == 2] - 250
    assert Counter(local2.tolist()) == {i: 25 for i in range(10)}
    counts1 = Counter((indices[sources == 1] - 50).tolist())
    assert len(counts1) == 200 and set(counts1.values()) == {1, 2}
    # zero ratio: never drawn; bad ratios: refused
    none = mix_indices(SIZES, [1, 0, 1], 100, np.random.default_rng(0))
    assert not ((none >= 50) & (none < 250)).any()
    for bad in ([1, 1], [0, 0, 0], [1, -1, 1]):
        with pytest.raises(ValueError):
            mix_indices(SIZES, bad, 10, np.random.default_rng(0))


def test_mixed_dataset_ratios_hold_and_are_seeded():
    entries = [
        dict(dataset=dict(type='_MixingToyDataset', size=n, name=f's{k}'),
             ratio=r) for k, (n, r) in enumerate(zip(SIZES, RATIOS))
    ]
    mixed = DATASETS.build(
        dict(type='MixedDataset', datasets=entries, num_samples=4000,
             seed=3))
    assert len(mixed) == 4000
    again = MixedDataset(toys(), ratios=RATIOS, num_samples=4000, seed=3)
    other = MixedDataset(toys(), ratios=RATIOS, num_samples=4000, seed=4)
    np.testing.assert_array_equal(mixed.table, again.table)
    assert not np.array_equal(mixed.table, other.table)
    assert [mixed[i]['source'] for i in range(50)] == \
        [again.get_data_info(i)['source'] for i in range(50)]
    # many random draws from the mixture follow the ratios
    rng = np.random.default_rng(0)
    draws = Counter(mixed[int(i)]['source']
                    for i in rng.integers(0, 4000, 20000))
    for name, share in zip(('s0', 's1', 's2'), (0.5, 0.25, 0.25)):
        assert abs(draws[name] / 20000 - share) < 0.02, draws
    # and so does every window of the shuffled table
    window = Counter(mixed.source_index(i) for i in range(1000))
    assert abs(window[0] / 1000 - 0.5) < 0.06
    # no ratios: in proportion to the sizes, one pass over every sample
    plain = MixedDataset(toys())
    assert len(plain) == sum(SIZES)
    assert sorted(plain.table.tolist()) == list(range(sum(SIZES)))
    with pytest.raises(ValueError, match='not a mix'):
        MixedDataset(entries, ratios=RATIOS)


def test_pipeline_overrides_reach_every_source_and_wrapped_dataset():
    resize = dict(type='ResizeFrames', size=(224, 224))
    load = dict(type='LoadImageSequence', num_frames=4, size=(224, 224))
    overrides = dict(ResizeFrames=dict(size=(384, 384)),
                     LoadImageSequence=dict(size=(384, 384)))
    entries = [
        dict(dataset=dict(type='_MixingToyDataset', size=4, name=name,
                          pipeline=[load, resize]), ratio=1)
        for name in ('a', 'b')
    ]
    with DefaultScope.overwrite_default_scope('tpo'):  # as in a Runner
        mixed = MixedDataset(entries, pipeline_overrides=overrides)
    for source in mixed.datasets:
        assert [t.size for t in source.pipeline.transforms] == [(384, 384)] * 2
        assert source.pipeline.transforms[0].num_frames == 4  # others kept
    assert entries[0]['dataset']['pipeline'][1]['size'] == (224, 224)
    # a wrapper's dataset (SyntheticWorldDataset, RepeatDataset) too
    wrapped = _override_pipeline(
        dict(type='RepeatDataset', times=2,
             dataset=dict(type='X', pipeline=[resize])), overrides)
    assert wrapped['dataset']['pipeline'] == [
        dict(type='ResizeFrames', size=(384, 384))]
    with pytest.raises(TypeError, match='dataset configs'):
        MixedDataset(toys(), pipeline_overrides=dict(X=dict()))


def test_ratio_sampler_per_epoch_and_ranks(monkeypatch):
    concat = ConcatDataset(toys(), ignore_keys=['dataset_name'])
    sampler = DATA_SAMPLERS.build(
        dict(type='RatioSampler', dataset=concat, ratios=RATIOS,
             num_samples=1001, seed=7))
    first = list(sampler)
    assert len(first) == len(sampler) == 1001
    assert list(sampler) == first  # same epoch, same draw
    sampler.set_epoch(1)
    second = list(sampler)
    assert second != first
    for draw in (first, second):
        sources = Counter(concat._get_ori_dataset_idx(i)[0] for i in draw)
        assert sources == {0: 501, 1: 250, 2: 250}  # 1001 = 500.5 + ...
    # two ranks: equal shares that together are the one-rank draw (padded
    # to an even number by repeating its start)
    shares = []
    for rank in (0, 1):
        patch_ranks(monkeypatch, rank, 2)
        ranked = RatioSampler(concat, RATIOS, num_samples=1001, seed=7)
        ranked.set_epoch(1)
        assert len(ranked) == 501
        shares.append(list(ranked))
    merged = [i for pair in zip(*shares) for i in pair]
    assert merged[:1001] == second and merged[1001] == second[0]
    with pytest.raises(TypeError, match='mixed already'):
        RatioSampler(MixedDataset(toys()))


# ---------------------------------------------------------- length groups
def test_length_grouped_batches(monkeypatch):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 400, 1000)
    dataset = ToyDataset(1000, 'toy', lengths)
    estimated = [sample_length(dataset.get_data_info(i)) for i in range(5)]
    assert estimated == lengths[:5].tolist()

    def batches(epoch, **kwargs):
        sampler = DefaultSampler(dataset, shuffle=True, seed=1)
        grouped = DATA_SAMPLERS.build(
            dict(type='LengthGroupedBatchSampler', sampler=sampler,
                 batch_size=8, group_size=16, **kwargs))
        sampler.set_epoch(epoch)  # what mmengine's DistSamplerSeedHook does
        return list(grouped), list(BatchSampler(sampler, 8, False))

    grouped, plain = batches(0)
    assert sorted(i for b in grouped for i in b) == list(range(1000))
    assert len(grouped) == len(plain) == 125
    assert padding_of(grouped, lengths) < 0.2 * padding_of(plain, lengths)
    assert batches(0)[0] == grouped  # deterministic per epoch
    assert batches(1)[0] != grouped
    # drop_last drops only the final partial batch
    dataset = ToyDataset(1003, 'toy', rng.integers(1, 400, 1003))
    dropped = LengthGroupedBatchSampler(DefaultSampler(dataset, seed=1), 8,
                                        drop_last=True, group_size=16)
    assert len(list(dropped)) == len(dropped) == 125
    assert all(len(b) == 8 for b in dropped)
    # two ranks: each groups its own share; together every index once
    dataset = ToyDataset(1000, 'toy', lengths)
    seen = []
    for rank in (0, 1):
        patch_ranks(monkeypatch, rank, 2)
        rank_batches = list(LengthGroupedBatchSampler(
            DefaultSampler(dataset, seed=1), 8, group_size=16))
        assert len(rank_batches) == 63
        seen += [i for b in rank_batches for i in b]
    assert sorted(seen) == list(range(1000))


def test_length_grouped_with_length_key_and_lengths():
    dataset = ToyDataset(10, 'toy')
    sampler = DefaultSampler(dataset, shuffle=False)
    grouped = LengthGroupedBatchSampler(sampler, 2, lengths=range(10))
    assert sorted(map(sorted, grouped)) == [[8, 9], [6, 7], [4, 5], [2, 3],
                                            [0, 1]][::-1]
    keyed = LengthGroupedBatchSampler(sampler, 2, length_key='index')
    assert sorted(map(sorted, keyed)) == sorted(map(sorted, grouped))


# ----------------------------------------------------------------- collate
def packed(num_frames, height=8, width=8, **fields):
    sample = TPODataSample(metainfo=dict(fields.pop('meta', {})))
    for key, value in fields.items():
        sample.set_field(torch.as_tensor(value, dtype=torch.float32), key)
    inputs = torch.randint(0, 255, (num_frames, 3, height, width),
                           dtype=torch.uint8)
    return dict(inputs=inputs, data_samples=sample)


def test_tpo_collate_mixed_frame_counts():
    from tpo.models.data_preprocessor import TPODataPreprocessor
    collate = FUNCTIONS.get('tpo_collate')
    batch = [
        packed(4, meta=dict(task='region'), gt_bboxes=[[1, 2, 3, 4]]),
        packed(1, 6, 7, meta=dict(task='chat', gt_task='none')),  # an image
        packed(2, meta=dict(gt_masks=np.zeros((2, 5, 5), bool))),  # no task
    ]
    out = collate(batch)
    assert out['inputs'].shape == (3, 4, 3, 8, 8)
    assert [s.num_valid_frames for s in out['data_samples']] == [4, 1, 2]
    assert out['data_samples'][0].pad_shape == (4, 8, 8)
    image, two = batch[1]['inputs'], batch[2]['inputs']
    # time: repeat the last frame; space: zeros at the bottom and right
    assert torch.equal(out['inputs'][1, :, :, :6, :7],
                       image.expand(4, -1, -1, -1))
    assert not out['inputs'][1, :, :, 6:].any()
    assert torch.equal(out['inputs'][2, 2:], two[1:].expand(2, -1, -1, -1))
    zero = tpo_collate(batch, frame_pad='zero')['inputs']
    assert not zero[2, 2:].any()
    assert 'gt_bboxes' in out['data_samples'][0]
    assert 'gt_bboxes' not in out['data_samples'][1]
    assert out['data_samples'][2].gt_masks.shape == (2, 5, 5)
    # the preprocessor takes the padded batch as it takes pseudo_collate's
    preprocessor = TPODataPreprocessor()
    data = preprocessor(out)
    assert data['inputs'].shape == (3, 4, 3, 8, 8)
    assert data['inputs'].dtype == torch.float32
    # clips of one shape: the same batch as pseudo_collate + the stacking
    same = [packed(4), packed(4)]
    from mmengine.dataset import pseudo_collate
    torch.testing.assert_close(
        preprocessor(tpo_collate(same))['inputs'],
        preprocessor(pseudo_collate(same))['inputs'])


def test_dataloader_config_builds_with_runner(tmp_path):
    """The stage mixtures' dataloader pieces, built the way the Runner
    builds them (registry names in scope tpo)."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    dataset = ToyDataset(20, 'toy', range(1, 21), pipeline=[ToyPack()])
    with DefaultScope.overwrite_default_scope('tpo'):
        loader = Runner.build_dataloader(
            dict(batch_size=4, num_workers=0, dataset=dataset,
                 sampler=dict(type='DefaultSampler', shuffle=True),
                 batch_sampler=dict(type='LengthGroupedBatchSampler',
                                    group_size=2),
                 collate_fn=dict(type='tpo.tpo_collate')), seed=0)
    batches = list(loader)
    assert len(batches) == 5
    assert {tuple(b['inputs'].shape[:2]) for b in batches} <= {(4, 3), (4, 2)}


# ------------------------------------------------------------ check_dataset
def load_tool():
    spec = importlib.util.spec_from_file_location(
        'check_dataset', REPO / 'tools/dataset_converters/check_dataset.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def broken_tiny_data(root):
    """A VG file with 2 bad regions and a missing image, a ShareGPT file
    with a bad entry and a missing video, a RefCOCO config without its
    refs file, and a good ShareGPT file."""
    (root / 'vg/images/VG_100K').mkdir(parents=True)
    (root / 'vg/images/VG_100K/1.jpg').write_bytes(b'')
    (root / 'vg/region_descriptions.json').write_text(json.dumps([
        dict(id=1, regions=[
            dict(region_id=1, x=1, y=1, width=5, height=5, image_id=1,
                 phrase='ok'),
            dict(region_id=2, x=1, y=1, height=5, image_id=1, phrase='no w'),
            dict(region_id=3, x=1, y=1, width=5, height=5, image_id=1,
                 phrase=7)]),
        dict(id=2, regions=[
            dict(region_id=4, x=1, y=1, width=5, height=5, image_id=2,
                 phrase='image file missing')])]))
    (root / 'vg/image_data.json').write_text(json.dumps([
        dict(image_id=1, width=10, height=10, url='http://x/VG_100K/1.jpg'),
        dict(image_id=2, width=10, height=10, url='http://x/VG_100K/2.jpg')
    ]))
    (root / 'chat/videos').mkdir(parents=True)
    (root / 'chat/videos/a.mp4').write_bytes(b'')
    turns = [dict(conversations=[dict(value='q', **{'from': 'human'}),
                                 dict(value='a', **{'from': 'gpt'})])]
    (root / 'chat/bad.json').write_text(json.dumps([
        dict(turns[0], video='a.mp4'),
        dict(id='bad', video='a.mp4', conversations=[]),
        dict(turns[0], video='gone.mp4')]))
    (root / 'chat/good.json').write_text(json.dumps([
        dict(turns[0], video='a.mp4')]))
    config = root / 'broken.py'
    config.write_text(f'''
data_root = {str(root)!r}
vg = dict(type='VisualGenomeDataset', data_root=data_root,
          ann_file='vg/region_descriptions.json',
          image_file='vg/image_data.json', data_prefix=dict(video='vg/images'))
bad_chat = dict(type='ShareGPTDataset', data_root=data_root,
                ann_file='chat/bad.json',
                data_prefix=dict(video='chat/videos'))
good_chat = dict(type='ShareGPTDataset', data_root=data_root,
                 ann_file='chat/good.json',
                 data_prefix=dict(video='chat/videos'), source='good')
refcoco = dict(type='RefCOCODataset', data_root=data_root,
               ann_file='refcoco/refs(unc).json')
train_dataloader = dict(dataset=dict(type='MixedDataset', datasets=[
    dict(dataset=vg, ratio=1), dict(dataset=bad_chat, ratio=1),
    dict(dataset=dict(type='RepeatDataset', times=2, dataset=refcoco),
         ratio=1),
    dict(dataset=good_chat, ratio=1)]))
''')
    return config


def test_check_dataset_lists_every_problem(tmp_path, capsys):
    config = broken_tiny_data(tmp_path)
    assert load_tool().main([str(config)]) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines()
                if line.startswith('PROBLEM')]
    expected = [
        r"region_descriptions.json index 0 \(id=1\) regions\[1\] "
        r"\(region_id=2\): field 'width' is missing",
        r"regions\[2\] \(region_id=3\): field 'phrase' must be str",
        r"item 1 \(region_id=4\): field 'video_path' .*VG_100K/2.jpg does "
        'not exist',
        r"bad.json index 1 \(id='bad'\): field 'conversations' has no",
        r"item 1: field 'video_path' .*gone.mp4 does not exist",
        r"RefCOCODataset: ann_file .*refs\(unc\).json' does not exist",
    ]
    assert len(problems) == len(expected), out
    for pattern, line in zip(expected, problems):
        assert re.search(pattern, line), (pattern, line)
    assert 'datasets[0].dataset (VisualGenomeDataset)' in problems[0]
    assert 'datasets[2].dataset.dataset (RefCOCODataset)' in problems[-1]
    assert '4 dataset(s) checked, 3 with problems, 6 problem(s) in total' \
        in out
    assert re.search(r'datasets\[3\].dataset \(ShareGPTDataset source=good\)'
                     r': 1 items, OK', out)


def test_check_dataset_cli_exit_codes(tmp_path):
    config = broken_tiny_data(tmp_path)
    tool = REPO / 'tools/dataset_converters/check_dataset.py'
    broken = subprocess.run(
        [sys.executable, str(tool), str(config), '--no-files'],
        capture_output=True, text=True, cwd=REPO)
    assert broken.returncode == 1, broken.stderr
    assert "field 'width' is missing" in broken.stdout
    assert 'gone.mp4' not in broken.stdout  # --no-files
    clean = tmp_path / 'clean.py'
    clean.write_text(config.read_text() + '''
train_dataloader = dict(dataset=dict(type='MixedDataset', _delete_=True,
                                     datasets=[good_chat], ratios=[1]))
''')
    ok = subprocess.run([sys.executable, str(tool), str(clean)],
                        capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert '1 dataset(s) checked, 0 with problems' in ok.stdout

