"""Black-and-white film clips in colour: decoded and encoded in memory with PyAV (its wheels ship FFmpeg).

`probe_clip` checks a clip against the limits and finds its shots; `frame_at` gives one frame (to colour as a
keyframe); `colorize_video` colours every frame and writes an MP4 (H.264, yuv420p, the clip's frame rate, its audio
kept), each frame's full-resolution lightness kept as for photos.

Two ways to colour (see `colorizers.video.carry`):
- automatic: a registered model on each frame, made steady over time;
- from keyframes: frames the user coloured, their colour carried through their shot by content (the exemplar
  engine); a shot without a keyframe is coloured automatically.
"""
from .clip import (
    LIMITS_SENTENCE,
    MAX_CLIP_BYTES,
    MAX_FRAME_PIXELS,
    MAX_LONG_SIDE,
    MAX_SECONDS,
    ClipInfo,
    NotAVideoError,
    Shot,
    VideoError,
    VideoTooLargeError,
    frame_at,
    probe_clip,
)
from .carry import VideoCancelled, check_model, checked_keyframes, colorize_video

__all__ = [
    "LIMITS_SENTENCE",
    "MAX_CLIP_BYTES",
    "MAX_FRAME_PIXELS",
    "MAX_LONG_SIDE",
    "MAX_SECONDS",
    "ClipInfo",
    "NotAVideoError",
    "Shot",
    "VideoCancelled",
    "VideoError",
    "VideoTooLargeError",
    "check_model",
    "checked_keyframes",
    "colorize_video",
    "frame_at",
    "probe_clip",
]
