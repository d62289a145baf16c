"""A scripted participant: answers from a list, in order (``--participant scripted:a,b,c``
or ``scripted:FILE`` with one answer per line)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sbl.protocol import Answer, Ask, describe_options, match_option
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.participants.registry import Options


class Scripted:
    """Answers each ask with the next response of its script; every participant of a run
    starts the script from its beginning. Matching options ignores case."""

    name = "scripted"

    def __init__(self, responses: Sequence[str]) -> None:
        self.responses = [str(r) for r in responses]
        self._next: dict[str, int] = {}

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """The next scripted response of each ask's participant."""
        return [Answer(self._one(ask)) for ask in asks]

    def _one(self, ask: Ask) -> str:
        i = self._next.get(ask.participant, 0)
        if i >= len(self.responses):
            raise SblError.at(None, f"the script has {len(self.responses)} responses, but the "
                                    f"experiment asks participant {ask.participant} for more",
                              help=f"the question was: {_last_line(ask.transcript)}")
        self._next[ask.participant] = i + 1
        given = self.responses[i].strip()
        if ask.options is None:
            return given
        match = match_option(ask.options, given)
        if match is None:
            raise SblError.at(None, f"scripted response {i + 1} is {given!r}, but the valid "
                                    f"answers here are {describe_options(ask.options)}",
                              help=f"the question was: {_last_line(ask.transcript)}")
        return match

    def finish(self, participant: str, transcript: str) -> None:
        """Nothing to free."""


def from_spec(argument: str | None, options: Options) -> Scripted:
    """``FILE`` (one response per line, blank lines skipped) or ``a,b,c``."""
    if not argument:
        raise SblError.at(None, "scripted needs responses: scripted:a,b,c or scripted:FILE")
    path = Path(argument)
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        return Scripted([line.strip() for line in lines if line.strip()])
    return Scripted([part.strip() for part in argument.split(",")])


def _last_line(text: str) -> str:
    return text.rsplit("\n", 1)[-1]
