"""Readers of the spatial / segmentation / tracking / conversation sources
of the TPO stage mixtures, on small files in the real formats."""
import json
import os
import pickle
import re

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from PIL import Image

from tests._shared import shared_path
from tpo.datasets import (ASV2Dataset, AnnotationError, LaSOTDataset,
                          MeViSDataset, RefCOCODataset, RefYouTubeVOSDataset,
                          SAVDataset, ShareGPTDataset, VisualGenomeDataset,
                          convert_refs_pickle, decode_palette_masks,
                          load_refs_pickle)
from tpo.datasets.transforms import (ListFramePaths, LoadMaskletMasks,
                                     LoadPaletteMasks)
from tpo.registry import DATASETS
from tpo.tasks import BOX_PROMPT_TOKEN

DAVIS = 'data/annotations/davis2017_osvos_results'


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return str(path)


def write_image(path, size=(40, 30)):
    """An RGB image of ``size`` (w, h)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size, (10, 20, 30)).save(path)
    return str(path)


# ----------------------------------------------------------------- RefCOCO
REFS = [
    dict(ref_id=0, ann_id=10, image_id=1, category_id=3, split='train',
         sent_ids=[0, 1], file_name='COCO_train2014_000000000001_10.jpg',
         sentences=[
             dict(sent_id=0, sent='left dog', raw='Left dog.',
                  tokens=['left', 'dog']),
             dict(sent_id=1, sent='the brown dog', raw='the brown dog',
                  tokens=('the', 'brown', 'dog')),
         ]),
    dict(ref_id=1, ann_id=11, image_id=1, category_id=3, split='val',
         sent_ids=[2], file_name='COCO_train2014_000000000001_11.jpg',
         sentences=[dict(sent_id=2, sent='right dog', raw='right dog',
                         tokens=['right', 'dog'])]),
]
INSTANCES = dict(
    images=[dict(id=1, file_name='COCO_train2014_000000000001.jpg',
                 height=480, width=640)],
    annotations=[
        dict(id=10, image_id=1, category_id=3, bbox=[10, 20, 30, 40]),
        dict(id=11, image_id=1, category_id=3, bbox=[100, 20, 30, 40]),
    ])


class NotBuiltin:
    """Any class: its pickle names it, which the converter must refuse."""


class RunsCode:

    def __reduce__(self):
        return (os.system, ('echo owned',))


@pytest.mark.parametrize('protocol', [0, 2, pickle.HIGHEST_PROTOCOL])
def test_refcoco_pickle_to_json(tmp_path, protocol):
    src = tmp_path / 'refcoco' / 'refs(unc).p'
    src.parent.mkdir()
    src.write_bytes(pickle.dumps(REFS, protocol=protocol))
    dst = convert_refs_pickle(str(src))
    assert dst == str(tmp_path / 'refcoco' / 'refs(unc).json')
    write_json(tmp_path / 'refcoco' / 'instances.json', INSTANCES)
    dataset = RefCOCODataset(
        data_root=str(tmp_path), ann_file='refcoco/refs(unc).json',
        instances_file='refcoco/instances.json', source='refcoco',
        data_prefix=dict(video='coco/train2014'))
    assert len(dataset) == 1
    item = dataset[0]
    assert item['expressions'] == ['left dog', 'the brown dog']
    np.testing.assert_array_equal(item['gt_bboxes'], [[10, 20, 40, 60]])
    assert item['video_path'].endswith(
        'coco/train2014/COCO_train2014_000000000001.jpg')
    # tuples become lists, the rest is unchanged
    assert json.loads(open(dst).read())[0]['sentences'][1]['tokens'] == [
        'the', 'brown', 'dog'
    ]
    with pytest.raises(FileExistsError):
        convert_refs_pickle(str(src))
    convert_refs_pickle(str(src), overwrite=True)


@pytest.mark.parametrize('payload, name', [
    (NotBuiltin(), 'NotBuiltin'),
    (RunsCode(), 'system'),
    ([dict(ref_id=0, sentences=[NotBuiltin()])], 'NotBuiltin'),
])
def test_refcoco_pickle_refuses_objects(tmp_path, payload, name):
    src = tmp_path / 'refs(unc).p'
    src.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(pickle.UnpicklingError,
                       match=rf'refs\(unc\).p: refusing to load .*{name}'):
        load_refs_pickle(str(src))
    with pytest.raises(pickle.UnpicklingError):
        convert_refs_pickle(str(src))
    assert not (tmp_path / 'refs(unc).json').exists()


def test_refcoco_pickle_bad_ref_and_cli(tmp_path, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'refcoco_pickle_to_json',
        'tools/dataset_converters/refcoco_pickle_to_json.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    bad = [dict(REFS[0]), dict(REFS[1])]
    del bad[1]['sentences']
    src = tmp_path / 'refs(umd).p'
    src.write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(AnnotationError,
                       match=r"refs\(umd\).p index 1 \(ref_id=1\): field "
                       r"'sentences' is missing"):
        load_refs_pickle(str(src))
    evil = tmp_path / 'evil.p'
    evil.write_bytes(pickle.dumps(RunsCode(), protocol=2))
    good = tmp_path / 'good.p'
    good.write_bytes(pickle.dumps(REFS, protocol=2))
    assert tool.main([str(evil), str(good)]) == 1
    err = capsys.readouterr()
    assert 'FAILED' in err.err and 'posix.system' in err.err
    assert (tmp_path / 'good.json').exists()
    assert not (tmp_path / 'evil.json').exists()


# ------------------------------------------------------------ Visual Genome
def write_vg(root, regions=None, images=None):
    images = images or [
        dict(width=800, height=600, image_id=1, coco_id=None, flickr_id=None,
             url='https://cs.stanford.edu/people/rak248/VG_100K_2/1.jpg'),
        dict(width=100, height=50, image_id=7, coco_id=9, flickr_id=None,
             url='https://cs.stanford.edu/people/rak248/VG_100K/7.jpg'),
    ]
    regions = regions or [
        dict(id=1, regions=[
            dict(region_id=1382, width=82, height=139, image_id=1,
                 phrase='the clock is green in colour', y=57, x=421),
            dict(region_id=1383, width=0, height=10, image_id=1,
                 phrase='a degenerate box', y=5, x=5),
        ]),
        dict(id=7, regions=[
            dict(region_id=5, width=90, height=40, image_id=7,
                 phrase='  a wide box past the edge ', y=20, x=30),
            dict(region_id=6, width=10, height=10, image_id=7, phrase='',
                 y=0, x=0),
        ]),
    ]
    write_json(root / 'region_descriptions.json', regions)
    write_json(root / 'image_data.json', images)
    return root


def test_visual_genome(tmp_path):
    root = write_vg(tmp_path)
    dataset = DATASETS.build(
        dict(type='VisualGenomeDataset', data_root=str(root),
             data_prefix=dict(video='images')))
    assert len(dataset) == 2 and dataset.num_skipped == 2
    first, second = dataset[0], dataset[1]
    assert first['task'] == 'region' and first['source'] == 'visual_genome'
    assert first['expressions'] == ['the clock is green in colour']
    np.testing.assert_array_equal(first['gt_bboxes'],
                                  [[421, 57, 503, 196]])
    assert first['ori_shape'] == (600, 800)
    assert first['video_path'] == str(root / 'images/VG_100K_2/1.jpg')
    assert second['expressions'] == ['a wide box past the edge']
    np.testing.assert_array_equal(second['gt_bboxes'], [[30, 20, 100, 50]])
    assert second['video_path'].endswith('images/VG_100K/7.jpg')
    assert (second['image_id'], second['region_id']) == (7, 5)


@pytest.mark.parametrize('change, pattern', [
    (dict(x='12'), "field 'x' must be int or float, got str"),
    (dict(width=-3), "field 'width' and height must be >= 0"),
    (dict(image_id=99), "field 'image_id' 99 is not in .*image_data.json"),
    (dict(phrase=None), "field 'phrase' must be str"),
])
def test_visual_genome_errors(tmp_path, change, pattern):
    regions = [dict(id=1, regions=[dict(
        dict(region_id=1382, width=82, height=139, image_id=1,
             phrase='the clock', y=57, x=421), **change)])]
    root = write_vg(tmp_path, regions=regions)
    with pytest.raises(AnnotationError,
                       match=r'region_descriptions.json index 0 \(id=1\) '
                       r'regions\[0\] \(region_id=1382\): ' + pattern):
        VisualGenomeDataset(data_root=str(root))


def test_visual_genome_collects_every_error(tmp_path):
    regions = [
        dict(id=1, regions=[
            dict(region_id=1, width=8, height=9, image_id=1, phrase='ok',
                 y=5, x=4),
            dict(region_id=2, height=9, image_id=1, phrase='no width', y=5,
                 x=4),
            dict(region_id=3, width=8, height=9, image_id=1, phrase=3, y=5,
                 x=4),
        ]),
        dict(id=2),
    ]
    images = [dict(width=800, height=600, image_id=1),
              dict(width='800', height=600, image_id=2)]
    root = write_vg(tmp_path, regions=regions, images=images)
    dataset = VisualGenomeDataset(data_root=str(root), lazy_init=True)
    dataset.collect_errors = True
    dataset.full_init()
    assert len(dataset) == 1
    messages = [str(e) for e in dataset.parse_errors]
    assert len(messages) == 4, messages
    assert "image_data.json index 1: field 'width' must be int" in messages[0]
    assert "regions[1] (region_id=2): field 'width' is missing" in messages[1]
    assert "regions[2] (region_id=3): field 'phrase' must be str" in \
        messages[2]
    assert "index 1 (id=2): field 'regions' is missing" in messages[3]


# --------------------------------------------------------- Ref-YouTube-VOS
META = {
    'videos': {
        'bike-packing': {
            'expressions': {
                '0': {'exp': 'a man riding a bike', 'obj_id': '1'},
                '1': {'exp': 'the bike', 'obj_id': '2'},
            },
            'frames': ['00010', '00011', '00020', '00030'],
        },
        'blackswan': {
            'expressions': {'0': {'exp': 'a black swan', 'obj_id': '1'}},
            'frames': ['00010', '00011'],
        },
    }
}


def ref_ytvos(tmp_path, meta=META, **kwargs):
    """Expressions in tmp_path, masks = the real DAVIS palette PNGs."""
    ann = write_json(tmp_path / 'meta_expressions/train/'
                     'meta_expressions.json', meta)
    return RefYouTubeVOSDataset(
        ann_file=ann,
        data_prefix=dict(video=str(tmp_path / 'train/JPEGImages'),
                         mask=str(shared_path(DAVIS))), **kwargs)


def test_ref_youtube_vos_real_palette_masks(tmp_path):
    dataset = ref_ytvos(tmp_path)
    assert len(dataset) == 3
    rider, bike, swan = (dataset[i] for i in range(3))
    assert rider['task'] == 'mask' and rider['source'] == 'ref_youtube_vos'
    assert rider['expression'] == 'a man riding a bike'
    assert rider['obj_ids'] == [1] and bike['obj_ids'] == [2]
    assert rider['frame_dir'] == str(tmp_path /
                                     'train/JPEGImages/bike-packing')
    assert rider['num_frames'] == 4
    masks = decode_palette_masks(rider['mask_dir'], rider['frame_names'],
                                 [1], [0, 3])
    both = decode_palette_masks(rider['mask_dir'], rider['frame_names'],
                                [1, 2], [0, 3])
    ids = np.asarray(Image.open(shared_path(DAVIS) /
                                'bike-packing/00030.png'))
    assert masks.shape == (2, 480, 910) and masks.dtype == bool
    np.testing.assert_array_equal(masks[1], ids == 1)
    np.testing.assert_array_equal(both[1], ids > 0)
    assert masks[1].any() and (both[1] & ~masks[1]).any()
    # the pipeline reads the masks of the sampled positions
    results = LoadPaletteMasks()(dict(swan, frame_inds=np.array([1])))
    swan_ids = np.asarray(Image.open(shared_path(DAVIS) /
                                     'blackswan/00011.png'))
    np.testing.assert_array_equal(results['gt_masks'][0], swan_ids == 1)
    paths = ListFramePaths()(dict(swan))['image_paths']
    assert paths == [
        str(tmp_path / 'train/JPEGImages/blackswan/00010.jpg'),
        str(tmp_path / 'train/JPEGImages/blackswan/00011.jpg')
    ]


def test_ref_youtube_vos_valid_split_without_masks(tmp_path):
    meta = {'videos': {'0a1b': {'expressions': {'0': {'exp': 'a cat'}},
                                'frames': ['00000', '00005']}}}
    ann = write_json(tmp_path / 'valid/meta_expressions.json', meta)
    dataset = RefYouTubeVOSDataset(
        ann_file=ann, data_prefix=dict(video=str(tmp_path / 'JPEGImages')),
        test_mode=True)
    item = dataset[0]
    assert item['expression'] == 'a cat' and 'mask_dir' not in item
    assert LoadPaletteMasks()(dict(item)) == item  # nothing to load


@pytest.mark.parametrize('expression, pattern', [
    ({'exp': 'a man', 'obj_id': 'one'},
     "field 'obj_id' must be an integer object id, got 'one'"),
    ({'exp': 'a man'}, "field 'obj_id' is missing"),
    ({'exp': '  ', 'obj_id': '1'}, "field 'exp' is empty"),
    ({'exp': 'a man', 'obj_id': 300}, "field 'obj_id' must be in 1..255"),
])
def test_ref_youtube_vos_errors(tmp_path, expression, pattern):
    meta = {'videos': {'v': {'expressions': {'0': expression},
                             'frames': ['00000']}}}
    with pytest.raises(AnnotationError,
                       match=r"meta_expressions.json video 'v' expression "
                       r"'0': " + pattern):
        ref_ytvos(tmp_path, meta)


def test_ref_youtube_vos_and_mevis_share_the_parser(tmp_path):
    meta = {'videos': {'v': {'expressions': {'0': {'exp': 'a man',
                                                   'obj_id': '1'}}}}}
    with pytest.raises(AnnotationError,
                       match=r"video 'v': field 'frames' is missing"):
        ref_ytvos(tmp_path, meta)
    ann = write_json(tmp_path / 'mevis.json', meta)
    with pytest.raises(AnnotationError,
                       match=r"video 'v': field 'frames' is missing"):
        MeViSDataset(ann_file=ann, mask_file=None)


# -------------------------------------------------------------------- SA-V
def rle(mask):
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    encoded['counts'] = encoded['counts'].decode('ascii')  # as in the json
    return encoded


def sav_masks(num_frames=3, height=24, width=32):
    """Two masklets: object 0 a moving square, object 1 appearing in frame 1
    and empty (an empty RLE) in frame 0."""
    frames = []
    for t in range(num_frames):
        first = np.zeros((height, width), bool)
        first[2:10, 3 + t:13 + t] = True
        second = np.zeros((height, width), bool)
        if t:
            second[12:20, 20:30] = True
        frames.append([rle(first), rle(second)])
    return frames


def sav_json(frames, **changes):
    return dict(dict(
        video_id='sav_000001', video_duration=0.5, video_frame_count=12.0,
        video_height=24.0, video_width=32.0, video_resolution=768.0,
        video_environment='Indoor', video_split='train', masklet=frames,
        masklet_id=[0, 1], masklet_size_rel=[0.1, 0.1],
        masklet_size_abs=[80.0, 80.0], masklet_size_bucket=['medium'] * 2,
        masklet_visibility_changes=[0, 1],
        masklet_first_appeared_frame=[0, 1], masklet_frame_count=[3, 3],
        masklet_edited_frame_count=[0, 0], masklet_type=['manual'] * 2,
        masklet_stability_score=None, masklet_num=2), **changes)


def test_sav(tmp_path):
    frames = sav_masks()
    write_json(tmp_path / 'sav_train/sav_000/sav_000001_manual.json',
               sav_json(frames))
    (tmp_path / 'list.txt').write_text('sav_000/sav_000001\n')
    by_folder = SAVDataset(
        data_root=str(tmp_path), ann_file='sav_train',
        data_prefix=dict(video='sav_train'))
    by_list = SAVDataset(
        data_root=str(tmp_path), ann_file='list.txt',
        data_prefix=dict(video='sav_train'), keep_rles=True)
    assert len(by_folder) == len(by_list) == 2
    first, second = by_folder[0], by_folder[1]
    assert first['task'] == 'mask' and first['source'] == 'sav'
    assert first['video_path'] == str(tmp_path /
                                      'sav_train/sav_000/sav_000001.mp4')
    assert first['ori_shape'] == (24, 32) and first['num_mask_frames'] == 3
    np.testing.assert_array_equal(first['prompt_bboxes'], [[3, 2, 13, 10]])
    assert second['first_visible'] == 1
    np.testing.assert_array_equal(second['prompt_bboxes'],
                                  [[20, 12, 30, 20]])
    assert BOX_PROMPT_TOKEN in first['expression']
    assert first['track_box'] == BOX_PROMPT_TOKEN
    # masks of sampled video frames: frame 4 is annotated frame 1, frame 5
    # takes the nearest annotation (1), frame 9 the last one (2)
    for item in (first, by_list[0]):
        results = LoadMaskletMasks()(dict(item,
                                          frame_inds=np.array([0, 4, 5, 9])))
        expected = [mask_utils.decode(frames[t][0]).astype(bool)
                    for t in (0, 1, 1, 2)]
        np.testing.assert_array_equal(results['gt_masks'], expected)
    assert len(by_list[0]['mask_rles']) == 3
    track = SAVDataset(data_root=str(tmp_path), ann_file='sav_train',
                       task='track', data_prefix=dict(video='sav_train'))
    assert track[0]['task'] == 'track'


@pytest.mark.parametrize('changes, pattern', [
    (dict(masklet_id=[0]), r"field 'masklet' frame 0 must list one RLE per "
     r'masklet_id \(1\), got 2'),
    (dict(masklet='x'), r"field 'masklet' must be list"),
    (dict(video_height=0), r"field 'video_height' must be positive"),
    (dict(masklet=[[{'size': [24, 32]}, None]] * 3),
     r"field 'masklet' frame 0 object 0 is not a COCO RLE"),
    (dict(masklet=[[None, None]] * 2),
     r"field 'masklet' object 0 \(masklet_id 0\) is empty in every frame"),
])
def test_sav_errors(tmp_path, changes, pattern):
    path = write_json(tmp_path / 'v/sav_000002_manual.json',
                      sav_json(sav_masks(), **changes))
    with pytest.raises(AnnotationError,
                       match=re.escape(path) + ' top level: ' + pattern):
        SAVDataset(ann_file=str(tmp_path / 'v'))


# ----------------------------------------------------------------- GOT-10k
def write_got10k(root, seq='GOT-10k_Train_000001', rows='1,2,3,4\n5,6,7,8\n',
                 absence='0\n1\n', cover='8\n0\n', cut='0\n1\n',
                 meta='object_class: ferret\nmotion_class: walking\n'):
    folder = root / seq
    folder.mkdir(parents=True)
    (root / 'list.txt').write_text(f'{seq}\n')
    (folder / 'groundtruth.txt').write_text(rows)
    for name, text in (('absence.label', absence), ('cover.label', cover),
                       ('cut_by_image.label', cut), ('meta_info.ini', meta)):
        if text is not None:
            (folder / name).write_text(text)
    return root


def test_got10k_train_layout(tmp_path):
    root = write_got10k(tmp_path)
    item = LaSOTDataset(ann_file='list.txt', data_root=str(root),
                        layout='got10k', source='got10k')[0]
    assert item['task'] == 'track' and item['source'] == 'got10k'
    assert item['sequence'] == 'GOT-10k_Train_000001'
    assert item['category'] == 'ferret' and 'expression' not in item
    assert item['num_frames'] == 2 and not item['first_box_only']
    np.testing.assert_array_equal(item['gt_bboxes_xyxy'],  # 0-based
                                  [[1, 2, 4, 6], [5, 6, 12, 14]])
    np.testing.assert_array_equal(item['absent'], [0, 1])
    np.testing.assert_array_equal(item['cover'], [8, 0])
    np.testing.assert_array_equal(item['cut_by_image'], [0, 1])
    assert item['frame_dir'] == str(root / 'GOT-10k_Train_000001')


def test_got10k_test_split_first_box_only(tmp_path):
    root = write_got10k(tmp_path, seq='GOT-10k_Test_000001', rows='1,2,3,4',
                        absence=None, cover=None, cut=None, meta=None)
    for i in range(1, 6):
        (root / 'GOT-10k_Test_000001' / f'{i:08d}.jpg').write_bytes(b'')
    item = LaSOTDataset(ann_file='list.txt', data_root=str(root),
                        layout='got10k', test_mode=True)[0]
    assert item['first_box_only'] and item['num_frames'] == 5
    assert item['gt_track_bboxes'].shape == (1, 4) and item['category'] == ''


@pytest.mark.parametrize('kwargs, pattern', [
    (dict(cover='9\n0\n'), r"cover.label line 1: field 'cover' must be an "
     'integer 0..8'),
    (dict(absence='0\n'), r"absence.label line 2: field 'absent' has 1"),
    (dict(cut=None), r'cut_by_image.label.* does not exist'),
    (dict(rows='1,2,3\n'), r"groundtruth.txt line 1: field 'x,y,w,h'"),
])
def test_got10k_errors(tmp_path, kwargs, pattern):
    root = write_got10k(tmp_path, **kwargs)
    with pytest.raises((AnnotationError, FileNotFoundError), match=pattern):
        LaSOTDataset(ann_file='list.txt', data_root=str(root),
                     layout='got10k')


# ---------------------------------------------------------------- ShareGPT
SHAREGPT = [
    {'id': 'v1', 'video': 'clips/v1.mp4', 'conversations': [
        {'from': 'human', 'value': '<video>\nWhat happens?'},
        {'from': 'gpt', 'value': 'A dog runs.'},
        {'from': 'human', 'value': 'Which colour is it?'},
        {'from': 'gpt', 'value': 'Brown.'}]},
    {'id': 'i1', 'image': 'coco/1.jpg', 'start': 1, 'end': 3,
     'conversations': [
         {'from': 'system', 'value': 'Be brief.'},
         {'from': 'user', 'value': 'Describe it. <image>'},
         {'from': 'assistant', 'value': 'A table.'}]},
]


@pytest.mark.parametrize('suffix', ['.json', '.jsonl'])
def test_sharegpt(tmp_path, suffix):
    path = tmp_path / f'conversations{suffix}'
    path.write_text(json.dumps(SHAREGPT) if suffix == '.json' else
                    ''.join(json.dumps(r) + '\n' for r in SHAREGPT))
    dataset = ShareGPTDataset(ann_file=str(path), source='sharegpt4o',
                              data_prefix=dict(video='/media'))
    video, image = dataset[0], dataset[1]
    assert video['task'] == 'chat' and video['source'] == 'sharegpt4o'
    assert video['video_path'] == '/media/clips/v1.mp4'
    assert video['instruction'] == '' and video['sample_id'] == 'v1'
    assert video['conversation'] == [
        dict(question='What happens?', answer='A dog runs.'),
        dict(question='Which colour is it?', answer='Brown.')]
    assert image['video_path'] == '/media/coco/1.jpg'
    assert image['instruction'] == 'Be brief.'
    assert image['conversation'] == [dict(question='Describe it.',
                                          answer='A table.')]
    assert image['clip_window'] == (1.0, 3.0)


@pytest.mark.parametrize('entry, pattern', [
    ({'video': 'a.mp4', 'conversations': [
        {'from': 'gpt', 'value': 'hi'}, {'from': 'human', 'value': 'q'}]},
     r"index 0 conversations\[0\]: field 'from' must be one of \('human', "
     r"'user'\) here"),
    ({'id': 7, 'video': 'a.mp4', 'conversations': [
        {'from': 'human', 'value': 'q'}]},
     r"index 0 \(id=7\) conversations\[0\]: field 'from' 'human' ends the "
     'conversation'),
    ({'video': 'a.mp4'}, r"index 0: field 'conversations' is missing"),
    ({'conversations': [{'from': 'human', 'value': 'q'},
                        {'from': 'gpt', 'value': 'a'}]},
     r"index 0: field 'video' is missing \(and so is 'image'\)"),
    ({'image': ['a.jpg', 'b.jpg'], 'conversations': []},
     r"index 0: field 'image' must be str, got list"),
    ({'video': 'a.mp4', 'conversations': [
        {'from': 'human', 'value': '<video> q'},
        {'from': 'gpt', 'value': 'a'},
        {'from': 'human', 'value': '<image> q'},
        {'from': 'gpt', 'value': 'a'}]},
     r"index 0: field 'conversations' holds 2 <video>/<image> placeholders"),
    ({'video': 'a.mp4', 'conversations': [
        {'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': ' '}]},
     r"index 0 conversations\[1\]: field 'value' is empty"),
])
def test_sharegpt_errors(tmp_path, entry, pattern):
    path = write_json(tmp_path / 'c.json', [entry])
    with pytest.raises(AnnotationError, match=r'c.json ' + pattern):
        ShareGPTDataset(ann_file=path)


# ------------------------------------------------------------------- AS-V2
def test_as_v2(tmp_path):
    write_image(tmp_path / 'coco/train2017/1.jpg', size=(200, 100))
    entries = [{
        'id': 1, 'image': 'coco/train2017/1.jpg',
        'conversations': [
            {'from': 'human', 'value': '<image>\nDescribe the scene.'},
            {'from': 'gpt', 'value':
             'A <ref>bus</ref><box>[[100, 200, 500, 800]]</box> is '
             '<pred>on</pred><box>[[100, 200, 500, 800]]</box>'
             '<box>[[0, 600, 999, 999]]</box> a <ref>road</ref>'
             '<box>[[0, 600, 999, 999]]</box>. Two <ref>people</ref>'
             '<box>[[1, 2, 3, 4], [5, 6, 7, 8]]</box> wave; the '
             '<ref>bus</ref><box>[[100, 200, 500, 800]]</box> waits.'}]
    }]
    path = write_json(tmp_path / 'as_v2/rec_conversation_22k.json', entries)
    dataset = ASV2Dataset(ann_file=path, data_prefix=dict(video=str(tmp_path)))
    assert len(dataset) == 2  # bus, road (people has two boxes; bus repeats)
    bus, road = dataset[0], dataset[1]
    assert bus['task'] == 'region' and bus['source'] == 'as_v2'
    assert bus['expressions'] == ['bus'] and road['expressions'] == ['road']
    assert bus['ori_shape'] == (100, 200)
    np.testing.assert_allclose(bus['gt_bboxes'], [[20, 20, 100, 80]])
    np.testing.assert_allclose(road['gt_bboxes'], [[0, 60, 199.8, 99.9]],
                               rtol=1e-5)
    padded = ASV2Dataset(ann_file=path, square_pad=True,
                         data_prefix=dict(video=str(tmp_path)))
    # a 200 x 100 image centred in a 200 x 200 square: y shifts by 50
    np.testing.assert_allclose(padded[0]['gt_bboxes'], [[20, 0, 100, 100]])


def test_as_v2_errors(tmp_path):
    entries = [{'id': 'x', 'image': 'missing.jpg', 'conversations': [
        {'from': 'human', 'value': 'Where is the <ref>cat</ref>'
         '<box>[[1, 2, 3, 4]]</box>?'},
        {'from': 'gpt', 'value': 'There.'}]}]
    path = write_json(tmp_path / 'rec.json', entries)
    with pytest.raises(AnnotationError,
                       match=r"rec.json index 0 \(id='x'\): field 'image' "
                       r'.*missing.jpg does not exist'):
        ASV2Dataset(ann_file=path, data_prefix=dict(video=str(tmp_path)))
    write_image(tmp_path / 'missing.jpg')
    entries[0]['conversations'][0]['value'] = (
        '<ref>cat</ref><box>[[9, 2, 3, 4]]</box>')
    path = write_json(tmp_path / 'rec.json', entries)
    with pytest.raises(AnnotationError,
                       match=r"field 'conversations' box \[9.0, 2.0, 3.0, "
                       r"4.0\] of 'cat' must be"):
        ASV2Dataset(ann_file=path, data_prefix=dict(video=str(tmp_path)))
