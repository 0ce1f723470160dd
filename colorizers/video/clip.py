"""Reading a clip in memory with PyAV: checks against the limits, upright frames, shots.

Frames come out as sRGB uint8 (H, W, 3), turned upright when the clip says it is rotated (phone clips), whatever the
codec stored (8 or 10 bit, palette GIF, interlaced MPEG-2 as its two fields woven, as players show it). A file that
ends early (truncated) gives the frames before the break. Nothing is written to disk.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from .. import settings
from ..color import rgb_to_lightness
from ..errors import ColorizerError, ImageTooLargeError

log = logging.getLogger(__name__)

MAX_SECONDS = 60
MAX_LONG_SIDE = 1920
MAX_FRAME_PIXELS = 1920 * 1080
MAX_CLIP_BYTES = settings.MAX_VIDEO_BYTES
LIMITS_SENTENCE = (f"Clips up to {MAX_SECONDS} seconds, 1920x1080 (either way up) and "
                   f"{MAX_CLIP_BYTES / 1e6:g} MB: MP4, WebM, MOV, MPEG, AVI or animated GIF.")
NOT_A_VIDEO = "This file is not a video we can read, or it is damaged or cut short. " + LIMITS_SENTENCE
# Shot cuts: the mean lightness change between consecutive frames (at THUMB_WIDTH) that starts a new shot, and the
# shortest shot kept (a flash or a few frames of a fade stay in the shot before them).
THUMB_WIDTH = 64
CUT_CHANGE = 12.0
MIN_SHOT_FRAMES = 6


class VideoError(ColorizerError):
    """The clip cannot be coloured (the message is written for the person who uploaded it)."""


class NotAVideoError(VideoError):
    """The file is not a clip we can read (not a video, damaged, cut short, sound only, an unknown codec)."""


class VideoTooLargeError(VideoError, ImageTooLargeError):
    """The clip is over a limit: bytes, frame size or length."""


@dataclass(frozen=True)
class Shot:
    """Frames [start, stop) of one shot."""

    start: int
    stop: int

    def __contains__(self, index: int) -> bool:
        return self.start <= index < self.stop


@dataclass(frozen=True)
class ClipInfo:
    """What a clip holds: size as shown (upright), timing, audio, and its shots with their first frames."""

    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    has_audio: bool
    codec: str
    shots: tuple[Shot, ...]
    shot_frames: tuple[np.ndarray, ...]

    @property
    def first_frame(self) -> np.ndarray:
        return self.shot_frames[0]

    def shot_of(self, index: int) -> Shot:
        return next(shot for shot in self.shots if index in shot)


def open_clip(data: bytes) -> av.container.InputContainer:
    """The clip's container, checked: a video stream of a known codec, within the byte, size and time limits."""
    if len(data) > MAX_CLIP_BYTES:
        raise VideoTooLargeError(f"This clip is {len(data) / 1e6:.0f} MB; the limit is {MAX_CLIP_BYTES / 1e6:g} MB.")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as error:
        log.info("Not a clip: %s", error)
        raise NotAVideoError(NOT_A_VIDEO) from None
    try:
        _check_stream(container)
    except BaseException:
        container.close()
        raise
    return container


def _check_stream(container: av.container.InputContainer) -> None:
    if not container.streams.video:
        what = "only sound" if container.streams.audio else "no pictures"
        raise NotAVideoError(f"This file has {what}: there is no video in it to colour.")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.width or not stream.height:
        raise NotAVideoError("This clip's video is in a format we cannot decode. " + LIMITS_SENTENCE)
    width, height = stream.width, stream.height
    if max(width, height) > MAX_LONG_SIDE or width * height > MAX_FRAME_PIXELS:
        raise VideoTooLargeError(f"This clip is {width}x{height}; the largest we colour is 1920x1080 (either way up).")
    if min(width, height) < 16:
        raise VideoError(f"This clip is {width}x{height}; it needs at least 16 pixels each way.")
    duration = _declared_seconds(container, stream)
    if duration is not None and duration > MAX_SECONDS + 0.5:
        raise VideoTooLargeError(f"This clip lasts {duration:.0f} seconds; the longest we colour is {MAX_SECONDS} "
                                 "seconds.")


def _declared_seconds(container: av.container.InputContainer, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1e6
    return None


def frame_rate(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 25.0


def upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame as sRGB uint8 (H, W, 3), turned as the clip asks players to show it."""
    rgb = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4  # the display matrix's angle, counter-clockwise
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def video_frames(container: av.container.InputContainer) -> Iterator[av.VideoFrame]:
    """The video stream's frames in order; a clip that breaks off (truncated, corrupt tail) ends there."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    frames = container.decode(stream)
    count = 0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.error.FFmpegError as error:
            if count == 0:
                raise NotAVideoError("This clip's video could not be decoded: the file may be damaged or cut short. "
                                 + LIMITS_SENTENCE) from None
            log.info("Clip ends early after %d frames: %s", count, error)
            return
        count += 1
        yield frame


def probe_clip(data: bytes) -> ClipInfo:
    """Check a clip and find its shots (decodes it once; about 1 s for 190 frames at 720x405 on 2 cores)."""
    with open_clip(data) as container:
        stream = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        codec = stream.codec_context.name
        fps = frame_rate(stream)
        detector = ShotDetector()
        shot_frames: list[np.ndarray] = []
        first_time = last_time = None
        count = 0
        for count, frame in enumerate(video_frames(container), start=1):
            rgb = upright(frame)
            if detector.starts_shot(count - 1, rgb):
                shot_frames.append(rgb)
            if frame.time is not None:
                first_time = frame.time if first_time is None else first_time
                last_time = frame.time
            if count > (MAX_SECONDS + 1) * max(fps, 1) * 2:
                raise VideoTooLargeError(f"This clip lasts over {MAX_SECONDS} seconds; the longest we colour is "
                                 f"{MAX_SECONDS} seconds.")
    if count == 0:
        raise NotAVideoError("This clip has no frames we could decode. " + LIMITS_SENTENCE)
    duration = count / fps if first_time is None or last_time is None else last_time - first_time + 1 / fps
    if duration > MAX_SECONDS + 0.5:
        raise VideoTooLargeError(f"This clip lasts {duration:.0f} seconds; the longest we colour is {MAX_SECONDS} "
                                 "seconds.")
    shots = detector.shots(count)
    height, width = shot_frames[0].shape[:2]
    return ClipInfo(width, height, fps, count, duration, has_audio, codec, shots, tuple(shot_frames))


def frame_at(data: bytes, index: int) -> np.ndarray:
    """Frame `index` (from 0) as sRGB uint8 (H, W, 3), upright."""
    if index < 0:
        raise VideoError("Frame numbers start at 0.")
    with open_clip(data) as container:
        for position, frame in enumerate(video_frames(container)):
            if position == index:
                return upright(frame)
    raise VideoError(f"This clip has no frame {index}: it has {position + 1} frames (0 to {position}).")


class ShotDetector:
    """Finds cuts from the change of lightness between consecutive small frames (camera moves change it little)."""

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None
        self._starts: list[int] = []

    def starts_shot(self, index: int, rgb: np.ndarray) -> bool:
        """Whether frame `index` starts a new shot (fed every frame in order)."""
        small = thumbnail_lightness(rgb)
        change = np.inf if self._previous is None else float(np.mean(np.abs(small - self._previous)))
        self._previous = small
        if change < CUT_CHANGE:
            return False
        if self._starts and index - self._starts[-1] < MIN_SHOT_FRAMES:
            return False  # too soon after the last cut: part of the same change (a flash, a fade)
        self._starts.append(index)
        return True

    def shots(self, frame_count: int) -> tuple[Shot, ...]:
        stops = [*self._starts[1:], frame_count]
        return tuple(Shot(start, stop) for start, stop in zip(self._starts, stops))


def thumbnail_lightness(rgb: np.ndarray) -> np.ndarray:
    """Lightness of a small copy (THUMB_WIDTH wide), what cuts and camera motion are measured on."""
    step = max(1, rgb.shape[1] // THUMB_WIDTH)
    return rgb_to_lightness(np.ascontiguousarray(rgb[::step, ::step]))
