#!/usr/bin/env python3
"""Make the small media files the examples and tests use, from nothing (no download, no
dependency): PNG images written with zlib and struct, WAV sounds with the wave module.

    python scripts/make_media.py [FOLDER]     # default: examples/media

The files are deterministic (the same bytes on every run), so the committed copies can be
checked against this script (tests/test_media.py does).
"""

from __future__ import annotations

import io
import math
import struct
import sys
import wave
import zlib
from collections.abc import Callable
from pathlib import Path

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
# Shapes the image-categorisation example shows, each in each colour.
COLOURS: dict[str, RGB] = {"red": (220, 40, 40), "blue": (40, 80, 220), "green": (30, 160, 70)}


def png(width: int, height: int, pixel: Callable[[int, int], RGB]) -> bytes:
    """An 8-bit RGB PNG of ``pixel(x, y)`` (PNG spec: signature, IHDR, IDAT, IEND)."""
    rows = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y))
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def circle(colour: RGB, size: int = 64) -> bytes:
    """A filled circle on white."""
    r = size / 2 - 4
    return png(size, size, lambda x, y: colour if math.hypot(x + 0.5 - size / 2,
                                                              y + 0.5 - size / 2) <= r
               else WHITE)


def square(colour: RGB, size: int = 64) -> bytes:
    """A filled square on white."""
    return png(size, size, lambda x, y: colour if 10 <= x < size - 10 and 10 <= y < size - 10
               else WHITE)


def noise(seed: int, size: int) -> bytes:
    """An image of pseudo-random pixels (xorshift32): it hardly compresses, so a PNG of
    ``size`` x ``size`` pixels weighs about 3 * size**2 bytes (the compile benchmark)."""
    state = seed or 1
    data = bytearray()
    for _ in range(size * size * 3):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        data.append(state & 0xFF)
    return png(size, size, lambda x, y: (data[(y * size + x) * 3], data[(y * size + x) * 3 + 1],
                                         data[(y * size + x) * 3 + 2]))


def tone(frequency: float, ms: int = 300, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a sine tone, faded in and out over 10 ms."""
    n = rate * ms // 1000
    fade = rate // 100
    samples = (int(12000 * min(1.0, i / fade, (n - i) / fade)
                   * math.sin(2 * math.pi * frequency * i / rate)) for i in range(n))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def files() -> dict[str, bytes]:
    """Every file, by name."""
    out: dict[str, bytes] = {}
    for name, colour in COLOURS.items():
        out[f"{name}_circle.png"] = circle(colour)
        out[f"{name}_square.png"] = square(colour)
    out["low_tone.wav"] = tone(440)
    out["high_tone.wav"] = tone(880)
    return out


def main(folder: str = "examples/media") -> None:
    """Write every file into ``folder``."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (target / name).write_bytes(data)
        print(f"{target / name} ({len(data):,} bytes)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
