"""Make the small sounds and videos that the examples and tests use, from nothing.

Sounds are pure tones written with Python's own ``wave`` module (16-bit mono PCM, 8 kHz:
about 3 KB for 200 ms). Videos are VP8 in WebM, which Chromium plays, encoded with PyAV
(``pip install av``: it bundles ffmpeg and libvpx; only this script and its test need it).

    python scripts/make_av.py            # (re)write examples/oddball/*.wav, examples/motion/*.webm

The files are committed, so nothing else needs PyAV; running this again rewrites them (the
sounds byte for byte).
"""

from __future__ import annotations

import argparse
import math
import struct
import wave
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 8000  # samples per second: enough for tones up to 4 kHz
RAMP_MS = 10  # rise and fall, so that a tone starts and stops without a click

# The auditory oddball (examples/oddball.sbl): a frequent low tone and a rare high one.
TONES = {"standard.wav": (440.0, 200), "deviant.wav": (880.0, 200)}
# The motion task (examples/motion.sbl): a dot that drifts left or right.
CLIPS = {"left.webm": -1, "right.webm": 1}


def tone(path: Path, frequency: float, ms: int, volume: float = 0.5) -> Path:
    """Write a sine tone of ``frequency`` Hz lasting ``ms`` as a WAV file; returns ``path``."""
    n = RATE * ms // 1000
    ramp = RATE * RAMP_MS // 1000
    frames = bytearray()
    for i in range(n):
        envelope = min(1.0, i / ramp, (n - 1 - i) / ramp)
        sample = volume * envelope * math.sin(2 * math.pi * frequency * i / RATE)
        frames += struct.pack("<h", round(sample * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


def clip(path: Path, direction: int, ms: int = 500, size: int = 64, fps: int = 10) -> Path:
    """Write a VP8 WebM of a white dot drifting across a grey square, to the right when
    ``direction`` is 1 and to the left when it is -1, lasting ``ms``; returns ``path``."""
    import av  # only here: the rest of the project never needs it
    import numpy as np

    frames = max(2, fps * ms // 1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"deadline": "good", "crf": "30", "b:v": "64k"}
        for i in range(frames):
            image = np.full((size, size, 3), 96, dtype=np.uint8)
            x = _dot_x(i, frames, size, direction)
            image[size // 2 - 4:size // 2 + 4, x - 4:x + 4] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _dot_x(i: int, frames: int, size: int, direction: int) -> int:
    """The dot's centre in frame ``i`` of ``frames``: from one side to the other."""
    left, right = 8, size - 8
    x = left + (right - left) * i // (frames - 1)
    return x if direction > 0 else size - x


def make_all(root: Path = ROOT, video: bool = True) -> list[Path]:
    """Write the examples' sounds (and, with ``video``, their clips); the paths written."""
    out = [tone(root / "examples" / "oddball" / name, f, ms) for name, (f, ms) in TONES.items()]
    if video:
        out += [clip(root / "examples" / "motion" / name, d) for name, d in CLIPS.items()]
    return out


def main() -> None:
    """Command line: write the files and say how large each is."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-video", action="store_true", help="write only the sounds "
                        "(the videos need PyAV: pip install av)")
    args = parser.parse_args()
    for path in make_all(video=not args.no_video):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
