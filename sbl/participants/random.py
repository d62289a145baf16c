"""A random participant: uniform over the valid options, seeded (``--participant random``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sbl.prng import Prng
from sbl.protocol import Answer, Ask
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.participants.registry import Options

# Mixed into each participant's seed, so this stream is not the experiment's own.
_SALT = 0x85EBCA6B
_WORDS = ("yes", "no", "maybe", "blue", "seven", "I do not know")


class RandomResponder:
    """Chooses uniformly among the valid options with a Prng per participant, seeded from the
    participant's seed and this responder's ``seed``; free text is a random short phrase."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rngs: dict[str, Prng] = {}

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """One uniform draw per ask."""
        return [self._one(ask) for ask in asks]

    def _one(self, ask: Ask) -> Answer:
        rng = self._rngs.setdefault(ask.participant,
                                    Prng((ask.seed ^ _SALT ^ self.seed) & 0xFFFFFFFF))
        options = ask.options if ask.options is not None else _WORDS
        return Answer(options[rng.below(len(options))])

    def finish(self, participant: str, transcript: str) -> None:
        """Forget the participant's stream."""
        self._rngs.pop(participant, None)


def from_spec(argument: str | None, options: Options) -> RandomResponder:
    """``random`` (seeded by the run's seed) or ``random:SEED``."""
    if argument is None:
        return RandomResponder(options.seed)
    try:
        return RandomResponder(int(argument))
    except ValueError:
        raise SblError.at(None, f"random:SEED needs a whole number; got '{argument}'") from None
