import json
import os
import os.path as osp
from pathlib import Path

import decord
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from pycocotools.coco import COCO

from tpo.datasets.synthetic import (COLORS, SHAPES, ensure_synthetic_world,
                                    generate_world, sample_scene, split_words,
                                    world_vocabulary)

TINY = dict(num_videos={'train': 6, 'val': 3}, seed=0)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def mask_box(mask):
    ys, xs = np.nonzero(mask)
    return [xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0]


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('world'))
    generate_world(root, num_workers=0, **TINY)
    return root


@pytest.fixture(scope='module')
def gt(world):
    return {
        v['video_id']: v
        for v in read_json(f'{world}/world_gt.json')['videos']
    }


def annotation_files(root):
    return sorted(
        p.relative_to(root) for p in Path(root).rglob('*')
        if p.suffix in ('.json', '.jsonl', '.txt', '.mp4', '.jpg'))


def test_scene_sampling():
    for seed in range(20):
        scene = sample_scene(
            np.random.default_rng(seed), 'v', (128, 96), 8, (8, 12), (2, 4))
        assert 64 <= scene.num_frames <= 96 and scene.duration % 2 == 0
        pairs = [(o.color, o.shape) for o in scene.objects]
        assert 2 <= len(pairs) <= 4 and len(set(pairs)) == len(pairs)
        for obj in scene.objects:
            assert obj.color in COLORS and obj.shape in SHAPES
            assert 0.2 * 96 - 1 <= obj.size <= 0.4 * 96 + 1
            centres, _ = obj.trajectory(scene.num_frames, 128, 96)
            assert (centres - obj.size / 2 >= 0).all()
            assert (centres + obj.size / 2 <= [96, 128]).all()


def test_same_seed_same_bytes_other_seed_differs(world, tmp_path):
    same = str(tmp_path / 'same')
    generate_world(same, num_workers=2, **TINY)  # workers do not matter
    files = annotation_files(world)
    assert files == annotation_files(same) and len(files) > 700
    for name in files:
        assert (Path(world) / name).read_bytes() == \
            (Path(same) / name).read_bytes(), name
    other = str(tmp_path / 'other')
    generate_world(other, num_workers=0, **dict(TINY, seed=1))
    for name in ('world_gt.json', 'qvhighlights/highlight_val_release.jsonl'):
        assert (Path(world) / name).read_bytes() != \
            (Path(other) / name).read_bytes()


def test_meta_is_complete(world):
    meta = read_json(f'{world}/meta.json')
    assert meta['params']['num_videos'] == TINY['num_videos']
    assert meta['counts']['videos'] == TINY['num_videos']
    assert meta['counts']['lasot_sequences'] == {'train': 3, 'val': 2}


def test_decoded_video_matches_ground_truth(world, gt):
    backgrounds = 0
    for vid, video in gt.items():
        reader = decord.VideoReader(osp.join(world, video['file_name']))
        assert len(reader) == video['num_frames'] == video['duration'] * 8
        assert reader.get_avg_fps() == video['fps']
        frame_idx = video['num_frames'] // 2
        frame = reader[frame_idx].asnumpy().astype(int)
        assert frame.shape == (video['height'], video['width'], 3)
        split = video['split']
        mask_dict = read_json(f'{world}/mevis/{split}/mask_dict.json')
        meta = read_json(f'{world}/mevis/{split}/meta_expressions.json')
        anno_ids = {}
        for exp in meta['videos'][vid]['expressions'].values():
            anno_ids.update(zip(exp['obj_id'], exp['anno_id']))
        background = np.ones(frame.shape[:2], dtype=bool)
        # objects entering after frame 0 have no MeViS expression (mask)
        annotated = [o for o in video['objects'] if o['obj_id'] in anno_ids]
        for obj in annotated:
            rle = mask_dict[str(anno_ids[obj['obj_id']])][frame_idx]
            if rle is None:
                continue
            mask = mask_utils.decode(rle).astype(bool)
            background &= ~mask
            # inner pixels: two pixels away from any edge of the mask
            inner = mask.copy()
            for axis in (0, 1):
                for shift in (-2, 2):
                    inner &= np.roll(mask, shift, axis=axis)
            if inner.sum() >= 10:
                error = np.abs(frame[inner] - COLORS[obj['color']]).mean()
                assert error < 8, (vid, obj['color'], error)
        if len(annotated) == len(video['objects']):
            backgrounds += 1
            assert np.abs(frame[background] -
                          video['background']).mean() < 8
    assert backgrounds


def test_mevis_masks_equal_ground_truth(world, gt):
    for split in ('train', 'val'):
        folder = f'{world}/mevis/{split}'
        meta = read_json(f'{folder}/meta_expressions.json')['videos']
        mask_dict = read_json(f'{folder}/mask_dict.json')
        assert sorted(meta) == sorted(v for v in gt if gt[v]['split'] == split)
        for vid, entry in meta.items():
            video = gt[vid]
            assert entry['frames'] == [
                f'{t:05d}' for t in range(video['num_frames'])
            ]
            assert all(
                osp.isfile(f'{folder}/JPEGImages/{vid}/{name}.jpg')
                for name in entry['frames'])
            objects = {o['obj_id']: o for o in video['objects']}
            for exp in entry['expressions'].values():
                assert exp['exp'] and len(exp['obj_id']) == len(
                    exp['anno_id']) >= 1
                for obj_id, anno_id in zip(exp['obj_id'], exp['anno_id']):
                    obj, rles = objects[obj_id], mask_dict[str(anno_id)]
                    assert len(rles) == video['num_frames']
                    for t, rle in enumerate(rles):
                        assert (rle is not None) == obj['visible'][t]
                        if rle is None:
                            assert obj['boxes'][t] is None
                            continue
                        assert isinstance(rle['counts'], str)
                        mask = mask_utils.decode(rle)
                        assert mask.sum() == obj['area'][t]
                        assert mask_box(mask) == obj['boxes'][t]


def test_ground_truth_windows_and_occlusion(gt):
    for video in gt.values():
        for obj in video['objects']:
            for t, visible in enumerate(obj['visible']):
                if not obj['appear'] <= t < obj['disappear']:
                    assert not visible
            assert sum(obj['visible']) >= video['fps']


def test_refcoco(world, gt):
    root = f'{world}/refcoco'
    coco = COCO(f'{root}/instances.json')
    refs = read_json(f'{root}/refs.json')
    assert refs and {r['split'] for r in refs} == {'train', 'val'}
    assert len({r['ref_id'] for r in refs}) == len(refs)
    sent_ids = [s['sent_id'] for r in refs for s in r['sentences']]
    assert len(set(sent_ids)) == len(sent_ids)
    for ref in refs:
        ann = coco.anns[ref['ann_id']]
        assert ann['image_id'] == ref['image_id'] in coco.imgs
        assert ref['category_id'] == ann['category_id']
        assert ref['sent_ids'] == [s['sent_id'] for s in ref['sentences']]
        for sent in ref['sentences']:
            assert sent['tokens'] == sent['sent'].split()
            assert sent['raw'].lower() == sent['sent']
    assert {c['name'] for c in coco.cats.values()} == set(SHAPES)
    frames = {
        link['image_id']: (vid, link['frame'])
        for vid, video in gt.items()
        for link in video['refcoco_images']
    }
    assert sorted(frames) == sorted(coco.imgs)
    for image_id, image in coco.imgs.items():
        assert osp.isfile(f'{root}/images/{image["file_name"]}')
        vid, frame = frames[image_id]
        boxes = [
            o['boxes'][frame] for o in gt[vid]['objects']
            if o['visible'][frame]
        ]
        anns = coco.imgToAnns[image_id]
        assert len(anns) == len(boxes) >= 2
        for ann in anns:
            mask = coco.annToMask(ann)
            assert ann['area'] == mask.sum()
            x, y, w, h = ann['bbox']
            assert [x, y, x + w, y + h] == mask_box(mask) in boxes
            assert mask_utils.toBbox(ann['segmentation']).tolist() == \
                ann['bbox']


def test_lasot(world, gt):
    root = f'{world}/lasot'
    links = {v['lasot']['sequence']: v for v in gt.values() if v['lasot']}
    sets = {}
    for split, file in (('train', 'training_set.txt'), ('val',
                                                        'testing_set.txt')):
        sets[split] = Path(f'{root}/{file}').read_text().split()
    assert sorted(sets['train'] + sets['val']) == sorted(links)
    for split, names in sets.items():
        for name in names:
            video = links[name]
            assert video['split'] == split
            folder = f'{root}/{name.rsplit("-", 1)[0]}/{name}'
            rows = [[int(v) for v in line.split(',')] for line in Path(
                f'{folder}/groundtruth.txt').read_text().splitlines()]
            occluded, out_of_view = ([
                int(v) for v in Path(f'{folder}/{file}').read_text().split(',')
            ] for file in ('full_occlusion.txt', 'out_of_view.txt'))
            first = video['lasot']['first_frame']
            obj = video['objects'][video['lasot']['obj_id']]
            assert name.startswith(obj['shape'] + '-')
            assert len(rows) == len(occluded) == len(out_of_view) == len(
                os.listdir(f'{folder}/img')) == video['num_frames'] - first
            assert osp.isfile(f'{folder}/img/{len(rows):08d}.jpg')
            assert rows[0] != [0, 0, 0, 0]  # trackers start from a box
            for k, row in enumerate(rows):
                box = obj['boxes'][first + k]
                absent = occluded[k] or out_of_view[k]
                assert absent == (box is None)
                if box is None:
                    assert row == [0, 0, 0, 0]
                else:  # 1-based x, y as in LaSOT's toolkit
                    x1, y1, x2, y2 = box
                    assert row == [x1 + 1, y1 + 1, x2 - x1, y2 - y1]
                in_window = obj['appear'] <= first + k < obj['disappear']
                assert out_of_view[k] == (not in_window)
            nlp = Path(f'{folder}/nlp.txt').read_text()
            assert '\n' not in nlp and obj['color'] in nlp


def test_qvhighlights(world, gt):
    qids, annotators_differ = [], False
    for split in ('train', 'val'):
        rows = read_jsonl(
            f'{world}/qvhighlights/highlight_{split}_release.jsonl')
        assert rows
        for row in rows:
            video = gt[row['vid']]
            assert video['split'] == split
            assert row['duration'] == video['duration']
            clip_ids = []
            for start, end in row['relevant_windows']:
                assert start % 2 == 0 and end % 2 == 0
                assert 0 <= start < end <= row['duration']
                clip_ids += range(start // 2, end // 2)
            assert row['relevant_clip_ids'] == clip_ids
            scores = np.array(row['saliency_scores'])
            assert scores.shape == (len(clip_ids), 3)
            assert scores.min() >= 0 and scores.max() <= 4
            annotators_differ |= bool((scores != scores[:, :1]).any())
            qids.append(row['qid'])
    assert len(set(qids)) == len(qids) and annotators_differ


def test_mvbench(world, gt):
    assert sorted(os.listdir(f'{world}/mvbench')) == sorted(
        os.listdir(f'{world}/mvbench_train'))
    for folder, split in (('mvbench', 'val'), ('mvbench_train', 'train')):
        for file in Path(f'{world}/{folder}').glob('*.json'):
            items = read_json(file)
            assert items
            for item in items:
                video = gt[item['video'][:-len('.mp4')]]
                assert video['split'] == split
                assert 3 <= len(item['candidates']) <= 4
                assert len(set(item['candidates'])) == len(item['candidates'])
                assert item['answer'] in item['candidates']
                if file.stem == 'moving_count':
                    assert item['answer'] == str(
                        sum(o['motion'] != 'static' for o in video['objects']))
                if file.stem == 'object_existence':
                    color, shape = split_words(item['question'])[3:5]
                    present = any(o['color'] == color and o['shape'] == shape
                                  for o in video['objects'])
                    assert item['answer'] == ('yes' if present else 'no')


def test_videochat2_it(world, gt):
    for split in ('train', 'val'):
        items = read_json(f'{world}/videochat2_it/{split}.json')
        assert [item['video'] for item in items
                ] == [f'{vid}.mp4' for vid in gt if gt[vid]['split'] == split]
        for item in items:
            assert len(item['QA']) >= 3
            assert all(set(qa) == {'i', 'q', 'a'} for qa in item['QA'])


def generated_texts(world):
    for split in ('train', 'val'):
        for row in read_jsonl(
                f'{world}/qvhighlights/highlight_{split}_release.jsonl'):
            yield row['query']
        meta = read_json(f'{world}/mevis/{split}/meta_expressions.json')
        for video in meta['videos'].values():
            yield from (e['exp'] for e in video['expressions'].values())
        for item in read_json(f'{world}/videochat2_it/{split}.json'):
            yield from (qa[k] for qa in item['QA'] for k in 'iqa')
    for ref in read_json(f'{world}/refcoco/refs.json'):
        yield from (s[k] for s in ref['sentences'] for k in ('sent', 'raw'))
    for file in Path(world).glob('mvbench*/*.json'):
        for item in read_json(file):
            yield item['question']
            yield from item['candidates']
    for file in Path(world).glob('lasot/*/*/nlp.txt'):
        yield file.read_text()


def test_vocabulary_covers_every_text(world):
    vocabulary = world_vocabulary()
    assert vocabulary == sorted(set(vocabulary)) == world_vocabulary()
    assert all(w == w.lower() and w.isalnum() for w in vocabulary)
    used = set()
    for text in generated_texts(world):
        used.update(split_words(text))
    assert used <= set(vocabulary), used - set(vocabulary)
    assert {'red', 'circle', 'left', 'moving', 'yes'} <= used


def test_ensure_synthetic_world(tmp_path):
    root = str(tmp_path / 'world')
    kwargs = dict(num_videos={'train': 2, 'val': 1}, seed=3, num_workers=0)
    assert ensure_synthetic_world(root, **kwargs) == root
    meta_path = Path(root) / 'meta.json'
    stamp = meta_path.stat().st_mtime_ns
    ensure_synthetic_world(root, **dict(kwargs, num_workers=2))  # skipped
    assert meta_path.stat().st_mtime_ns == stamp
    assert not [p for p in os.listdir(tmp_path) if p != 'world']

    with pytest.raises(ValueError, match=r'meta\.json.*num_videos.*seed'):
        ensure_synthetic_world(
            root, **dict(kwargs, seed=4, num_videos={
                'train': 1,
                'val': 1
            }))

    # a half-written world (no meta.json) is replaced by a complete one
    expected = meta_path.read_bytes()
    meta_path.unlink()
    (Path(root) / 'world_gt.json').write_text('{"truncated')
    ensure_synthetic_world(root, **kwargs)
    assert meta_path.read_bytes() == expected
    assert json.loads((Path(root) / 'world_gt.json').read_text())

    # a folder with other content is never deleted
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'precious.txt').write_text('keep me')
    with pytest.raises(ValueError, match='precious.txt'):
        ensure_synthetic_world(str(other), **kwargs)
    assert (other / 'precious.txt').read_text() == 'keep me'


def test_ensure_only_rank_0_generates(tmp_path, monkeypatch):
    from tpo.datasets.synthetic import ensure
    calls = []
    monkeypatch.setattr(ensure, 'get_rank', lambda: 1)
    monkeypatch.setattr(ensure, 'is_distributed', lambda: True)
    monkeypatch.setattr(ensure, 'barrier', lambda: calls.append('barrier'))
    with pytest.raises(FileNotFoundError, match='meta.json'):
        ensure.ensure_synthetic_world(str(tmp_path / 'world'), seed=1)
    assert calls == ['barrier'] and not os.listdir(tmp_path)
