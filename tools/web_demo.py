"""A small web demo: upload a video, type a prompt, see the answer and the
pictures of ``tools/demo.py``.

    pip install -e '.[web]'
    python tools/web_demo.py [--config CONFIG --checkpoint CKPT] [--port 7860]

then open http://127.0.0.1:7860. The defaults use the quick start's stage-3
model (``python tools/quickstart.py``). Every run writes its upload, its
``result.json`` and its pictures into ``--work-dir/<run id>/``.
"""
import argparse
import json
import os
import os.path as osp
import sys
import threading
import uuid

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from demo import DEFAULT_CHECKPOINT, DEFAULT_CONFIG, summary  # noqa: E402

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>TPO demo</title>
<style>
body { font-family: sans-serif; max-width: 960px; margin: 2em auto; }
label { display: block; margin: .5em 0; }
input[type=text] { width: 40em; }
#error { color: #b00020; white-space: pre-wrap; }
#answer { font-size: 1.2em; background: #eef; padding: .5em; }
img { max-width: 100%; border: 1px solid #ccc; margin: .5em 0; }
</style></head><body>
<h1>TPO: ask a video</h1>
<p>Model: <code>{{ model }}</code></p>
<form id="ask" method="post" enctype="multipart/form-data">
  <label>Video <input type="file" id="video" name="video" required></label>
  <label>Prompt <input type="text" id="prompt" name="prompt"
    value="{{ prompt }}" placeholder="Where is the red circle?"></label>
  <label>Task <select id="task" name="task">
    {% for option in tasks %}<option value="{{ option }}"
      {% if option == task %}selected{% endif %}>{{ option or 'any' }}</option>
    {% endfor %}</select>
    <input type="checkbox" id="force_task" name="force_task"
      {% if force_task %}checked{% endif %}> start the answer with it</label>
  <label>Tracking box on the first frame (x1 y1 x2 y2 pixels, optional)
    <input type="text" id="box" name="box" value="{{ box }}"></label>
  <button type="submit" id="submit">Ask</button>
</form>
{% if error %}<h2>Error</h2><div id="error">{{ error }}</div>{% endif %}
{% if result %}
<h2>Answer</h2><pre id="answer">{{ summary }}</pre>
{% for name, url in pictures %}
<h3>{{ name }}</h3><img id="{{ name }}" src="{{ url }}" alt="{{ name }}">
{% endfor %}
<h3>result.json</h3><pre id="json">{{ result }}</pre>
{% endif %}
</body></html>"""


def parse_box(text: str):
    """``'x1 y1 x2 y2'`` (commas allowed) -> four floats, '' -> None."""
    values = text.replace(',', ' ').split()
    if not values:
        return None
    try:
        box = [float(v) for v in values]
    except ValueError:
        box = []
    if len(box) != 4:
        raise ValueError(f'the box must be four numbers x1 y1 x2 y2, '
                         f'got {text!r}')
    return box


def create_app(inferencer, work_dir: str, model_name: str = ''):
    """The Flask app answering with ``inferencer`` (a
    :class:`tpo.apis.TPOInferencer`); runs are kept in ``work_dir``."""
    from flask import Flask, abort, render_template_string, request
    from flask import send_from_directory
    from werkzeug.utils import secure_filename

    from tpo.datasets.transforms import VideoReadError
    from tpo.visualization import write_pictures

    app = Flask(__name__)
    lock = threading.Lock()  # one model: one request at a time
    tasks = [''] + sorted(inferencer.heads) + (
        ['track'] if 'mask' in inferencer.heads else [])

    def page(status: int = 200, **fields):
        values = dict(model=model_name, prompt='', task='', box='',
                      force_task=False, tasks=tasks, error=None, result=None)
        values.update(fields)
        return render_template_string(PAGE, **values), status

    @app.get('/')
    def index():
        return page()

    @app.post('/')
    def ask():
        form = request.form
        fields = dict(prompt=form.get('prompt', ''),
                      task=form.get('task', ''), box=form.get('box', ''),
                      force_task=bool(form.get('force_task')))
        upload = request.files.get('video')
        if upload is None or not upload.filename:
            return page(400, error='choose a video file', **fields)
        run_id = uuid.uuid4().hex[:12]
        run_dir = osp.join(work_dir, run_id)
        os.makedirs(run_dir)
        video = osp.join(run_dir, secure_filename(upload.filename) or 'video')
        upload.save(video)
        try:
            box = parse_box(fields['box'])
            with lock:
                clip = inferencer.load_video(video)
                result = inferencer(clip, fields['prompt'], box=box,
                                    task=fields['task'] or None,
                                    force_task=fields['force_task'])
                paths = write_pictures(clip['frames'], result, run_dir)
        except (VideoReadError, ValueError, FileNotFoundError) as error:
            return page(400, error=str(error), **fields)
        with open(osp.join(run_dir, 'result.json'), 'w') as f:
            json.dump(result, f, indent=1)
        pictures = [(name, f'/runs/{run_id}/{osp.basename(path)}')
                    for name, path in paths.items()]
        return page(result=json.dumps(result, indent=1),
                    summary=summary(result), pictures=pictures, **fields)

    @app.get('/runs/<run_id>/<name>')
    def run_file(run_id: str, name: str):
        if secure_filename(run_id) != run_id:
            abort(404)
        return send_from_directory(osp.abspath(osp.join(work_dir, run_id)),
                                   name)

    return app


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='TPO web demo')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--checkpoint', default=DEFAULT_CHECKPOINT)
    parser.add_argument('--exported', metavar='DIR',
                        help='an export_hf folder instead of --config and '
                        '--checkpoint')
    parser.add_argument('--work-dir', default=osp.join('work_dirs',
                                                       'web_demo'))
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ...')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        import flask  # noqa: F401
    except ImportError:
        sys.exit("web_demo: Flask is missing: pip install -e '.[web]'")
    if args.exported is None and not osp.exists(args.checkpoint):
        sys.exit(f'web_demo: no checkpoint {args.checkpoint}: run `python '
                 'tools/quickstart.py` first, or pass --config and '
                 '--checkpoint')
    from tpo.apis import TPOInferencer
    inferencer = TPOInferencer(
        args.exported or args.config,
        None if args.exported else args.checkpoint, device=args.device)
    app = create_app(inferencer, args.work_dir,
                     args.exported or osp.basename(args.config))
    print(f'TPO web demo on http://{args.host}:{args.port}', flush=True)
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == '__main__':
    main()
