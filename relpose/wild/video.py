"""A video file as the kit's ffmpeg sees it (imageio-ffmpeg, in the kit's environment; relpose.wild.detect
checks videos with OpenCV in the detector's): paths handed to ffmpeg, and a probe that a command runs before
any work. Imports neither torch nor matplotlib, so a refusal comes at once.

ffmpeg gets absolute paths only: it reads a name such as 'concat:a|b' or 'http:x' as a protocol and one
starting with '-' as an option.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import UserError


def for_ffmpeg(path) -> str:
    """An absolute path: never a protocol ('concat:', 'http:') or an option ('-x') to ffmpeg."""
    return os.path.abspath(os.fspath(path))


def probe_video(path, flag: str = "--video", with_frames: bool = False) -> tuple:
    """(width, height, fps) of a video file whose first frame decodes; else a one-line UserError naming
    `flag` (a folder, an empty file, a text file, a video without frames). Decodes one frame with the
    kit's ffmpeg, in the kit's environment (relpose.wild.detect checks the same with OpenCV). With
    with_frames, also its number of frames from the header (duration x fps: an estimate; None where the
    header does not say). fps is None where the header does not say."""
    import imageio_ffmpeg
    path = Path(path)
    if not path.exists():
        raise UserError(f"{flag} '{path}' does not exist; give the video file")
    if not path.is_file():
        raise UserError(f"{flag} '{path}' is a folder, not a video file; give a video such as clip.mp4")
    if path.stat().st_size == 0:
        raise UserError(f"{flag} '{path}' is an empty file; give a video that a video player can play")
    frames = imageio_ffmpeg.read_frames(for_ffmpeg(path))
    try:
        meta = next(frames)
        width, height = (int(v) for v in meta["size"])
        fps = float(meta["fps"]) if meta.get("fps") else None
        duration = meta.get("duration") or 0
        count = duration * fps if fps and duration > 0 else None
        next(frames)
    except StopIteration:
        raise UserError(f"{flag} '{path}' holds no video frame; give a video that a video player can play") from None
    except Exception as e:   # imageio_ffmpeg raises OSError or RuntimeError for what ffmpeg cannot read
        lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
        said = lines[-1][:160] if lines else type(e).__name__
        raise UserError(f"{flag} '{path}' cannot be read as a video ({said}); give a video file (.mp4, .avi, .mov) "
                        "that a video player can play") from None
    finally:
        frames.close()
    return (width, height, fps, count) if with_frames else (width, height, fps)
