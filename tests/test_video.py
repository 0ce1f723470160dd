"""The video engine: reading clips (and refusing bad ones clearly), shots, steady colour, keyframes, the MP4."""
from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from colorizers.color import rgb_to_lab, rgb_to_lightness
from colorizers.video import VideoCancelled, VideoError, colorize_video, frame_at, probe_clip
from colorizers.video import carry, clip
from colorizers.video.carry import SteadyChroma, camera_shift
from video_clips import encode_frames, make_clip, pattern_frames


def decoded(data: bytes) -> tuple[list[np.ndarray], av.container.InputContainer]:
    container = av.open(io.BytesIO(data))
    return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)], container


def two_shot_clip(frames_each: int = 8) -> tuple[bytes, list[np.ndarray]]:
    frames = pattern_frames(96, 64, frames_each, colour=True, seed=1)
    inverted = [255 - frame for frame in pattern_frames(96, 64, frames_each, colour=True, seed=2)]
    return encode_frames(frames + inverted), frames + inverted


def test_probe_reports_size_timing_sound_and_first_frame():
    info = probe_clip(make_clip(width=96, height=64, frames=12, fps=12, audio=True))
    assert (info.width, info.height, info.frame_count, info.fps) == (96, 64, 12, 12.0)
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert info.has_audio and info.codec == "h264"
    assert info.first_frame.shape == (64, 96, 3)
    assert info.shots == (clip.Shot(0, 12),)


def test_a_cut_starts_a_new_shot_and_the_strip_has_its_first_frame():
    data, frames = two_shot_clip()
    info = probe_clip(data)
    assert info.shots == (clip.Shot(0, 8), clip.Shot(8, 16))
    assert len(info.shot_frames) == 2
    assert np.abs(info.shot_frames[1].astype(int) - frames[8]).mean() < 6


def test_frame_at_gives_that_frame_and_refuses_one_past_the_end():
    data = make_clip(frames=12)
    frames, _ = decoded(data)
    assert np.array_equal(frame_at(data, 5), frames[5])
    with pytest.raises(VideoError, match="no frame 12"):
        frame_at(data, 12)


@pytest.mark.parametrize("data, message", [
    (b"definitely not a video", "not a video we can read"),
    (b"", "not a video we can read"),
])
def test_not_a_video_is_refused_clearly(data, message):
    with pytest.raises(VideoError, match=message):
        probe_clip(data)


def test_a_photo_is_not_a_clip_to_colour():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "gray").save(buffer, "PNG")
    info = probe_clip(buffer.getvalue())  # FFmpeg reads a PNG as a one-frame clip: colouring it is correct
    assert info.frame_count == 1


def test_sound_only_is_refused():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=48000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
    with pytest.raises(VideoError, match="only sound"):
        probe_clip(buffer.getvalue())


def test_limits_on_bytes_size_and_length(monkeypatch):
    data = make_clip()
    monkeypatch.setattr(clip, "MAX_CLIP_BYTES", len(data) - 1)
    with pytest.raises(VideoError, match="MB; the limit is"):
        probe_clip(data)
    monkeypatch.undo()
    with pytest.raises(VideoError, match="largest we colour is 1920x1080"):
        probe_clip(make_clip(width=1936, height=32, frames=2))
    monkeypatch.setattr(clip, "MAX_SECONDS", 2)
    with pytest.raises(VideoError, match="longest we colour is 2 seconds"):
        probe_clip(make_clip(frames=40, fps=12))


def test_a_truncated_clip_gives_the_frames_before_the_break_or_a_clear_error():
    stream = make_clip(width=96, height=64, frames=24, colour=True, container="mpegts")
    info = probe_clip(stream[: len(stream) // 2])
    assert 0 < info.frame_count < 24
    whole_file = make_clip(width=96, height=64, frames=24, colour=True)  # MP4: its index is at the end
    with pytest.raises(VideoError, match="cut short"):
        probe_clip(whole_file[: len(whole_file) // 2])


def test_rotated_phone_clip_comes_out_upright():
    frames = pattern_frames(96, 64, 6)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.set_display_rotation(90)
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    data = buffer.getvalue()
    info = probe_clip(data)
    assert (info.width, info.height) == (64, 96)
    upright = frame_at(data, 0)
    assert np.abs(upright.astype(int) - np.rot90(frames[0])).mean() < 6
    result, _ = decoded(colorize_video(data, "cnn"))
    assert result[0].shape == (96, 64, 3)


@pytest.mark.parametrize("kind", ["webm", "avi", "mpeg2-interlaced", "10-bit", "gif", "odd"])
def test_other_codecs_and_shapes_are_coloured(kind):
    frames = pattern_frames(97 if kind == "odd" else 96, 63 if kind == "odd" else 64, 8)
    if kind == "gif":
        buffer = io.BytesIO()
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
        data = buffer.getvalue()
    else:
        data = {
            "webm": lambda: encode_frames(frames, codec="libvpx-vp9", container="webm"),
            "avi": lambda: encode_frames(frames, codec="mpeg4", container="avi"),
            "mpeg2-interlaced": lambda: encode_frames(frames, codec="mpeg2video", container="mpeg",
                                                      options={"flags": "+ilme+ildct"}),
            "10-bit": lambda: encode_frames(frames, pixel_format="yuv420p10le"),
            "odd": lambda: encode_frames(frames, codec="mpeg4", container="avi"),
        }[kind]()
    result, container = decoded(colorize_video(data, "cnn"))
    stream = container.streams.video[0]
    assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    assert len(result) == 8
    assert result[0].shape == ((62, 96, 3) if kind == "odd" else (64, 96, 3))  # yuv420p needs even sides


def test_output_keeps_timing_sound_and_each_frames_lightness():
    data = make_clip(width=96, height=64, frames=12, fps=12, audio=True)
    source, _ = decoded(data)
    result, container = decoded(colorize_video(data, "cnn"))
    video = container.streams.video[0]
    assert [stream.type for stream in container.streams] == ["video", "audio"]
    assert container.streams.audio[0].codec_context.name == "aac"
    assert video.average_rate == 12 and len(result) == 12
    assert container.duration / 1e6 == pytest.approx(1.0, abs=0.1)
    drift = [np.abs(rgb_to_lightness(out) - rgb_to_lightness(truth)).mean() for out, truth in zip(result, source)]
    assert max(drift) < 1.5  # the source's lightness, up to H.264's own loss


def test_variable_frame_rate_keeps_each_frames_time():
    frames = pattern_frames(96, 64, 6)
    times = [0.0, 0.1, 0.15, 0.5, 0.55, 1.0]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=20)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for rgb, seconds in zip(frames, times):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = round(seconds * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    container = av.open(io.BytesIO(colorize_video(buffer.getvalue(), "cnn")))
    seen = [frame.time for frame in container.decode(video=0)]
    assert np.allclose(np.array(seen) - seen[0], times, atol=0.01)


def test_keyframe_colour_is_carried_through_its_shot():
    frames = pattern_frames(128, 96, 12, colour=True, seed=3)
    data = encode_frames([np.repeat(rgb_to_lightness(frame)[..., None], 3, axis=2).round().astype(np.uint8)
                          for frame in frames])  # the clip, grayed
    result, _ = decoded(colorize_video(data, "cnn", keyframes={0: frames[0]}))
    automatic, _ = decoded(colorize_video(data, "cnn"))

    def chroma_error(outputs):
        return np.mean([np.abs(rgb_to_lab(out)[..., 1:] - rgb_to_lab(truth)[..., 1:]).mean()
                        for out, truth in zip(outputs[1:], frames[1:])])

    assert chroma_error(result) < 0.5 * chroma_error(automatic)


def test_progress_counts_every_frame_and_cancel_stops():
    data = make_clip(frames=12)
    seen = []
    colorize_video(data, "cnn", progress=lambda done, total, frame: seen.append((done, total, frame.shape)))
    assert [done for done, _, _ in seen] == list(range(1, 13)) and seen[-1][1:] == (12, (64, 96, 3))
    with pytest.raises(VideoCancelled):
        colorize_video(data, "cnn", progress=lambda done, total, frame: seen.append(done),
                       cancelled=lambda: len(seen) >= 15)


def test_frame_slot_is_held_for_each_frame():
    held = []

    class Slot:
        def __enter__(self):
            held.append(True)

        def __exit__(self, *exc):
            return False

    colorize_video(make_clip(frames=5), "cnn", frame_slot=Slot)
    assert len(held) == 5


@pytest.mark.parametrize("model, keyframes, message", [
    ("scribble", {}, "brush strokes only"),
    ("cnn", {99: np.full((64, 96, 3), (200, 40, 40), np.uint8)}, "no frame 99"),
    ("cnn", {0: np.full((64, 96, 3), 128, np.uint8)}, "has no colour"),
    ("nope", {}, "no model called"),
])
def test_wrong_requests_are_refused_clearly(model, keyframes, message):
    with pytest.raises(Exception, match=message):
        colorize_video(make_clip(frames=4), model, keyframes=keyframes)


def test_steady_chroma_averages_noise_and_resets():
    rng = np.random.default_rng(0)
    lightness = np.full((32, 32), 50, np.float32)
    steady = SteadyChroma(keep=0.6)
    noisy = [rng.normal(0, 10, (32, 32, 2)).astype(np.float32) for _ in range(30)]
    outputs = [steady.add(chroma, lightness).copy() for chroma in noisy]
    assert np.std(outputs[10:]) < 0.6 * np.std(noisy[10:])
    steady.reset()
    assert np.array_equal(steady.add(noisy[0], lightness), noisy[0])


def test_camera_shift_finds_a_pan():
    texture = np.random.default_rng(1).uniform(0, 100, (96, 128)).astype(np.float32)
    from scipy import ndimage

    texture = ndimage.gaussian_filter(texture, 2)
    moved = np.roll(texture, (3, -5), axis=(0, 1))
    assert np.allclose(camera_shift(texture, moved), (3, -5), atol=0.3)


def test_even_size():
    assert carry.even_size(97, 63) == (96, 62) and carry.even_size(96, 64) == (96, 64)
