"""Ask a video a question: the answer text plus the structured outputs of
the task heads that the answer calls (Sec. 3.1)."""
import copy
import os
import os.path as osp
import re
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from tpo.datasets.transforms import (LoadVideoFrames, PackTPOInputs,
                                     VideoReadError, uniform_indices)
from tpo.models.task_modules import saliency_to_clips
from tpo.registry import TRANSFORMS
from tpo.structures import TPODataSample
from tpo.tasks import BOX_PROMPT_TOKEN, registered_tasks

#: Transforms of a test pipeline that need annotations: not run at inference.
ANNOTATION_TRANSFORMS = ('DecodeRLEMasks', 'SelectTrackTargets',
                         'LoadPaletteMasks', 'LoadMaskletMasks',
                         'FormatTaskConversation', 'PackTPOInputs')
DTYPES = ('float32', 'bfloat16', 'float16')
#: Keyword arguments of :meth:`TPOModel.generate` that ``__call__`` takes.
GENERATION_KEYS = ('do_sample', 'temperature', 'top_p', 'max_new_tokens')

Video = Union[str, os.PathLike, np.ndarray, Sequence[Any], dict]
Box = Sequence[float]


def _is_box(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, torch.Tensor)) and \
        len(value) == 4 and all(np.isscalar(v) or getattr(v, 'ndim', 1) == 0
                                for v in value)


class TPOInferencer:
    """Question answering with task routing on one video.

    Built from a config and a checkpoint (``.pth``, ``.safetensors`` or a
    work dir, its last checkpoint), or from a folder written by
    ``tools/model_converters/export_hf.py``. Calling it runs the config's
    test-time frame pipeline (frame sampling, resize) once per video, the
    model's batched decoding for all prompts, and the heads of the tasks
    whose task-begin tokens the answers emit.

    Like mmengine's inferencers it is split into :meth:`preprocess`,
    :meth:`forward` and :meth:`postprocess`; it does not subclass
    ``BaseInferencer``, whose input is one item per sample: here one
    decoded video serves several prompts.

    Each prompt gets a dict (see ``docs/demo.md``): ``prompt``, ``text``,
    ``tasks`` (tasks called, in order), ``video`` (size, fps, sampled
    frame indices and times), and the outputs of the heads called:
    ``moments`` (``windows`` ``[start, end, score]`` seconds and the
    per-second ``saliency`` curve), ``boxes`` (xyxy pixels of the original
    frame) and ``masks`` (a COCO RLE, xyxy box and score per sampled
    frame); ``warnings`` lists what went wrong without being an error.

    Args:
        config: a config file or :class:`Config`, or an ``export_hf``
            folder.
        checkpoint: the weights of ``config``; None for an exported folder.
        device: e.g. ``'cpu'``, ``'cuda:0'``; defaults to CUDA if
            available.
        dtype: ``'float32'`` (default), ``'bfloat16'`` or ``'float16'``:
            the LLM's weights are cast and the forward passes run under
            autocast in it; heads stay in float32.
        cfg_options: config overrides.

    Example:
        >>> inferencer = TPOInferencer('configs/tpo/tiny_stage3.py',
        ...                            'work_dirs/tiny_stage3')
        >>> inferencer('video.mp4', 'Where is the red circle?')['boxes']
        [{'bbox': [25.2, 61.8, 61.9, 98.5], 'score': 1.0, 'frame': None}]
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: Optional[str] = None,
                 dtype: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> None:
        from tpo.engine.export import (build_model_from_checkpoint,
                                       build_model_from_export)
        dtype = dtype or 'float32'
        if dtype not in DTYPES:
            raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}')
        if isinstance(config, (str, os.PathLike)) and osp.isdir(config):
            if checkpoint is not None:
                raise ValueError(
                    f'{config} is an exported folder, which holds its '
                    'weights: pass no checkpoint with it')
            model, cfg = build_model_from_export(str(config), cfg_options)
        else:
            if checkpoint is None:
                raise ValueError(
                    'a config needs a checkpoint (.pth, .safetensors or a '
                    'work dir); pass an export_hf folder to use none')
            model, cfg, _ = build_model_from_checkpoint(
                config, checkpoint, cfg_options)
        init_default_scope(cfg.get('default_scope', 'tpo'))
        self.cfg = cfg
        self.device = torch.device(
            device or ('cuda' if torch.cuda.is_available() else 'cpu'))
        if dtype != 'float32':
            model.llm.to(getattr(torch, dtype))
            model.amp_dtype = getattr(torch, dtype)
        self.model = model.to(self.device).eval()
        self.loader, self.frame_transforms = self._frame_pipeline(cfg)
        self.packer = PackTPOInputs()
        self.heads = {head.task: head for head in model.heads.values()}

    # ------------------------------------------------------------ building
    @staticmethod
    def _find_pipeline(cfg: Any) -> Optional[list]:
        """The first pipeline of ``cfg`` that loads videos."""
        if isinstance(cfg, dict):
            pipeline = cfg.get('pipeline')
            if isinstance(pipeline, (list, tuple)) and any(
                    t.get('type') == 'LoadVideoFrames' for t in pipeline):
                return list(pipeline)
            values = cfg.values()
        elif isinstance(cfg, (list, tuple)):
            values = cfg
        else:
            return None
        for value in values:
            found = TPOInferencer._find_pipeline(value)
            if found:
                return found
        return None

    def _frame_pipeline(self, cfg: Config) -> tuple:
        """The video loader (uniform sampling, errors raised) and the frame
        transforms after it of the config's test pipeline."""
        pipeline = cfg.get('test_pipeline') or self._find_pipeline(
            cfg.get('test_dataloader', {}))
        if not pipeline or not any(t['type'] == 'LoadVideoFrames'
                                   for t in pipeline):
            raise ValueError(
                'the config has no test pipeline with LoadVideoFrames '
                '(`test_pipeline` or one in `test_dataloader`): the '
                'inferencer takes the frame count and size from it')
        start = [t['type'] for t in pipeline].index('LoadVideoFrames')
        loader = dict(pipeline[start], sampling='uniform', on_error='raise')
        transforms = [
            TRANSFORMS.build(copy.deepcopy(dict(t)))
            for t in pipeline[start + 1:]
            if t['type'] not in ANNOTATION_TRANSFORMS
        ]
        loader.pop('type')
        return LoadVideoFrames(**loader), transforms

    # ------------------------------------------------------------ video
    def load_video(self, video: Video, fps: Optional[float] = None) -> dict:
        """Sample the model's frames of a video.

        Args:
            video: a video or image path; frames as a ``(T, H, W, 3)`` or
                ``(H, W, 3)`` uint8 RGB array or a list of PIL images or
                arrays; or a clip this method returned (kept as is).
            fps: frame rate of given frames (default 1), for the times.

        Returns:
            The clip: ``frames`` (sampled, original size), ``frame_inds``,
            ``frame_times``, ``fps``, ``duration``, ``num_video_frames``,
            ``ori_shape`` and ``video_path`` (None for frames).
        """
        if isinstance(video, dict):
            return video
        if isinstance(video, (str, os.PathLike)):
            try:
                clip = self.loader(dict(video_path=str(video)))
            except VideoReadError as error:
                raise VideoReadError(
                    f'{str(error).rstrip(".")}. Give a readable video file '
                    '(mp4, avi, mkv, webm, ...) or an image.') from None
            return clip
        frames = self._frames_array(video)
        fps = 1.0 if fps is None else float(fps)
        if not fps > 0:
            raise ValueError(f'fps must be > 0, got {fps}')
        inds = uniform_indices(len(frames), self.loader.num_frames)
        return dict(
            frames=frames[inds], frame_inds=inds, fps=fps,
            num_video_frames=len(frames), duration=len(frames) / fps,
            frame_times=(inds / fps).astype(np.float32),
            ori_shape=frames.shape[1:3], img_shape=frames.shape[1:3],
            video_path=None)

    @staticmethod
    def _frames_array(video: Any) -> np.ndarray:
        if isinstance(video, np.ndarray):
            frames = video[None] if video.ndim == 3 else video
        elif isinstance(video, (list, tuple)) and len(video):
            arrays = [np.asarray(f.convert('RGB')) if isinstance(
                f, Image.Image) else np.asarray(f) for f in video]
            if len({a.shape for a in arrays}) > 1:
                raise ValueError(
                    'the frames differ in size: '
                    f'{sorted({a.shape for a in arrays})}')
            frames = np.stack(arrays)
        else:
            raise TypeError(
                'video must be a path, a (T, H, W, 3) uint8 array or a '
                f'non-empty list of PIL images or arrays, got {type(video)}')
        if frames.ndim != 4 or frames.shape[-1] != 3 or \
                frames.dtype != np.uint8 or not len(frames):
            raise ValueError(
                'frames must be uint8 RGB of shape (T, H, W, 3), got '
                f'{frames.dtype} {frames.shape}')
        return frames

    # ------------------------------------------------------------ checks
    def _check_task(self, index: int, task: Optional[str],
                    has_box: bool) -> Optional[str]:
        """The task of a prompt (``'track'`` with a box), failing when the
        model cannot serve it."""
        model = self.model
        if has_box:
            if task not in (None, 'track'):
                raise ValueError(
                    f'prompt {index} has a box but asks for task {task!r}: '
                    "a box prompts tracking (task 'track'), drop one")
            task = 'track'
        if task is None:
            return None
        known = sorted(t for t in registered_tasks()
                       if model.head_task(t) in model.tasks)
        if task not in known:
            raise ValueError(
                f'prompt {index} asks for task {task!r}, which the model '
                f'does not know; its tasks are {known}')
        if task == 'track' and not has_box:
            raise ValueError(
                f'prompt {index} asks for tracking but has no box: give the '
                'box of the object on the first frame (box=[x1, y1, x2, y2], '
                'pixels of the original frame)')
        head_task = model.head_task(task)
        if head_task not in self.heads:
            served = f' (served by the {head_task} head)' \
                if head_task != task else ''
            raise ValueError(
                f'prompt {index} asks for the {task!r} task{served}, but '
                f'the checkpoint has no {head_task} head (its heads: '
                f'{sorted(self.heads) or "none"}). Use a checkpoint trained '
                f'with a {head_task} head, e.g. of '
                'configs/tpo/tiny_stage3.py.')
        if task == 'track' and model.splicer.box_prompt_id is None:
            raise ValueError(
                f'prompt {index} asks for tracking, but the model has no '
                'box-prompt encoder to read its box (set '
                "model.box_prompt_encoder=dict(type='BoxPromptEncoder'), "
                'as configs/tpo/tiny_stage3.py does)')
        return task

    @staticmethod
    def _check_box(index: int, box: Box, shape: Sequence[int]) -> list:
        height, width = int(shape[0]), int(shape[1])
        values = [float(v) for v in box]
        x1, y1, x2, y2 = values
        if not (np.isfinite(values).all() and 0 <= x1 < x2 <= width
                and 0 <= y1 < y2 <= height):
            raise ValueError(
                f'the box {values} of prompt {index} is not inside the '
                f'{width}x{height} (width x height) frame: give x1 y1 x2 y2 '
                f'pixels of the original frame with 0 <= x1 < x2 <= {width} '
                f'and 0 <= y1 < y2 <= {height}')
        return values

    def _prompt_text(self, index: int, prompt: Any, box: Optional[list]
                     ) -> str:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(
                f'prompt {index} is empty ({prompt!r}): ask something about '
                "the video, e.g. 'Where is the red circle?'")
        prompt = prompt.strip()
        reserved = [self.model.prompt.video_token] + [
            t for spec in self.model.tasks.values()
            for t in (spec.begin, spec.token)
        ]
        used = [t for t in reserved if t in prompt]
        if used:
            raise ValueError(
                f'prompt {index} contains {used}: the video and task '
                'tokens are placed by the model, remove them')
        count = prompt.count(BOX_PROMPT_TOKEN)
        if box is None and count:
            raise ValueError(
                f'prompt {index} holds {BOX_PROMPT_TOKEN} but no box was '
                'given: pass box=[x1, y1, x2, y2] (pixels of the original '
                'frame)')
        if box is not None and count > 1:
            raise ValueError(
                f'prompt {index} holds {count} {BOX_PROMPT_TOKEN}, one box '
                'was given: keep one placeholder')
        if box is not None and not count:
            prompt = f'{prompt} {BOX_PROMPT_TOKEN}'
        return prompt

    def _unknown_words(self, prompt: str) -> List[str]:
        """Words of the prompt that the tokenizer reads as unknown."""
        tokenizer = self.model.tokenizer
        unk = tokenizer.unk_token_id
        if unk is None:
            return []
        words = re.findall(r"[\w']+", prompt.replace(BOX_PROMPT_TOKEN, ' '))
        return [
            word for word in dict.fromkeys(words)
            if unk in tokenizer(word, add_special_tokens=False)['input_ids']
        ]

    # ------------------------------------------------------------ steps
    def preprocess(self, clip: dict, prompts: List[str],
                   boxes: List[Optional[Box]],
                   tasks: List[Optional[str]]) -> dict:
        """Check the prompts and pack one sample per prompt."""
        shape = clip['ori_shape']
        resized = dict(clip)
        for transform in self.frame_transforms:
            resized = transform(resized)
        packed = []
        for i, (prompt, box, task) in enumerate(zip(prompts, boxes, tasks)):
            box = None if box is None else self._check_box(i, box, shape)
            text = self._prompt_text(i, prompt, box)
            task = self._check_task(i, task, box is not None)
            results = dict(resized, sample_idx=i,
                           conversation=[dict(question=text, answer='')])
            if task is not None:
                results['task'] = task
            if box is not None:
                results['prompt_bboxes'] = np.asarray([box], np.float32)
            packed.append(self.packer(results))
        return dict(inputs=[p['inputs'] for p in packed],
                    data_samples=[p['data_samples'] for p in packed])

    def _force_task(self, samples: List[TPODataSample]):
        """A logits processor making each sample's first token the
        task-begin token of its task."""
        begins = [
            self.model.tokenizer.convert_tokens_to_ids(self.model.tasks[
                self.model.head_task(s.task)].begin)
            if s.get('task') else None for s in samples
        ]

        def force(chosen: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
            if chosen.shape[1] > 0:  # not the first token
                return logits
            logits = logits.clone()
            for row, begin in enumerate(begins):
                if begin is not None:
                    logits[row] = float('-inf')
                    logits[row, begin] = 0
            return logits

        return force

    @torch.no_grad()
    def forward(self, data: dict, force_task: bool = False,
                seed: Optional[int] = None,
                **generation) -> List[TPODataSample]:
        """Run the model on packed samples (``generation``: keyword
        arguments of :meth:`TPOModel.generate`)."""
        data = self.model.data_preprocessor(data, False)
        if generation.get('do_sample') and seed is not None:
            generation['generator'] = torch.Generator(
                self.device).manual_seed(seed)
        if force_task:
            generation['logits_processor'] = self._force_task(
                data['data_samples'])
        return self.model(**data, mode='predict', **generation)

    def postprocess(self, samples: List[TPODataSample], clip: dict,
                    prompts: List[str]) -> List[dict]:
        """One JSON-ready dict per prompt."""
        height, width = (int(v) for v in clip['ori_shape'])
        video = dict(
            path=clip.get('video_path'), width=width, height=height,
            fps=float(clip['fps']), duration=float(clip['duration']),
            num_frames=int(clip['num_video_frames']),
            frame_inds=[int(v) for v in clip['frame_inds']],
            frame_times=[float(v) for v in clip['frame_times']])
        begins = {spec.begin: task
                  for task, spec in self.model.tasks.items()}
        pattern = re.compile('|'.join(re.escape(b) for b in begins))
        results = []
        for prompt, sample in zip(prompts, samples):
            called = [begins[b] for b in pattern.findall(sample.pred_text)]
            result = dict(prompt=prompt, text=sample.pred_text,
                          tasks=called, video=video)
            warnings = [
                f'the model called the {task!r} task '
                f'({self.model.tasks[task].begin}) but the checkpoint '
                f'has no {task} head (its heads: {sorted(self.heads)}): '
                'its output is missing'
                for task in dict.fromkeys(called) if task not in self.heads
            ]
            asked = sample.get('task')
            if asked and self.model.head_task(asked) not in called:
                warnings.append(
                    f'the prompt asks for the {asked!r} task but the model '
                    f'did not call it: its {self.model.head_task(asked)} '
                    'output is empty (force_task=True makes the answer '
                    'start with the call)')
            unknown = self._unknown_words(prompt)
            if unknown:
                warnings.append(f'words unknown to the tokenizer (read as '
                                f'{self.model.tokenizer.unk_token}): '
                                f'{unknown}')
            result.update(self._structured(sample, clip))
            result['warnings'] = warnings
            results.append(result)
        return results

    def _structured(self, sample: TPODataSample, clip: dict) -> dict:
        """The heads' predictions of a sample as plain lists."""
        out = {}
        if 'pred_windows' in sample:
            duration = float(clip['duration'])
            saliency = sample.get('pred_saliency')
            per_second = []
            if saliency is not None and len(saliency):
                clip_length = getattr(self.heads.get('temporal'),
                                      'saliency_clip_length', None) or \
                    duration / len(saliency)
                per_second = saliency_to_clips(
                    torch.as_tensor(saliency).float(), clip_length,
                    duration, 1.0).tolist()
            out['moments'] = dict(
                windows=[[float(v) for v in w]
                         for w in sample.pred_windows.tolist()],
                saliency=per_second)
        if 'pred_bboxes' in sample:
            scores = sample.get('pred_scores')
            out['boxes'] = [
                dict(bbox=[float(v) for v in box],
                     score=float(scores[k]) if scores is not None else 1.0,
                     frame=None)
                for k, box in enumerate(sample.pred_bboxes.tolist())
            ]
        if 'pred_mask_rles' in sample:
            xywh = torch.as_tensor(sample.pred_track_bboxes).view(-1, 4)
            scores = sample.get('pred_mask_scores')
            out['masks'] = [
                dict(frame=t, frame_index=int(clip['frame_inds'][t]),
                     time=float(clip['frame_times'][t]), rle=dict(rle),
                     bbox=[float(v) for v in torch.cat(
                         [xywh[t, :2], xywh[t, :2] + xywh[t, 2:]])],
                     score=float(scores[t]) if scores is not None else 1.0)
                for t, rle in enumerate(sample.pred_mask_rles)
            ]
        return out

    # ------------------------------------------------------------ call
    def __call__(self,
                 video: Video,
                 prompts: Union[str, Sequence[str]],
                 box: Union[None, Box, Sequence[Optional[Box]]] = None,
                 task: Union[None, str, Sequence[Optional[str]]] = None,
                 force_task: bool = False,
                 fps: Optional[float] = None,
                 batch_size: Optional[int] = None,
                 seed: Optional[int] = None,
                 **generation) -> Union[dict, List[dict]]:
        """Answer one prompt (returns a dict) or several (a list).

        Args:
            video: see :meth:`load_video`.
            prompts: a question or a list of questions about the video.
            box: a tracking box (xyxy pixels of the original frame) for
                every prompt, or one box or None per prompt. A prompt with
                a box is a tracking prompt: its ``<track_box>`` placeholder
                (appended when absent) takes the box-prompt encoding.
            task: the task each prompt asks for (``'region'``,
                ``'temporal'``, ``'mask'``, ``'track'`` or None), checked
                against the model's heads; that head's output is always
                returned (empty if not called).
            force_task: start each answer of a prompt with a ``task`` with
                that task's begin token (so its head runs).
            fps: frame rate of given frames.
            batch_size: prompts per forward pass (all by default).
            seed: seed of the sampling draws.
            **generation: ``do_sample``, ``temperature``, ``top_p``,
                ``max_new_tokens`` (greedy decoding by default).
        """
        unknown = set(generation) - set(GENERATION_KEYS)
        if unknown:
            raise TypeError(f'unknown generation options {sorted(unknown)}; '
                            f'use {GENERATION_KEYS}')
        single = isinstance(prompts, str)
        prompts = [prompts] if single else list(prompts)
        if not prompts:
            raise ValueError('no prompt given: ask something about the video')
        boxes = [box] * len(prompts) if box is None or _is_box(box) \
            else list(box)
        tasks = [task] * len(prompts) if task is None or isinstance(
            task, str) else list(task)
        for name, values in (('box', boxes), ('task', tasks)):
            if len(values) != len(prompts):
                raise ValueError(f'{len(values)} {name} values for '
                                 f'{len(prompts)} prompts: give one each')
        clip = self.load_video(video, fps)
        data = self.preprocess(clip, prompts, boxes, tasks)
        step = batch_size or len(prompts)
        samples = []
        for i in range(0, len(prompts), step):
            samples += self.forward(
                dict(inputs=data['inputs'][i:i + step],
                     data_samples=data['data_samples'][i:i + step]),
                force_task=force_task, seed=seed, **generation)
        results = self.postprocess(samples, clip, prompts)
        return results[0] if single else results
