"""Seeded draws over a participant's valid answers, shared by the model participants.

Each participant samples with its own generator, so its choices do not depend on which other
participants share its batch, nor on the order in which a batch is answered.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def participant_rng(seed: int, base: int = 0) -> np.random.Generator:
    """The RNG a participant samples with: its own seed, mixed with a run's ``base`` if any."""
    return np.random.default_rng(seed if base == 0 else [base & 0xFFFFFFFF, seed & 0xFFFFFFFF])


def sample_index(logprobs: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Draw an index from softmax(logprobs / temperature); argmax at temperature 0."""
    row = np.asarray(logprobs, dtype=np.float64)[None]
    return int(sample_rows(row, [row.shape[1]], temperature, [rng])[0])


def sample_rows(logprobs: np.ndarray, counts: Sequence[int], temperature: float,
                rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """One draw per row from softmax(row / temperature) over its first ``counts[i]`` entries
    (the rest are padding), each with its row's RNG; argmax at temperature 0."""
    valid = np.arange(logprobs.shape[1])[None] < np.asarray(counts)[:, None]
    z = np.where(valid, logprobs, -np.inf)
    if temperature <= 0:
        return z.argmax(axis=1)
    z = z / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cumulative = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    draws = np.array([rng.random() for rng in rngs])
    picks = (cumulative <= draws[:, None]).sum(axis=1)  # searchsorted(side="right"), per row
    return np.minimum(picks, np.asarray(counts) - 1)
