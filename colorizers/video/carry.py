"""Colour every frame of a clip and write it as an MP4, in memory.

A frame coloured on its own flickers: the model changes its mind from frame to frame. So each frame's a/b joins a
running average over its shot (KEEP of the old, the rest new; reset at every cut), and the average follows the
camera: the shift between consecutive frames (phase correlation of their lightness) moves it first, by whole cells,
so colour is not smeared along a pan.

Where the user coloured a keyframe, the frames of its shot are coloured by content from it (the exemplar engine,
`colorizers.exemplar`, with the shot's keyframes as references): each part of a frame takes the colour of what it
looks like in the keyframe, wherever the camera has moved it. On a keyframe itself the user's own a/b is used.
Shots without a keyframe are coloured by the chosen model, as in automatic mode (the exemplar model takes the
clip's keyframes as its references there).

Output: H.264 in yuv420p (so even sizes: an odd width or height loses its last column or row), CRF `QUALITY`, each
frame's own full-resolution lightness kept, timed as the source frames (variable frame rate kept); audio re-encoded
as AAC.
"""
from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, ContextManager

import av
import numpy as np
from scipy import ndimage

from ..color import merge_chroma, resize_plane, rgb_to_lab, rgb_to_lightness
from ..decode import has_color
from ..errors import WeightsMissingError
from ..registry import BY_HAND, get_model, model_info, options_for
from .clip import ClipInfo, Shot, VideoError, open_clip, probe_clip, upright

log = logging.getLogger(__name__)

EXEMPLAR = "exemplar"
# Share of the running a/b average kept at each frame (automatic mode, and carried keyframes).
KEEP = 0.85
# Keyframes given to the exemplar at once: the nearest in time within the shot.
KEYFRAME_REFERENCES = 5
# Change of lightness (L* units, mean over 3x3 cells) at which a cell keeps only e^-1 of its share of the old
# average (chosen on the panned clips: a larger window or a signed mean lets colour trail on a zoom).
CHANGE_SCALE = 4.0
# Long side of the lightness the camera's shift between frames is measured on.
MOTION_SIDE = 256
QUALITY = {"crf": "20", "preset": "veryfast"}

Progress = Callable[[int, int, np.ndarray], None]


class VideoCancelled(Exception):
    """`colorize_video` stopped because `cancelled()` said so."""


def colorize_video(
    data: bytes,
    model: str,
    *,
    reference: Any = None,
    keyframes: Mapping[int, np.ndarray] | None = None,
    strength: float = 1.0,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    frame_slot: Callable[[], ContextManager] | None = None,
) -> bytes:
    """The clip coloured, as MP4 bytes (H.264 yuv420p, the clip's timing, its audio as AAC).

    model: a registered model, used on every frame of shots without a keyframe. reference: as for photos, for the
    models that take one. keyframes: frame index (from 0) -> that frame as the user coloured it (sRGB uint8, any
    size). progress(done, total, latest frame) after each frame; cancelled() is asked before each frame;
    frame_slot() is held while each frame is coloured (the site's model slots).
    """
    info = probe_clip(data)
    painter = FramePainter(info, model, reference, checked_keyframes(keyframes or {}, info))
    with open_clip(data) as source:
        return _transcode(source, info, painter, strength, progress, cancelled, frame_slot or contextlib.nullcontext)


def check_model(model: str) -> None:
    """A clear error, before any frame, for a model that cannot colour a clip: unknown, by hand or not installed."""
    info = model_info(model)  # UnknownModelError for a name no model has
    if model in BY_HAND:
        raise VideoError(f"The {info.title} model colours from brush strokes only; for a clip, choose a model, or "
                         "colour a keyframe by hand and carry it.")
    if not info.is_available:
        raise WeightsMissingError(f"The {info.title} model is not installed here: its weights file is missing.")


def even_size(width: int, height: int) -> tuple[int, int]:
    """The largest even size within (width, height): H.264 in yuv420p needs even sides."""
    return width - width % 2, height - height % 2


def checked_keyframes(keyframes: Mapping[int, np.ndarray], info: ClipInfo) -> dict[int, np.ndarray]:
    """Keyframes by index, each as sRGB uint8 at the output size; a clear error for a wrong index or a gray one."""
    width, height = even_size(info.width, info.height)
    checked = {}
    for index, rgb in sorted(keyframes.items()):
        index = int(index)
        if not 0 <= index < info.frame_count:
            raise VideoError(f"There is no frame {index} in this clip: it has frames 0 to {info.frame_count - 1}.")
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise VideoError(f"Keyframe {index} is not a colour image.")
        if not has_color(rgb):
            raise VideoError(f"Keyframe {index} has no colour: colour the frame first, then keep it as a keyframe.")
        checked[index] = _resized_rgb(rgb, (height, width))
    return checked


def _resized_rgb(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if rgb.shape[:2] == shape:
        return np.ascontiguousarray(rgb)
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((shape[1], shape[0]), Image.BICUBIC))


class FramePainter:
    """The a/b of each frame in turn (frames must come in order): the model's or the keyframes', made steady."""

    def __init__(self, info: ClipInfo, model: str, reference: Any, keyframes: dict[int, np.ndarray],
                 keep: float = KEEP) -> None:
        check_model(model)
        self.info = info
        self.model = model
        self.keyframes = keyframes
        self.options = options_for(model_info(model), {"reference": reference} if reference is not None else {})
        if model == EXEMPLAR and reference is None and keyframes:
            self.options = {"reference": list(keyframes.values())[:KEYFRAME_REFERENCES]}
        get_model(model)  # a missing model fails now, before any frame
        if keyframes:
            get_model(EXEMPLAR)
        self._steady = SteadyChroma(keep)

    def chroma(self, index: int, lightness: np.ndarray) -> np.ndarray:
        shot = self.info.shot_of(index)
        if index == shot.start:
            self._steady.reset()
        if index in self.keyframes:  # the user's own colour, as it is
            chroma = rgb_to_lab(self.keyframes[index])[..., 1:]
            return self._steady.restart(chroma, lightness)
        carried = self._shot_keyframes(shot, index)
        if carried:
            chroma, _ = get_model(EXEMPLAR).predict_chroma(lightness, reference=carried)
        else:
            chroma, _ = get_model(self.model).predict_chroma(lightness, **self.options)
        return self._steady.add(chroma, lightness)

    def _shot_keyframes(self, shot: Shot, index: int) -> list[np.ndarray]:
        nearest = sorted((key for key in self.keyframes if key in shot), key=lambda key: abs(key - index))
        return [self.keyframes[key] for key in nearest[:KEYFRAME_REFERENCES]]


class SteadyChroma:
    """A running average of a/b over a shot that follows the camera and lets go where the picture changed.

    The average is moved by the camera's shift (whole cells, so it is not blurred) and then blended with the new
    a/b: KEEP of the old where the frame's lightness is as it was, less where it changed (something moved, or the
    camera zoomed or turned), so colour does not trail behind what moves."""

    def __init__(self, keep: float = KEEP) -> None:
        self.keep = np.float32(keep)
        self.reset()

    def reset(self) -> None:
        self._average: np.ndarray | None = None
        self._guide: np.ndarray | None = None  # the last frame's lightness on the average's grid
        self._motion: np.ndarray | None = None
        self._drift = np.zeros(2)  # shift measured but not yet applied, in cells of the average

    def restart(self, chroma: np.ndarray, lightness: np.ndarray) -> np.ndarray:
        self.reset()
        return self.add(chroma, lightness)

    def add(self, chroma: np.ndarray, lightness: np.ndarray) -> np.ndarray:
        motion = motion_lightness(lightness)
        guide = lightness if lightness.shape == chroma.shape[:2] else resize_plane(lightness, chroma.shape[:2])
        if self._average is None or self._average.shape != chroma.shape:
            self._average = chroma.astype(np.float32, copy=True)
        else:
            shift = camera_shift(self._motion, motion) * np.array(chroma.shape[:2]) / np.array(motion.shape)
            average, previous = self._follow(shift, self._average, self._guide)
            change = ndimage.uniform_filter(np.abs(guide - previous), size=3)
            keep = (self.keep * np.exp(-(change / CHANGE_SCALE) ** 2))[..., None]
            self._average = keep * average + (1 - keep) * chroma
        self._guide, self._motion = guide, motion
        return self._average

    def _follow(self, shift: np.ndarray, *planes: np.ndarray) -> list[np.ndarray]:
        """The planes moved by the whole cells of the shift so far (no resampling blur; the rest waits)."""
        self._drift += shift
        whole = np.trunc(self._drift)
        if not whole.any():
            return list(planes)
        self._drift -= whole
        return [ndimage.shift(plane, (whole[0], whole[1], 0)[:plane.ndim], order=0, mode="nearest")
                for plane in planes]


def motion_lightness(lightness: np.ndarray) -> np.ndarray:
    step = max(1, max(lightness.shape) // MOTION_SIDE)
    return np.ascontiguousarray(lightness[::step, ::step], dtype=np.float32)


def camera_shift(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(dy, dx) that carries `before` onto `after` (after(p) ~ before(p - d)), by phase correlation, sub-pixel."""
    spectrum = np.fft.rfft2(after - after.mean()) * np.conj(np.fft.rfft2(before - before.mean()))
    spectrum /= np.abs(spectrum) + 1e-6
    surface = np.fft.irfft2(spectrum, s=before.shape)
    peak = np.unravel_index(int(np.argmax(surface)), surface.shape)
    shift = np.zeros(2)
    for axis, size in enumerate(surface.shape):
        around = [surface[tuple((peak[i] + step) % size if i == axis else peak[i] for i in range(2))]
                  for step in (-1, 0, 1)]
        curvature = around[0] - 2 * around[1] + around[2]
        offset = 0.5 * (around[0] - around[2]) / curvature if curvature else 0.0
        position = peak[axis] + offset
        shift[axis] = position - size if position > size / 2 else position
    return shift


def _transcode(source: av.container.InputContainer, info: ClipInfo, painter: FramePainter, strength: float,
               progress: Progress | None, cancelled: Callable[[], bool] | None,
               frame_slot: Callable[[], ContextManager]) -> bytes:
    buffer = io.BytesIO()
    video_in = source.streams.video[0]
    video_in.thread_type = "AUTO"
    audio_in = source.streams.audio[0] if source.streams.audio else None
    width, height = even_size(info.width, info.height)
    with av.open(buffer, "w", format="mp4") as output:
        video_out = output.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(1001),
                                      options=dict(QUALITY))
        video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
        timing = FrameTiming(info.fps)
        video_out.codec_context.time_base = timing.time_base
        audio = AudioCopy(audio_in, output) if audio_in is not None else None
        done = 0
        for packet in source.demux([stream for stream in (video_in, audio_in) if stream is not None]):
            if packet.stream is audio_in:
                audio.add(packet)
                continue
            try:
                frames = packet.decode()
            except av.error.FFmpegError as error:  # a damaged or cut-off tail: the frames so far are the clip
                log.info("Clip breaks off after %d frames: %s", done, error)
                break
            for frame in frames:
                if done >= info.frame_count:
                    break
                if cancelled is not None and cancelled():
                    raise VideoCancelled()
                rgb = upright(frame)[:height, :width]
                lightness = rgb_to_lightness(rgb)
                with frame_slot():
                    chroma = painter.chroma(done, lightness)
                coloured = merge_chroma(lightness, chroma, strength)
                out = av.VideoFrame.from_ndarray(coloured, format="rgb24")
                out.pts, out.time_base = timing.pts(frame), timing.time_base
                for encoded in video_out.encode(out):
                    output.mux(encoded)
                done += 1
                if progress is not None:
                    progress(done, info.frame_count, coloured)
        for encoded in video_out.encode():
            output.mux(encoded)
        if audio is not None:
            audio.finish()
    if done == 0:
        raise VideoError("No frame of this clip could be decoded.")
    return buffer.getvalue()


class FrameTiming:
    """Output timestamps from the source frames' own times (variable frame rate kept), always increasing."""

    def __init__(self, fps: float) -> None:
        self.time_base = Fraction(1, 90000)
        self._frame_ticks = max(1, round(90000 / fps))
        self._start: float | None = None
        self._last = -1

    def pts(self, frame: av.VideoFrame) -> int:
        if frame.time is not None and self._start is None:
            self._start = frame.time
        ticks = self._last + self._frame_ticks
        if frame.time is not None:
            ticks = round((frame.time - self._start) * 90000)
        self._last = max(ticks, self._last + 1)
        return self._last


class AudioCopy:
    """The source's sound re-encoded as AAC into the output (a stream we cannot decode is left out, logged)."""

    def __init__(self, stream, output: av.container.OutputContainer) -> None:
        self.output = output
        self.source = stream
        rate = stream.rate or 48000
        layout = "stereo" if (stream.channels or 2) > 1 else "mono"
        self.stream = output.add_stream("aac", rate=rate)
        self.stream.layout = layout
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        self.broken = False

    def add(self, packet: av.Packet) -> None:
        if self.broken:
            return
        try:
            for frame in packet.decode():
                self._encode(self.resampler.resample(frame))
        except av.error.FFmpegError as error:
            log.info("Sound left out from here: %s", error)
            self.broken = True

    def finish(self) -> None:
        if not self.broken:
            self._encode(self.resampler.resample(None))
        for encoded in self.stream.encode(None):
            self.output.mux(encoded)

    def _encode(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            frame.pts = None
            for encoded in self.stream.encode(frame):
                self.output.mux(encoded)
