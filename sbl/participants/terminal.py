"""A person at a terminal: reads the transcript as it grows and types each answer.

Only the new part of the transcript is printed at each ask, so the person reads exactly what
a model would read; it ends in `` <<`` and the person types the answer after it. The next
part starts with the answer written the canonical way (``C>> and get 8 points.``). Answers
are matched ignoring case; an invalid one is asked again, naming the valid ones.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from sbl.protocol import Answer, Ask, describe_options, match_option
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.participants.registry import Options


class Terminal:
    """Asks a person on ``stdin``/``stdout`` (the process's own by default)."""

    name = "terminal"

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self._shown: dict[str, int] = {}

    @property
    def _in(self) -> TextIO:
        return self.stdin or sys.stdin

    @property
    def _out(self) -> TextIO:
        return self.stdout or sys.stdout

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """Ask the person each question in turn."""
        return [Answer(self._ask(ask)) for ask in asks]

    def _ask(self, ask: Ask) -> str:
        self._show(ask.participant, ask.transcript)
        while True:
            line = self._in.readline()
            if not line:
                raise SblError.at(None, "the input ended before the experiment did")
            typed = line.strip().removeprefix("<<").removesuffix(">>").strip()
            if ask.options is None:
                return typed[:ask.max_chars]
            match = match_option(ask.options, typed)
            if match is not None:
                return match
            last = ask.transcript.rsplit("\n", 1)[-1]
            self._write(f"Please answer {describe_options(ask.options)}.\n{last}")

    def _show(self, participant: str, transcript: str) -> None:
        """Print what the participant has not seen yet."""
        start = self._shown.get(participant, 0)
        self._write(transcript[start:])
        self._shown[participant] = len(transcript)

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def finish(self, participant: str, transcript: str) -> None:
        """Print the rest of the transcript."""
        self._show(participant, transcript)
        self._write("\n")
        self._shown.pop(participant, None)


def from_spec(argument: str | None, options: Options) -> Terminal:
    """``terminal``: the process's own standard input and output."""
    return Terminal()
