"""The one seeded pseudo-random generator, mulberry32, and the draws built on it.

``sbl/backends/web/expr.js`` has the same generator and the same algorithms, so a seed gives
the same trial order in the browser and in a simulation. Every draw uses :meth:`Prng.next_float`
and double arithmetic only, exactly as the JS code does.
"""

from __future__ import annotations

import math
from typing import TypeVar

T = TypeVar("T")

_MASK = 0xFFFFFFFF
_GOLDEN = 0x6D2B79F5  # mulberry32's increment


def _imul(a: int, b: int) -> int:
    """JavaScript's Math.imul on uint32 inputs, as a uint32."""
    return (a * b) & _MASK


class Prng:
    """mulberry32: a 32-bit state; each draw is a uint32 divided by 2**32."""

    def __init__(self, seed: int) -> None:
        self._state = int(seed) & _MASK

    @property
    def state(self) -> int:
        """The 32-bit state; set it to resume a stream where it left off."""
        return self._state

    @state.setter
    def state(self, value: int) -> None:
        self._state = int(value) & _MASK

    def next_uint32(self) -> int:
        """The next 32-bit output."""
        self._state = (self._state + _GOLDEN) & _MASK
        t = self._state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & _MASK
        return (t ^ (t >> 14)) & _MASK

    def next_float(self) -> float:
        """The next draw, a double in [0, 1)."""
        return self.next_uint32() / 4294967296.0

    def below(self, n: float) -> int:
        """A whole number in [0, n): floor(next_float() * n)."""
        return math.floor(self.next_float() * float(n))


def shuffle(rng: Prng, items: list[T]) -> list[T]:
    """A shuffled copy: Fisher-Yates from the last index down, j = floor(u * (i + 1))."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = rng.below(i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def sample(rng: Prng, items: list[T], k: int) -> list[T]:
    """k items without replacement: partial Fisher-Yates from the front, j = i + floor(u*(n-i))."""
    out = list(items)
    n = len(out)
    for i in range(k):
        j = i + rng.below(n - i)
        out[i], out[j] = out[j], out[i]
    return out[:k]


def choice(rng: Prng, items: list[T]) -> T:
    """One item: items[floor(u * n)]; the list must not be empty."""
    return items[rng.below(len(items))]


def randint(rng: Prng, a: float, b: float) -> float:
    """A whole number in [a, b]: a + floor(u * (b - a + 1)), in doubles."""
    return float(a) + float(rng.below(float(b) - float(a) + 1.0))
