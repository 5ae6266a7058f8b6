"""TPOInferencer: inputs, routing of the outputs, generation options, bad
input, exported folders."""
import numpy as np
import pytest
import torch

from tests.test_apis.conftest import FPS, HEIGHT, KNOWN_BOX, NUM, WIDTH
from tpo.apis import TPOInferencer
from tpo.datasets.transforms import VideoReadError
from tpo.structures.masks import rle_to_mask
from tpo.models.utils import TaskRoutingDecoder
from tpo.structures import TPODataSample

PROMPT = 'Where is the red square?'


@pytest.fixture(scope='module')
def inferencer(region_model):
    return TPOInferencer(region_model['config'], region_model['random'],
                         device='cpu')


@pytest.fixture(scope='module')
def known(region_model):
    return TPOInferencer(region_model['config'], region_model['known'],
                         device='cpu')


def decoded_frames(path: str) -> np.ndarray:
    import decord
    reader = decord.VideoReader(path)
    return reader.get_batch(list(range(len(reader)))).asnumpy()


# ---------------------------------------------------------------- outputs
def test_region_box_is_in_pixels_of_the_original_frame(known, demo_video):
    result = known(demo_video, PROMPT, task='region', force_task=True)
    assert result['tasks'][0] == 'region'
    assert result['text'].startswith('<box_begin> <boxes>')
    assert len(result['boxes']) == result['tasks'].count('region')
    for box in result['boxes']:
        assert box['bbox'] == pytest.approx(KNOWN_BOX, abs=1e-3)
        assert box['score'] == 1.0 and box['frame'] is None
    video = result['video']
    assert (video['width'], video['height']) == (WIDTH, HEIGHT)
    assert video['fps'] == FPS and video['duration'] == NUM / FPS
    assert video['num_frames'] == NUM
    assert video['frame_inds'] == [2, 6, 10, 14]  # segment centres
    assert video['frame_times'] == [i / FPS for i in (2, 6, 10, 14)]
    assert video['path'] == demo_video
    assert 'moments' not in result and 'masks' not in result


def test_batched_prompts_match_one_by_one(inferencer, demo_video):
    prompts = [PROMPT, 'What color is the square?', 'Can you find it?']
    batched = inferencer(demo_video, prompts)
    chunked = inferencer(demo_video, prompts, batch_size=2)
    single = [inferencer(demo_video, p) for p in prompts]
    assert [r['prompt'] for r in batched] == prompts
    for results in (chunked, single):
        for a, b in zip(batched, results):
            assert a['text'] == b['text']
            assert a['tasks'] == b['tasks']
            for x, y in zip(a.get('boxes', []), b.get('boxes', [])):
                assert x['bbox'] == pytest.approx(y['bbox'], abs=1e-3)


def test_frames_input_matches_the_video_file(inferencer, demo_video):
    from PIL import Image
    frames = decoded_frames(demo_video)
    expected = inferencer(demo_video, PROMPT, task='region',
                          force_task=True)
    for given in (frames, [Image.fromarray(f) for f in frames]):
        result = inferencer(given, PROMPT, task='region', force_task=True,
                            fps=FPS)
        assert result['text'] == expected['text']
        assert result['boxes'][0]['bbox'] == pytest.approx(
            expected['boxes'][0]['bbox'], abs=1e-4)
        assert result['video']['frame_times'] == \
            expected['video']['frame_times']
        assert result['video']['path'] is None


def test_unknown_words_and_calls_without_a_head_are_reported(
        inferencer, demo_video):
    result = inferencer(demo_video, 'Where is the flubber?')
    assert "['flubber']" in result['warnings'][-1]
    # a generated call of a task whose head is missing
    sample = TPODataSample(metainfo=dict(
        pred_text='the moment is <time_begin> <temp>.'))
    clip = inferencer.load_video(demo_video)
    [out] = inferencer.postprocess([sample], clip, ['When?'])
    assert out['tasks'] == ['temporal']
    assert 'no temporal head' in out['warnings'][0]
    assert 'moments' not in out


# ---------------------------------------------------------------- generation
def test_sampling_options(inferencer, demo_video):
    greedy = inferencer(demo_video, PROMPT)
    # a nucleus holding only the most probable token is greedy decoding
    assert inferencer(demo_video, PROMPT, do_sample=True, top_p=1e-6,
                      seed=3)['text'] == greedy['text']
    hot = [inferencer(demo_video, PROMPT, do_sample=True, temperature=5.0,
                      seed=s)['text'] for s in (0, 0, 1)]
    assert hot[0] == hot[1] and hot[0] != hot[2]
    short = inferencer(demo_video, PROMPT, max_new_tokens=1, task='region',
                       force_task=True)
    assert short['text'] == '<box_begin> <boxes>'
    with pytest.raises(ValueError, match='temperature > 0'):
        inferencer(demo_video, PROMPT, do_sample=True, temperature=0)
    with pytest.raises(TypeError, match='top_k'):
        inferencer(demo_video, PROMPT, top_k=3)


def test_sampling_keeps_the_nucleus():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log().repeat(2000, 1)
    generator = torch.Generator().manual_seed(0)
    decoder = TaskRoutingDecoder(0, {}, {}, 1)

    def draw(top_p):
        processors = decoder._logits_processors(True, 1.0, top_p, None)
        scores = processors(torch.zeros(2000, 0, dtype=torch.long), logits)
        return torch.multinomial(scores.softmax(-1), 1,
                                 generator=generator).squeeze(-1)

    drawn = draw(0.7)
    # 0.5 + 0.3 reaches 0.7: tokens 2 and 3 are out, 0 and 1 keep 5:3
    assert set(drawn.tolist()) == {0, 1}
    assert (drawn == 0).float().mean() == pytest.approx(0.625, abs=0.04)
    drawn = draw(1.0)
    assert (drawn == 3).float().mean() == pytest.approx(0.05, abs=0.02)


def test_greedy_generate_is_unchanged_by_the_defaults(inferencer):
    model = inferencer.model
    prompts = [torch.randn(n, 64, generator=torch.Generator().manual_seed(n))
               for n in (5, 9)]
    default = model.generate(prompts)
    explicit = model.generate(
        prompts, max_new_tokens=model.decoder.max_new_tokens,
        do_sample=False, temperature=0.1, top_p=0.2)
    assert default[0] == explicit[0]
    for a, b in zip(default[1], explicit[1]):
        assert a.keys() == b.keys()
        for task in a:
            for x, y in zip(a[task], b[task]):
                assert torch.equal(x, y)


def test_bfloat16(region_model, demo_video, inferencer):
    bf16 = TPOInferencer(region_model['config'], region_model['random'],
                         device='cpu', dtype='bfloat16')
    assert bf16.model.llm.get_input_embeddings().weight.dtype == \
        torch.bfloat16
    result = bf16(demo_video, PROMPT, task='region', force_task=True)
    expected = inferencer(demo_video, PROMPT, task='region',
                          force_task=True)
    assert np.abs(np.subtract(result['boxes'][0]['bbox'],
                              expected['boxes'][0]['bbox'])).max() < 8


def test_exported_folder_gives_the_same_answers(region_model, inferencer,
                                                demo_video, tmp_path):
    from tpo.engine.export import export_hf
    out = str(tmp_path / 'export')
    export_hf(region_model['config'], region_model['random'], out)
    exported = TPOInferencer(out, device='cpu')
    assert exported.model.llm.__class__.__name__ == 'LlamaForCausalLM'
    prompts = [PROMPT, 'Can you find it?']
    for a, b in zip(exported(demo_video, prompts, task='region',
                             force_task=True),
                    inferencer(demo_video, prompts, task='region',
                               force_task=True)):
        assert a['text'] == b['text']
        assert a['boxes'][0]['bbox'] == pytest.approx(b['boxes'][0]['bbox'],
                                                      abs=1e-3)
    with pytest.raises(ValueError, match='holds its weights'):
        TPOInferencer(out, region_model['random'])
    with pytest.raises(FileNotFoundError, match='tpo_config.py'):
        TPOInferencer(str(tmp_path), device='cpu')


# ---------------------------------------------------------------- bad input
def test_unreadable_video(inferencer, tmp_path):
    broken = tmp_path / 'broken.mp4'
    broken.write_text('not a video')
    for path, reason in ((str(broken), 'Error reading'),
                         (str(tmp_path / 'missing.mp4'), 'no such file')):
        with pytest.raises(VideoReadError) as info:
            inferencer(path, PROMPT)
        message = str(info.value)
        assert path in message and reason in message
        assert 'Give a readable video file' in message
        # the decord / PyAV exception is not chained into the report
        assert info.value.__suppress_context__


def test_empty_prompt(inferencer, demo_video):
    for prompts in ('', '   ', ['Where?', '']):
        with pytest.raises(ValueError, match='prompt [01] is empty'):
            inferencer(demo_video, prompts)
    with pytest.raises(ValueError, match='no prompt given'):
        inferencer(demo_video, [])


def test_task_without_a_head(inferencer, demo_video):
    with pytest.raises(ValueError, match=r"'temporal' task, but the "
                       r"checkpoint has no temporal head \(its heads: "
                       r"\['region'\]\)"):
        inferencer(demo_video, 'When does it move?', task='temporal')
    # tracking is served by the mask head, which this model lacks
    with pytest.raises(ValueError, match="'track' task .served by the mask "
                       'head., but the checkpoint has no mask head'):
        inferencer(demo_video, 'Track it.', box=[10, 30, 40, 60])
    with pytest.raises(ValueError, match="task 'count', which the model "
                       'does not know'):
        inferencer(demo_video, PROMPT, task='count')
    with pytest.raises(ValueError, match='asks for tracking but has no box'):
        inferencer(demo_video, 'Track it.', task='track')


def test_out_of_frame_box(inferencer, demo_video):
    for box in ([0, 0, 200, 50], [-1, 0, 20, 20], [50, 10, 40, 20],
                [0, 0, 10, float('nan')]):
        with pytest.raises(ValueError, match=r'not inside the 160x96 '
                           r'\(width x height\) frame'):
            inferencer(demo_video, 'Track it.', box=box)


def test_prompt_placeholders(inferencer, demo_video):
    with pytest.raises(ValueError, match='<track_box> but no box'):
        inferencer(demo_video, 'Track <track_box>.')
    with pytest.raises(ValueError, match=r"\['<video>'\]"):
        inferencer(demo_video, '<video> Where is it?')
    with pytest.raises(ValueError, match='2 box values for 1 prompts'):
        inferencer(demo_video, ['Track it.'], box=[[1, 2, 3, 4], None])


# ---------------------------------------------------------------- all heads
def test_every_output_kind_of_the_all_heads_model(all_heads_model,
                                                  demo_video):
    inferencer = TPOInferencer(all_heads_model['config'],
                               all_heads_model['checkpoint'], device='cpu')
    box = [10.0, 30.0, 40.0, 60.0]
    temporal, region, track = inferencer(
        demo_video, ['When does the square move?', PROMPT, 'Track it.'],
        task=['temporal', 'region', None], box=[None, None, box],
        force_task=True, max_new_tokens=2)
    duration = NUM / FPS

    assert temporal['tasks'][0] == 'temporal'
    windows = np.asarray(temporal['moments']['windows'])
    assert windows.shape == (5, 3)  # the head's 5 queries
    assert ((0 <= windows[:, 0]) & (windows[:, 0] <= windows[:, 1])
            & (windows[:, 1] <= duration)).all()
    assert (np.diff(windows[:, 2]) <= 0).all()  # best first
    assert ((windows[:, 2] >= 0) & (windows[:, 2] <= 1)).all()
    # one saliency score per second of the 2 s video
    assert len(temporal['moments']['saliency']) == 2

    assert region['boxes'][0]['bbox'] == pytest.approx(KNOWN_BOX, abs=1e-3)

    # the box goes through the box-prompt encoder into the mask head
    assert track['tasks'][0] == 'mask'
    assert track['prompt'] == 'Track it.'
    masks = track['masks']
    assert [m['frame'] for m in masks] == [0, 1, 2, 3]
    assert [m['frame_index'] for m in masks] == [2, 6, 10, 14]
    assert [m['time'] for m in masks] == track['video']['frame_times']
    for mask in masks:
        bitmap = rle_to_mask(mask['rle'])
        assert bitmap.shape == (HEIGHT, WIDTH)  # original frame size
        assert 0 <= mask['score'] <= 1
        if bitmap.any():
            ys, xs = np.nonzero(bitmap)
            assert mask['bbox'] == pytest.approx(
                [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], abs=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_float32_and_bfloat16_match_cpu(region_model, inferencer):
    frames = np.full((NUM, HEIGHT, WIDTH, 3), 110, np.uint8)
    frames[:, 30:60, 20:50] = (220, 40, 40)
    prompts = [PROMPT, 'What color is the square?']
    options = dict(task='region', force_task=True, fps=FPS)
    expected = inferencer(frames, prompts, **options)
    for dtype, tolerance in (('float32', 1e-3), ('bfloat16', 2.0)):
        cuda = TPOInferencer(region_model['config'], region_model['random'],
                             device='cuda', dtype=dtype)
        assert next(cuda.model.parameters()).is_cuda
        results = cuda(frames, prompts, **options)
        for result, reference in zip(results, expected):
            if dtype == 'float32':
                assert result['text'] == reference['text']
            assert np.abs(np.subtract(result['boxes'][0]['bbox'],
                                      reference['boxes'][0]['bbox'])).max() \
                <= tolerance
        sampled = [cuda(frames, PROMPT, do_sample=True, temperature=2.0,
                        seed=0, fps=FPS)['text'] for _ in range(2)]
        assert sampled[0] == sampled[1]
