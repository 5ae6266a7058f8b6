"""The balance of the synthetic world (format version 2): what each task's
trivial answer can score, and that every skill has the data it needs."""
import json

import numpy as np
import pytest

from tpo.datasets.synthetic import generate_world, language, sample_scene
from tpo.datasets.synthetic.scene import CLIP_S, WINDOW_CLIPS

TINY = dict(num_videos={'train': 8, 'val': 4}, seed=3)


def read_json(path):
    with open(path) as f:
        return json.load(f)


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


def test_colours_are_unique_and_guests_stay_on_the_clip_grid():
    guests = 0
    for seed in range(40):
        scene = sample_scene(
            np.random.default_rng(seed), 'v', (128, 128), 8, (8, 12), (2, 4))
        colours = [o.color for o in scene.objects]
        assert len(set(colours)) == len(colours)
        clip = CLIP_S * scene.fps
        for obj in scene.objects:
            if (obj.appear, obj.disappear) == (0, scene.num_frames):
                continue
            guests += 1
            assert obj.appear % clip == 0 and obj.disappear % clip == 0
            length = (obj.disappear - obj.appear) // clip
            assert length in WINDOW_CLIPS
            assert 2 * length < scene.num_frames // clip
    assert guests > 10


def test_whole_video_never_overlaps_a_query_by_half(world, gt):
    for split in ('train', 'val'):
        path = f'{world}/qvhighlights/highlight_{split}_release.jsonl'
        with open(path) as f:
            rows = [json.loads(line) for line in f]
        assert rows
        for row in rows:
            video = gt[row['vid']]
            covered = sum(end - start
                          for start, end in row['relevant_windows'])
            assert 2 * covered < row['duration']
            # the query names an object that is visible in its windows
            obj = next(o for o in video['objects']
                       if o['color'] in row['query'].split())
            assert row['query'] in [
                t.format(color=obj['color'], shape=obj['shape'])
                for t in language.QVH_APPEAR
            ]
            fps = video['fps']
            for start, end in row['relevant_windows']:
                assert np.mean(obj['visible'][start * fps:end * fps]) >= 0.5


def test_mevis_expressions_name_one_object_there_from_the_start(world, gt):
    for split in ('train', 'val'):
        meta = read_json(f'{world}/mevis/{split}/meta_expressions.json')
        for vid, entry in meta['videos'].items():
            objects = {o['obj_id']: o for o in gt[vid]['objects']}
            for exp in entry['expressions'].values():
                assert len(exp['obj_id']) == 1
                assert objects[exp['obj_id'][0]]['appear'] == 0


def test_where_and_when_answers(world, gt):
    places = {a: k for k, a in language.PLACES.items()}
    whens = {language.WHEN_ANSWERS[k]: k for k in language.WHEN_ANSWERS}
    asked = set()
    for item in read_json(f'{world}/videochat2_it/train.json'):
        video = gt[item['video'][:-len('.mp4')]]
        for qa in item['QA']:
            words = language.split_words(qa['q'])
            if words[:2] == ['where', 'is']:
                obj = next(o for o in video['objects']
                           if o['color'] == words[3])
                assert obj['motion'] == 'static'
                row, col = places[qa['a'][len('It is '):-1]]
                assert row == min(2, int(3 * obj['start'][1] / 128))
                assert col == min(2, int(3 * obj['start'][0] / 128))
                asked.add('where')
            if words[:2] == ['when', 'can']:
                obj = next(o for o in video['objects']
                           if o['color'] == words[3])
                key = whens[qa['a']]
                whole = obj['disappear'] - obj['appear'] == \
                    video['num_frames']
                assert (key == 'whole') == whole
                asked.add('when')
    assert asked == {'where', 'when'}
