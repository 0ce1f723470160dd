"""Short clips made in memory with PyAV for the tests: a textured pattern moving slowly, gray or in colour."""
from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np


def pattern_frames(width: int, height: int, frames: int, colour: bool = False, seed: int = 0) -> list[np.ndarray]:
    """sRGB uint8 frames (height, width, 3): smooth blobs of colour drifting one pixel a frame to the right."""
    rng = np.random.default_rng(seed)
    wide = width + frames
    y, x = np.mgrid[0:height, 0:wide].astype(np.float32)
    canvas = np.zeros((height, wide, 3), np.float32)
    for _ in range(6):
        centre_y, centre_x = rng.uniform(0, height), rng.uniform(0, wide)
        radius = rng.uniform(0.2, 0.5) * min(height, width)
        blob = np.exp(-((y - centre_y) ** 2 + (x - centre_x) ** 2) / (2 * radius**2))
        canvas += blob[..., None] * rng.uniform(40, 200, 3).astype(np.float32)
    canvas = np.clip(canvas + 20, 0, 255)
    if not colour:
        canvas[...] = canvas.mean(axis=2, keepdims=True)
    canvas = canvas.astype(np.uint8)
    return [np.ascontiguousarray(canvas[:, frames - index:frames - index + width]) for index in range(frames)]


def encode_frames(frames: list[np.ndarray], fps: int = 12, codec: str = "libx264", container: str = "mp4",
                  pixel_format: str = "yuv420p", audio: bool = False, options: dict | None = None) -> bytes:
    """The frames as a clip in `container` (with one second of a 440 Hz tone as AAC/MP2 audio when `audio`)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = pixel_format
        if options:
            stream.options = options
        sound = _add_audio(output, container) if audio else None
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
        if sound is not None:
            _write_tone(output, sound, seconds=len(frames) / fps)
    return buffer.getvalue()


def make_clip(width: int = 96, height: int = 64, frames: int = 12, fps: int = 12, codec: str = "libx264",
              container: str = "mp4", audio: bool = False, colour: bool = False,
              pixel_format: str = "yuv420p") -> bytes:
    """A short clip of a slowly moving pattern, encoded in memory."""
    return encode_frames(pattern_frames(width, height, frames, colour), fps, codec, container, pixel_format, audio)


def _add_audio(output: av.container.OutputContainer, container: str) -> av.audio.stream.AudioStream:
    codec = "mp2" if container in ("mpeg", "avi") else "aac"
    stream = output.add_stream(codec, rate=44100 if codec == "mp2" else 48000)
    stream.layout = "mono"
    return stream


def _write_tone(output: av.container.OutputContainer, stream, seconds: float) -> None:
    rate = stream.rate
    samples = int(rate * seconds)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / rate)).astype(np.float32)
    block = stream.frame_size or 1024
    for start in range(0, samples, block):
        chunk = tone[start:start + block]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            output.mux(packet)
    for packet in stream.encode():
        output.mux(packet)
