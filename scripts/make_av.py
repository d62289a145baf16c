#!/usr/bin/env python3
"""Make the short video clips the examples and tests use, from nothing (no download): a white
dot drifting left or right across a grey square, as VP8 in WebM, which Chromium plays.

    python scripts/make_av.py [FOLDER]     # default: examples/media

VP8 is encoded with PyAV (``pip install av``: it bundles ffmpeg and libvpx); only this script
and tests/test_av.py need it, because the clips are committed. The sounds are WAV files that
scripts/make_media.py writes with Python's own ``wave`` module.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

# The motion task (examples/motion.sbl): a clip per direction, +1 to the right, -1 to the left.
CLIPS = {"dot_left.webm": -1, "dot_right.webm": 1}
SIZE = 64  # px, square
FPS = 10
MS = 500  # each clip's length
DOT = 4  # the dot's half side, px


def clip(path: Path, direction: int) -> Path:
    """Write a VP8 WebM of the dot drifting across, to the right when ``direction`` is 1 and to
    the left when it is -1, lasting MS; returns ``path``."""
    import av  # only here: the rest of the project never needs it

    frames = FPS * MS // 1000
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=FPS)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"deadline": "good", "crf": "30", "b:v": "64k"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_frame(i, frames, direction), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():  # flush the encoder
            container.mux(packet)
    return path


def _frame(i: int, frames: int, direction: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Frame ``i`` of ``frames`` as an RGB array: the dot from one side towards the other."""
    image = np.full((SIZE, SIZE, 3), 96, dtype=np.uint8)
    x = 2 * DOT + (SIZE - 4 * DOT) * i // (frames - 1)
    x = x if direction > 0 else SIZE - x
    image[SIZE // 2 - DOT:SIZE // 2 + DOT, x - DOT:x + DOT] = 255
    return image


def main(folder: str = "examples/media") -> None:
    """Write every clip into ``folder`` and say how large each is."""
    for name, direction in CLIPS.items():
        path = clip(Path(folder) / name, direction)
        print(f"{path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
