import av
import numpy as np
import pytest
from mmengine.dataset import BaseDataset
from PIL import Image

from tpo.datasets.transforms import (LoadVideoFrames, ResizeFrames,
                                     VideoReadError, random_indices,
                                     start_indices, uniform_indices,
                                     window_to_frame_range)
from tpo.datasets.transforms import loading
from tpo.registry import TRANSFORMS

NUM, FPS, HEIGHT, WIDTH = 40, 10, 48, 64
BACKENDS = ['decord', 'pyav']


def level(index):
    """The red level of frame ``index`` in the test videos."""
    return np.round(np.asarray(index) * 255 / (NUM - 1))


def write_video(path, num=NUM, faststart=False):
    """Frame i is flat RGB (level(i), 255 - level(i), 128), losslessly coded
    (only the RGB <-> YUV conversion rounds)."""
    options = dict(movflags='faststart') if faststart else {}
    with av.open(str(path), 'w', options=options) as container:
        stream = container.add_stream('libx264', rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, 'yuv420p'
        stream.options = {'qp': '0'}
        for i in range(num):
            red = int(level(i))
            img = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            img[...] = (red, 255 - red, 128)
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return str(path)


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp('videos') / 'video.mp4')


def assert_frames_match(frames, inds):
    """The frames are flat RGB frames of the expected indices."""
    mean = frames.reshape(len(frames), -1, 3).mean(1)
    np.testing.assert_allclose(mean[:, 0], level(inds), atol=3)
    np.testing.assert_allclose(mean[:, 1], 255 - level(inds), atol=4)
    np.testing.assert_allclose(mean[:, 2], 128, atol=3)
    assert frames.std(axis=(1, 2)).max() < 2


# frame sampling


def test_uniform_indices():
    np.testing.assert_array_equal(
        uniform_indices(40, 8), [2, 7, 12, 17, 22, 27, 32, 37])
    np.testing.assert_array_equal(uniform_indices(40, 1), [20])
    # fewer frames than requested: repeated, in order
    np.testing.assert_array_equal(uniform_indices(3, 5), [0, 0, 1, 2, 2])
    np.testing.assert_array_equal(uniform_indices(1, 4), [0, 0, 0, 0])
    np.testing.assert_array_equal(
        uniform_indices(40, 4, frame_range=(10, 20)), [11, 13, 16, 18])
    assert uniform_indices(40, 8).dtype == np.int64
    with pytest.raises(ValueError):
        uniform_indices(0, 8)
    with pytest.raises(ValueError):
        uniform_indices(40, 8, frame_range=(30, 41))


def test_start_indices():
    """The first frame of each segment: a tracking clip starts at frame 0
    (GOT-10k's test split has that frame's box only)."""
    np.testing.assert_array_equal(start_indices(80, 4), [0, 20, 40, 60])
    np.testing.assert_array_equal(start_indices(3, 5), [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(
        start_indices(40, 4, frame_range=(10, 20)), [10, 12, 15, 17])
    assert start_indices(80, 4).dtype == np.int64


def test_random_indices():
    draws = np.stack([
        random_indices(40, 8, np.random.default_rng(seed))
        for seed in range(50)
    ])
    assert draws.dtype == np.int64
    # one frame in each segment [5 i, 5 i + 5), and all of them are reached
    segment = np.arange(8) * 5
    assert ((draws >= segment) & (draws < segment + 5)).all()
    assert all(set(col) == set(range(s, s + 5))
               for col, s in zip(draws.T, segment))
    np.testing.assert_array_equal(
        random_indices(40, 8, np.random.default_rng(1)), draws[1])
    # short videos and frame ranges stay inside their frames
    short = random_indices(3, 5, np.random.default_rng(0))
    assert (np.diff(short) >= 0).all() and short.min() >= 0 \
        and short.max() <= 2
    ranged = random_indices(40, 4, np.random.default_rng(0), (10, 20))
    assert ((ranged >= 10) & (ranged < 20)).all()


def test_window_to_frame_range():
    assert window_to_frame_range((1.0, 2.0), 10, 40) == (10, 21)
    assert window_to_frame_range((0.1, 0.5), 30, 100) == (3, 16)
    assert window_to_frame_range((-1, 100), 10, 40) == (0, 40)
    # no frame inside: the next one, or the last one past the end
    assert window_to_frame_range((0.31, 0.38), 10, 40) == (4, 5)
    assert window_to_frame_range((10, 20), 10, 40) == (39, 40)
    with pytest.raises(ValueError):
        window_to_frame_range((2, 1), 10, 40)


# LoadVideoFrames


@pytest.mark.parametrize('backend', BACKENDS)
def test_load_uniform(video, backend):
    load = LoadVideoFrames(num_frames=8, backend=backend)
    results = load(dict(video_path=video))
    inds = uniform_indices(NUM, 8)
    assert results['frames'].shape == (8, HEIGHT, WIDTH, 3)
    assert results['frames'].dtype == np.uint8
    assert results['frame_inds'].dtype == np.int64
    np.testing.assert_array_equal(results['frame_inds'], inds)
    assert_frames_match(results['frames'], inds)
    assert results['fps'] == FPS and isinstance(results['fps'], float)
    assert results['num_video_frames'] == NUM
    assert results['duration'] == pytest.approx(NUM / FPS)
    assert results['frame_times'].dtype == np.float32
    np.testing.assert_allclose(results['frame_times'], inds / FPS)
    assert results['ori_shape'] == results['img_shape'] == (HEIGHT, WIDTH)


@pytest.mark.parametrize('backend', BACKENDS)
def test_load_random(video, backend):
    results = [
        LoadVideoFrames(8, 'random', backend, seed=seed)(
            dict(video_path=video)) for seed in (0, 0, 1)
    ]
    inds = [r['frame_inds'] for r in results]
    np.testing.assert_array_equal(inds[0], inds[1])
    assert not np.array_equal(inds[0], inds[2])
    segment = np.arange(8) * 5
    for r in results:
        assert ((r['frame_inds'] >= segment) &
                (r['frame_inds'] < segment + 5)).all()
        assert_frames_match(r['frames'], r['frame_inds'])
    # without a seed, the draws follow numpy's global state
    load = LoadVideoFrames(8, 'random', backend)
    np.random.seed(3)
    first = load(dict(video_path=video))['frame_inds']
    np.random.seed(3)
    np.testing.assert_array_equal(
        load(dict(video_path=video))['frame_inds'], first)


def test_backends_agree(video, tmp_path):
    mkv = write_video(tmp_path / 'video.mkv')  # no frame count in header
    for path in (video, mkv):
        decord_out, pyav_out = (
            LoadVideoFrames(12, 'random', backend, seed=7)(
                dict(video_path=path)) for backend in BACKENDS)
        np.testing.assert_array_equal(decord_out['frame_inds'],
                                      pyav_out['frame_inds'])
        diff = np.abs(decord_out['frames'].astype(int) - pyav_out['frames'])
        assert diff.max() <= 2
        for key in ('fps', 'num_video_frames', 'duration', 'ori_shape'):
            assert decord_out[key] == pyav_out[key]


@pytest.mark.parametrize('backend', BACKENDS)
def test_load_clip_window(video, backend):
    results = LoadVideoFrames(4, backend=backend)(
        dict(video_path=video, clip_window=(1.0, 1.95)))
    np.testing.assert_array_equal(results['frame_inds'], [11, 13, 16, 18])
    assert ((results['frame_times'] >= 1.0) &
            (results['frame_times'] <= 1.95)).all()
    assert results['duration'] == pytest.approx(NUM / FPS)
    assert_frames_match(results['frames'], results['frame_inds'])


@pytest.mark.parametrize('backend', BACKENDS)
def test_load_short_video(tmp_path, backend):
    path = write_video(tmp_path / 'short.mp4', num=3)
    results = LoadVideoFrames(5, backend=backend)(dict(video_path=path))
    np.testing.assert_array_equal(results['frame_inds'], [0, 0, 1, 2, 2])
    assert results['frames'].shape == (5, HEIGHT, WIDTH, 3)
    np.testing.assert_array_equal(results['frames'][0], results['frames'][1])


def test_pyav_header_overcounts(video, monkeypatch):
    # a header that claims more frames than decode: sample the decoded ones
    monkeypatch.setattr(loading, '_pyav_meta',
                        lambda container: (NUM + 20, FPS))
    results = LoadVideoFrames(8, backend='pyav')(dict(video_path=video))
    assert results['num_video_frames'] == NUM
    np.testing.assert_array_equal(results['frame_inds'],
                                  uniform_indices(NUM, 8))
    assert_frames_match(results['frames'], results['frame_inds'])


@pytest.mark.parametrize('name, overcount', [('once.mp4', False),
                                             ('once.mkv', False),
                                             ('once.mp4', True)])
def test_pyav_opens_a_video_once(tmp_path, monkeypatch, name, overcount):
    # header, sampling and decoding share one open of the file, also when
    # the frames must be counted (mkv) or the header over-counts them
    path = write_video(tmp_path / name)
    if overcount:
        real_meta = loading._pyav_meta
        monkeypatch.setattr(loading, '_pyav_meta', lambda container: (
            real_meta(container)[0] + 20, FPS))
    opened = []
    real_open = av.open
    monkeypatch.setattr(av, 'open',
                        lambda *a, **k: opened.append(a[0]) or real_open(
                            *a, **k))
    results = LoadVideoFrames(8, 'random', 'pyav', seed=1)(
        dict(video_path=path))
    assert opened == [path]
    assert results['num_video_frames'] == NUM
    assert_frames_match(results['frames'], results['frame_inds'])


@pytest.mark.parametrize('image_repeat', [True, False])
def test_load_image(tmp_path, image_repeat):
    img = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    img[..., 0], img[:10, :20, 1] = 200, 100
    path = str(tmp_path / 'image.PNG')
    Image.fromarray(img).save(path, format='png')
    results = LoadVideoFrames(
        6, image_repeat=image_repeat)(dict(video_path=path))
    num = 6 if image_repeat else 1
    assert results['frames'].shape == (num, HEIGHT, WIDTH, 3)
    assert (results['frames'] == img).all()
    np.testing.assert_array_equal(results['frame_inds'], np.zeros(num))
    assert results['frame_times'].shape == (num, )
    assert results['num_video_frames'] == 1 and results['fps'] == 1.0
    assert results['ori_shape'] == (HEIGHT, WIDTH)


@pytest.fixture(scope='module')
def bad_files(tmp_path_factory, video):
    root = tmp_path_factory.mktemp('bad')
    files = dict(
        missing=root / 'missing.mp4',
        truncated=root / 'truncated.mp4',  # the index (moov) is lost
        truncated_data=root / 'truncated_data.mp4',  # index kept, data cut
        garbage=root / 'garbage.mp4',
        empty=root / 'empty.mp4',
        bad_image=root / 'bad.jpg')
    data = open(video, 'rb').read()
    files['truncated'].write_bytes(data[:len(data) // 2])
    faststart = write_video(root / 'faststart.mp4', faststart=True)
    data = open(faststart, 'rb').read()
    files['truncated_data'].write_bytes(data[:len(data) // 2])
    files['garbage'].write_bytes(b'\x00not a video\xff' * 64)
    files['empty'].write_bytes(b'')
    files['bad_image'].write_bytes(b'not an image')
    return {name: str(path) for name, path in files.items()}


BAD = [
    'missing', 'truncated', 'truncated_data', 'garbage', 'empty', 'bad_image'
]


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', BAD)
def test_bad_file_raises(bad_files, backend, name):
    load = LoadVideoFrames(backend=backend, on_error='raise')
    with pytest.raises(VideoReadError) as info:
        load(dict(video_path=bad_files[name]))
    assert bad_files[name] in str(info.value)
    if name == 'missing':
        assert 'no such file' in str(info.value)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', BAD)
def test_bad_file_skips(bad_files, backend, name, monkeypatch):
    logs = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda msg, **kwargs: logs.append((msg, kwargs)))
    load = LoadVideoFrames(backend=backend, on_error='skip')
    assert load(dict(video_path=bad_files[name])) is None
    (msg, kwargs), = logs
    assert bad_files[name] in msg and 'Error' in msg
    assert kwargs['logger'] == 'current'
    assert kwargs['level'] == loading.logging.WARNING


class VideoList(BaseDataset):
    """A dataset of the given video paths."""

    def __init__(self, paths, **kwargs):
        self.paths = paths
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(video_path=path) for path in self.paths]


def test_dataset_refetches(bad_files, video, monkeypatch):
    monkeypatch.setattr(loading, 'print_log', lambda *args, **kwargs: None)
    paths = [bad_files['truncated'], video]
    train = VideoList(paths, pipeline=[LoadVideoFrames(4, 'random')])
    assert train[0]['video_path'] == video
    test = VideoList(
        paths, pipeline=[LoadVideoFrames(4, on_error='raise')],
        test_mode=True)
    with pytest.raises(VideoReadError):
        test[0]


def test_load_args():
    assert TRANSFORMS.build(dict(type='LoadVideoFrames')).backend in BACKENDS
    for kwargs in (dict(num_frames=0), dict(sampling='dense'),
                   dict(backend='opencv'), dict(on_error='ignore')):
        with pytest.raises(ValueError):
            LoadVideoFrames(**kwargs)


def test_auto_backend_without_decord(monkeypatch):
    monkeypatch.setattr(loading, 'decord_available', lambda: False)
    assert LoadVideoFrames().backend == 'pyav'
    with pytest.raises(ImportError):
        LoadVideoFrames(backend='decord')


# ResizeFrames


def test_resize_frames(video):
    results = LoadVideoFrames(4)(dict(video_path=video))
    frames = results['frames']
    out = TRANSFORMS.build(dict(type='ResizeFrames', size=(32, 40)))(
        dict(results))
    assert out['frames'].shape == (4, 32, 40, 3)
    assert out['frames'].dtype == np.uint8
    assert out['img_shape'] == (32, 40)
    assert out['ori_shape'] == (HEIGHT, WIDTH)
    assert out['scale_factor'] == (40 / WIDTH, 32 / HEIGHT)
    # flat frames stay flat and keep their colour
    np.testing.assert_allclose(
        out['frames'].mean((1, 2)), frames.mean((1, 2)), atol=1)

    out = ResizeFrames(224, keep_ratio=True)(dict(frames=frames))
    assert out['frames'].shape == (4, 168, 224, 3)
    assert out['img_shape'] == (168, 224)
    assert out['scale_factor'] == (3.5, 3.5)
    out = ResizeFrames((24, 64), keep_ratio=True)(dict(frames=frames))
    assert out['img_shape'] == (24, 32)


def test_resize_args():
    with pytest.raises(ValueError):
        ResizeFrames((0, 10))
    with pytest.raises(ValueError):
        ResizeFrames(interpolation='cubic')
    assert ResizeFrames(8).size == (8, 8)
