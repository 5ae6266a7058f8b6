"""tools/demo.py end to end: the JSON is the API's, the pictures show the
predictions where the JSON puts them, bad input exits with one line."""
import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import CONFIGS
from tests.test_apis.conftest import HEIGHT, KNOWN_BOX, WIDTH
from tpo.apis import TPOInferencer
from tpo.visualization import BOX_COLOR

sys.path.insert(0, str(CONFIGS.parent / 'tools'))
import demo  # noqa: E402

PROMPT = 'Where is the red square?'


def is_box_color(pixels: np.ndarray) -> np.ndarray:
    return (np.abs(pixels.astype(int) - BOX_COLOR) <= 30).all(-1)


def gif_frames(path: str) -> list:
    with Image.open(path) as gif:
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert('RGB')))
    return frames


def test_demo_writes_the_api_result_and_pictures(region_model, demo_video,
                                                 tmp_path, capsys):
    out = tmp_path / 'out'
    args = [demo_video, PROMPT, '--config', region_model['config'],
            '--checkpoint', region_model['known'], '--out-dir', str(out),
            '--task', 'region', '--force-task', '--gt-window', '0.5', '1.5']
    result = demo.main(args)
    printed = capsys.readouterr()
    assert f'answer: {result["text"]}' in printed.out
    assert 'box: [40.0, 28.8, 120.0, 57.6]' in printed.out
    assert 'loading the model: done in' in printed.err

    with open(out / 'result.json') as f:
        written = json.load(f)
    api = TPOInferencer(region_model['config'], region_model['known'],
                        device='cpu')(demo_video, PROMPT, task='region',
                                      force_task=True)
    assert written == json.loads(json.dumps(result))
    assert written.keys() == api.keys()
    assert written['text'] == api['text']
    assert written['video'] == api['video']
    for a, b in zip(written['boxes'], api['boxes']):
        assert a['bbox'] == pytest.approx(b['bbox'], abs=1e-4)

    for name in ('frames.png', 'timeline.png', 'predictions.gif'):
        image = np.asarray(Image.open(out / name).convert('RGB'))
        assert image.std() > 10, f'{name} is blank'
    frames = gif_frames(str(out / 'predictions.gif'))
    assert len(frames) == 4
    # the box is drawn where the JSON says: its edges are in the box
    # colour, the pixels just outside them are not
    x1, y1, x2, y2 = (int(round(v)) for v in written['boxes'][0]['bbox'])
    assert [x1, y1, x2, y2] == [int(round(v)) for v in KNOWN_BOX]
    for frame in frames:
        assert frame.shape == (HEIGHT, WIDTH, 3)
        rows, cols = slice(y1 + 3, y2 - 3), slice(x1 + 3, x2 - 3)
        for edge in (frame[rows, x1], frame[rows, x2 - 1], frame[y1, cols],
                     frame[y2 - 1, cols]):
            assert is_box_color(edge).all()
        for outside in (frame[rows, x1 - 2], frame[rows, x2 + 1],
                        frame[y1 - 2, cols], frame[y2 + 1, cols]):
            assert not is_box_color(outside).any()
        # only the box has the box colour
        assert is_box_color(frame).sum() == is_box_color(
            frame[y1:y2, x1:x2]).sum()


def test_demo_mp4_output(region_model, demo_video, tmp_path):
    out = tmp_path / 'mp4'
    demo.main([demo_video, PROMPT, '--config', region_model['config'],
               '--checkpoint', region_model['known'], '--out-dir', str(out),
               '--animation', 'mp4', '--task', 'region', '--force-task'])
    import decord
    reader = decord.VideoReader(str(out / 'predictions.mp4'))
    assert len(reader) == 4
    frame = reader[0].asnumpy().astype(int)
    x1, y1, x2, y2 = (int(round(v)) for v in KNOWN_BOX)
    # H.264 4:2:0 blurs the chroma of a thin line: cyan-ish, not grey
    def cyanish(pixels):
        return (pixels[:, 1] - pixels[:, 0] > 20) & \
            (pixels[:, 2] - pixels[:, 0] > 20)

    assert cyanish(frame[y1 + 5:y2 - 5, x1]).all()
    assert not cyanish(frame[y1 + 5:y2 - 5, x1 + 6]).any()
    assert not cyanish(frame[y1 + 5:y2 - 5, x1 - 4]).any()
    # no moments and no --gt-window: no timeline
    assert not (out / 'timeline.png').exists()


@pytest.mark.parametrize('extra, message', [
    (['--box', '0', '0', '200', '50'], 'not inside the 160x96'),
    (['--task', 'temporal'], 'no temporal head'),
])
def test_demo_bad_input_exits_with_one_line(region_model, demo_video,
                                            tmp_path, extra, message):
    with pytest.raises(SystemExit) as info:
        demo.main([demo_video, PROMPT, '--config', region_model['config'],
                   '--checkpoint', region_model['random'], '--out-dir',
                   str(tmp_path)] + extra)
    assert str(info.value).startswith('demo: ') and message in str(
        info.value)


def test_demo_bad_video_and_prompt(region_model, demo_video, tmp_path):
    broken = tmp_path / 'broken.mp4'
    broken.write_text('not a video')
    common = ['--config', region_model['config'], '--checkpoint',
              region_model['random'], '--out-dir', str(tmp_path)]
    with pytest.raises(SystemExit, match='demo: Cannot read .*broken.mp4'):
        demo.main([str(broken), PROMPT] + common)
    with pytest.raises(SystemExit, match='demo: prompt 0 is empty'):
        demo.main([demo_video, ' '] + common)


def test_demo_without_the_quick_start_model(demo_video, tmp_path,
                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match='python tools/quickstart.py'):
        demo.main([demo_video, PROMPT])
