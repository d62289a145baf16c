"""The protocol between the text runtime and whoever answers: a person, a script or a model.

The text runtime renders a participant's transcript and, at each free response, sends an
:class:`Ask`: the whole transcript so far (ending in ``" <<"`` where the answer goes) and the
valid answers. A responder answers a batch of asks at once (one per participant advancing in
lockstep); a person or a script answers batches of one. Because every ask carries the whole
transcript, a responder that keeps a KV cache feeds only the text after what it has already
seen, and one that does not (a person at a terminal prints only the new part) needs no state.

A responder that can also *score* text (a :class:`Scorer`) gives the log-probability of each
marked response of a finished transcript; ``sbl score`` asks for nothing else.

This module sits below both the text backend and ``sbl.participants`` and imports nothing of
``sbl``, so the runtime never reaches into the participants and a participant never into a
backend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# Psych-101 marks a free response as " <<X>>": a space, then the answer, then ">>".
MARK, CLOSE = " <<", ">>"
RESPONSE = re.compile(re.escape(MARK) + "(.*?)" + re.escape(CLOSE), re.DOTALL)
# Between the labels of several options chosen together: ``C, F`` (a multi_select answer).
SEPARATOR = ", "


@dataclass(frozen=True, slots=True)
class Ask:
    """One response wanted from one participant.

    ``transcript`` is everything the participant has read, ending in ``" <<"``; ``options``
    are the valid answers (labels such as ``"C"`` or keys such as ``"F"``), or ``None`` for a
    free-text answer, which ends at ``">>"`` and has at most ``max_chars`` characters.
    ``participant`` names the participant within the run; ``seed`` is theirs.
    """

    participant: str
    transcript: str
    options: tuple[str, ...] | None
    seed: int = 0
    max_chars: int = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """A response and what it cost: ``logprob`` of the chosen answer under the responder,
    ``invalid_mass`` the probability the responder put outside the valid options, and
    ``tokens`` the number of tokens it processed to answer (0 for people and scripts)."""

    response: str
    logprob: float | None = None
    invalid_mass: float | None = None
    tokens: int = 0
    meta: dict[str, object] = field(default_factory=dict)


class Responder(Protocol):
    """Answers asks. ``answer`` gets one ask per participant that waits, in any order."""

    name: str

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """Answer every ask, in the same order."""
        ...

    def finish(self, participant: str, transcript: str) -> None:
        """The participant's run is over; ``transcript`` is its final text. Free its state."""
        ...


@dataclass(frozen=True, slots=True)
class ResponseLogprobs:
    """The log-probabilities of the marked responses of one text: for each response span, how
    many tokens it has and their summed log-probability (natural log, each token given all
    the text before it); ``text_tokens`` is the token count of the whole text."""

    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]
    text_tokens: int


@runtime_checkable
class Scorer(Protocol):
    """A participant that scores text: what ``sbl score`` needs of a model."""

    name: str

    def response_logprobs(self, text: str, spans: Sequence[tuple[int, int]]
                          ) -> ResponseLogprobs:
        """The log-probabilities of the tokens inside each character span (start, end) of
        ``text``, from one teacher-forced pass over the whole text.

        A scorer may also offer ``response_logprobs_many(items)``, the same for each (text,
        spans) of a list, free to share work between texts (the transformers participant
        feeds the first tokens they share once); ``sbl score`` uses it where there is one."""
        ...


@dataclass
class Usage:
    """What a responder processed: tokens fed to the model and tokens of the final transcripts."""

    tokens_processed: int = 0
    transcript_tokens: int = 0
    participants: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.tokens_processed + other.tokens_processed,
                     self.transcript_tokens + other.transcript_tokens,
                     self.participants + other.participants)


def match_option(options: Sequence[str], text: str) -> str | None:
    """The option ``text`` names, ignoring case, or None. Where the options are numbers (a
    slider's positions), a number written otherwise names the same option: ``50.0`` is
    ``50``. Where the options are sets of options (``C``, ``F``, ``C, F``), the set written
    in any order or way (``F and C``, ``f c``) names the option that lists it."""
    wanted = text.strip().upper()
    found = next((o for o in options if o.upper() == wanted), None)
    if found is not None:
        return found
    if _is_number(wanted):
        return next((o for o in options if _is_number(o) and float(o) == float(wanted)), None)
    return _as_set(options, wanted)


def _as_set(options: Sequence[str], wanted: str) -> str | None:
    """The option that lists the options named by the words of ``wanted`` (upper case), in
    the order the options come, joined by SEPARATOR; None when there is none."""
    words = {w for w in re.split(r"[,\s]+|\bAND\b", wanted) if w}
    singles = [o for o in options if o.upper() in words]
    if len(words) < 2 or len(singles) != len(words):
        return None
    joined = SEPARATOR.join(singles).upper()
    return next((o for o in options if o.upper() == joined), None)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity")


def describe_options(options: Sequence[str]) -> str:
    """The valid answers for a message: ``C or A``, ``C, A or F`` (sets of options:
    ``C; A; C, A or nothing``); a long list (a slider's positions) by its first and last
    items: ``0, 1, …, 100 (101 answers)``."""
    items = list(options)
    between = "; " if any("," in o for o in items) else ", "  # sets of options: "C, F"
    if len(items) > 12:
        return f"{items[0]}{between}{items[1]}{between}…{between}{items[-1]} ({len(items)} answers)"
    return items[0] if len(items) == 1 else between.join(items[:-1]) + " or " + items[-1]


def closes_options(options: Sequence[str]) -> bool:
    """Whether options must be scored with their closing ``">>"``: when one option begins
    another (``1`` and ``10``, ``car`` and ``cart``), the shorter one's tokens also start the
    longer one, so its probability alone would count both."""
    return any(a != b and b.startswith(a) for a in options for b in options)


def scored_texts(options: Sequence[str]) -> list[str]:
    """The text scored for each option: itself, or itself and ``">>"`` (:func:`closes_options`)."""
    closing = closes_options(options)
    return [option + CLOSE if closing else option for option in options]
