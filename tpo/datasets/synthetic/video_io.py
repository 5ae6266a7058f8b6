"""Deterministic writers for rendered frames: H.264 mp4 and JPEG."""
import numpy as np
from PIL import Image

# Near-lossless H.264 in the most widely decodable pixel format (decoded
# colours stay within ~2 levels of the rendered ones on average). One encoder
# thread keeps the bitstream byte-identical between runs.
MP4_CODEC = 'libx264'
MP4_OPTIONS = {'crf': '10', 'preset': 'veryfast'}
JPEG_QUALITY = 95


def write_mp4(path: str, frames: np.ndarray, fps: int) -> None:
    """Write ``(T, H, W, 3)`` uint8 RGB frames (even H and W) to ``path``."""
    import av  # PyAV: needed to render a world, not to read one
    with av.open(path, mode='w') as container:
        stream = container.add_stream(MP4_CODEC, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = 'yuv420p'
        stream.options = MP4_OPTIONS
        stream.codec_context.thread_count = 1
        for frame in frames:
            container.mux(
                stream.encode(av.VideoFrame.from_ndarray(frame, 'rgb24')))
        container.mux(stream.encode())


def write_jpeg(path: str, frame: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB frame as a full-chroma JPEG."""
    Image.fromarray(frame).save(path, quality=JPEG_QUALITY, subsampling=0)
