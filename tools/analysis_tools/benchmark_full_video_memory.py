"""Peak memory and speed of the full-video SAM2 path (every frame at SAM2's
input size, tpo/models/heads/sam2_full_video.py) against video length.

Each run is a fresh process: it builds SAM2 Hiera-T (random weights: speed
and memory do not depend on them), writes a synthetic JPEG video of N
frames, and tracks a box from frame 0 over every frame. A thread samples
the process's resident memory (CPU) every 5 ms; on a GPU,
``torch.cuda.max_memory_allocated`` is read too. Reported: the peak above
the memory held just before tracking started, and frames per second.
``--eager`` adds the same propagation through sam2's own ``init_state``
(every frame decoded into memory first) with no trimming of the
predictor's per-frame outputs, for contrast.

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark_full_video_memory.py \\
        --frames 100 1000 --image-size 128 --eager --out work_dirs/full_video_memory.json
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import threading
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class PeakRSS(threading.Thread):
    """The largest resident size seen while running."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self.running = interval, rss_bytes(), True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def stop(self) -> int:
        self.running = False
        self.join()
        return max(self.peak, rss_bytes())


def write_video(folder: str, num_frames: int, height: int,
                width: int) -> list:
    """A white square crossing noise, ``00000.jpg ...``."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    paths = []
    for t in range(num_frames):
        frame = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
        x = (t * 3) % (width - 40)
        frame[20:60, x:x + 40] = 255
        paths.append(osp.join(folder, f'{t:05d}.jpg'))
        Image.fromarray(frame).save(paths[-1], quality=90)
    return paths


def measure(args) -> dict:
    """One run in this process (``--single``)."""
    import torch
    sys.path.insert(0, ROOT)
    from tpo.models.heads.sam2_full_video import SAM2FullVideoTracker
    from tpo.models.heads.sam2_builder import build_sam2_base
    device = torch.device(args.device)
    torch.manual_seed(0)
    predictor = build_sam2_base(
        'sam2.1_hiera_t', args.image_size,
        {'_target_': 'sam2.sam2_video_predictor.SAM2VideoPredictor'}).to(
            device).eval()
    box = torch.tensor([0.0, 20 / args.height, 40 / args.width,
                        60 / args.height])
    with tempfile.TemporaryDirectory() as folder:
        paths = write_video(folder, args.frames[0], args.height, args.width)
        tracker = SAM2FullVideoTracker(predictor, chunk_size=args.chunk_size)
        if device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            gpu_start = torch.cuda.memory_allocated()
        sampler = PeakRSS()
        start_rss = rss_bytes()
        sampler.start()
        tick = time.perf_counter()
        if args.eager:  # sam2 as shipped: every frame in memory, no trim
            state = predictor.init_state(folder)
            with torch.inference_mode():
                predictor.add_new_points_or_box(
                    state, 0, 0, box=box * torch.tensor(
                        [args.width, args.height, args.width, args.height]))
                frames = sum(1 for _ in predictor.propagate_in_video(state))
        else:
            frames = len(tracker.run(tracker.frames(paths),
                                     box_norm=box)['rles'])
        if device.type == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - tick
        peak_rss = sampler.stop()
    result = dict(frames=frames, image_size=args.image_size,
                  path='sam2 init_state (eager)' if args.eager else
                  'tpo full-video (chunked, trimmed)',
                  seconds=seconds, fps=frames / seconds,
                  peak_rss_mib=(peak_rss - start_rss) / 2**20)
    if device.type == 'cuda':
        result['peak_gpu_mib'] = (torch.cuda.max_memory_allocated() -
                                  gpu_start) / 2**20
    return result


def table(results: list) -> str:
    gpu = any('peak_gpu_mib' in r for r in results)
    lines = ['| path | frames | SAM2 input | peak memory above start (MiB) '
             + ('| peak GPU memory (MiB) ' if gpu else '') +
             '| frames / s |',
             '|---|---|---|---|' + ('---|' if gpu else '') + '---|']
    for r in results:
        lines.append(
            f"| {r['path']} | {r['frames']} | {r['image_size']}² | "
            f"{r['peak_rss_mib']:.1f} | " +
            (f"{r.get('peak_gpu_mib', float('nan')):.1f} | " if gpu else '')
            + f"{r['fps']:.2f} |")
    by_path = {}
    for r in results:
        by_path.setdefault(r['path'], []).append(r)
    for path, rows in by_path.items():
        rows.sort(key=lambda r: r['frames'])
        if len(rows) > 1 and rows[0]['peak_rss_mib'] > 0:
            lines.append(
                f"\n{path}: peak memory x{rows[-1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f} "  # noqa: E501
                f"from {rows[0]['frames']} to {rows[-1]['frames']} frames")
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, nargs='+', default=[100, 1000])
    parser.add_argument('--image-size', type=int, default=128)
    parser.add_argument('--height', type=int, default=240)
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument('--chunk-size', type=int, default=16)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--eager', action='store_true',
                        help='also run sam2 init_state + propagate_in_video')
    parser.add_argument('--single', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--out', help='write the results as json here')
    args = parser.parse_args()
    if args.single:
        print(json.dumps(measure(args)))
        return
    results = []
    for eager in ([False, True] if args.eager else [False]):
        for frames in args.frames:
            command = [
                sys.executable, osp.abspath(__file__), '--single',
                '--frames', str(frames), '--image-size', str(args.image_size),
                '--height', str(args.height), '--width', str(args.width),
                '--chunk-size', str(args.chunk_size), '--device', args.device
            ] + (['--eager'] if eager else [])
            out = subprocess.run(command, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f'{" ".join(command)} failed:\n{out.stderr[-3000:]}')
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    print(table(results))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
