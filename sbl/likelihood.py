"""Score recorded responses under a model: the negative log-likelihood the Centaur paper reports.

One teacher-forced forward pass over a participant's whole Psych-101 transcript; the NLL counts
only the response tokens, those between each ``" <<"`` and the ``">>"`` that closes it. Given
the number of options of each choice, the random-guessing baseline is ``ln k`` per choice and
pseudo-R² = 1 − NLL / NLL_random. Where a choice's options begin one another (``1`` and
``10``), its closing ``">>"`` counts too, as the model participants score such options
(:func:`sbl.protocol.scored_texts`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sbl.protocol import CLOSE, RESPONSE, ResponseLogprobs, Scorer, closes_options
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.participants.models import LoadedModel


@dataclass(frozen=True, slots=True)
class ChoiceScore:
    """One marked response: its text, where it starts, its tokens and their NLL (nats)."""

    index: int
    response: str
    start: int
    tokens: int
    nll: float
    options: int | None = None

    @property
    def nll_random(self) -> float | None:
        """``ln k`` for k options, the NLL of guessing at random; None when k is unknown."""
        return math.log(self.options) if self.options else None


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The scores of every response in one transcript (one participant)."""

    choices: tuple[ChoiceScore, ...]
    transcript_tokens: int

    @property
    def nll(self) -> float:
        """Total NLL of the participant's responses."""
        return sum(c.nll for c in self.choices)

    @property
    def nll_random(self) -> float | None:
        """Total random-guessing NLL, or None if some choice's option count is unknown."""
        parts = [c.nll_random for c in self.choices]
        return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)

    @property
    def pseudo_r2(self) -> float | None:
        """1 − NLL / NLL_random, or None without option counts."""
        return pseudo_r2([self])


def pseudo_r2(results: Iterable[ScoreResult]) -> float | None:
    """Pseudo-R² over several participants: 1 − ΣNLL / ΣNLL_random."""
    results = list(results)
    randoms = [r.nll_random for r in results]
    if not results or any(x is None for x in randoms):
        return None
    total_random = sum(x for x in randoms if x is not None)
    return 1.0 - sum(r.nll for r in results) / total_random if total_random > 0 else None


def response_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of each response's text inside ``" <<…>>"``."""
    return [(m.start(1), m.end(1)) for m in RESPONSE.finditer(text)]


def score_transcript(scorer: Scorer | LoadedModel, text: str,
                     option_counts: Sequence[int | None] | None = None,
                     options: Sequence[Sequence[str] | None] | None = None) -> ScoreResult:
    """NLL of each marked response in ``text`` under ``scorer`` (a participant that scores,
    or a loaded transformers model), from one teacher-forced pass.

    ``options`` (each response's options, None for free text) gives the option counts and
    says which responses are scored with their ``">>"``; else ``option_counts`` gives counts.
    """
    return score_transcripts(scorer, {"": (text, option_counts, options)})[""]


Transcript = tuple[str, Sequence[int | None] | None, Sequence[Sequence[str] | None] | None]


def score_transcripts(scorer: Scorer | LoadedModel,
                      transcripts: dict[str, Transcript]) -> dict[str, ScoreResult]:
    """:func:`score_transcript` of each (text, option_counts, options), by key. A scorer
    with ``response_logprobs_many`` (the transformers ones) gets them all at once, so that
    what the texts share is computed once."""
    scoring = as_scorer(scorer)
    parts = {key: _spans(*transcript) for key, transcript in transcripts.items()}
    asked = [(transcripts[key][0], scored) for key, (_, _, scored) in parts.items()]
    many = getattr(scoring, "response_logprobs_many", None)
    answers = many(asked) if many is not None else \
        [scoring.response_logprobs(text, spans) for text, spans in asked]
    results = {}
    for (key, (spans, counts, _)), scored in zip(parts.items(), answers, strict=True):
        text = transcripts[key][0]
        results[key] = ScoreResult(
            tuple(ChoiceScore(i, text[s:e], s, scored.tokens[i], -scored.logprobs[i], counts[i])
                  for i, (s, e) in enumerate(spans)), scored.text_tokens)
    return results


def _spans(text: str, option_counts: Sequence[int | None] | None,
           options: Sequence[Sequence[str] | None] | None
           ) -> tuple[list[tuple[int, int]], list[int | None], list[tuple[int, int]]]:
    """The responses' spans, their option counts, and the spans to score (with ``">>"``
    where options begin one another)."""
    spans = response_spans(text)
    if options is not None:
        option_counts = [len(o) if o else None for o in options]
    if option_counts is not None and len(option_counts) != len(spans):
        raise SblError.at(None, f"the transcript has {len(spans)} responses but "
                                f"{len(option_counts)} option counts were given")
    closed = [o is not None and closes_options(o) for o in options or [None] * len(spans)]
    scored = [(s, e + len(CLOSE) if shut else e)
              for (s, e), shut in zip(spans, closed, strict=True)]
    counts: list[int | None] = [None] * len(spans) if option_counts is None \
        else list(option_counts)
    return spans, counts, scored


def as_scorer(model: object) -> Scorer:
    """``model`` as a :class:`~sbl.protocol.Scorer`: a participant that scores is one, a
    loaded transformers model is wrapped; anything else is an error that names it."""
    if isinstance(model, Scorer):
        return model
    if hasattr(model, "tokenizer") and hasattr(model, "model"):
        return _LoadedScorer(model)  # type: ignore[arg-type]
    name = getattr(model, "name", type(model).__name__)
    raise SblError.at(None, f"participant '{name}' cannot score: it gives no "
                            "log-probabilities")


class _LoadedScorer:
    """A loaded transformers model as a scorer (:mod:`sbl.participants.hfscore`)."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded, self.name = loaded, loaded.source

    def response_logprobs(self, text: str, spans: Sequence[tuple[int, int]]
                          ) -> ResponseLogprobs:
        """The log-probs of each span's tokens, from one forward pass."""
        return self.response_logprobs_many([(text, spans)])[0]

    def response_logprobs_many(self, items: Sequence[tuple[str, Sequence[tuple[int, int]]]]
                               ) -> list[ResponseLogprobs]:
        """:meth:`response_logprobs` of each (text, spans); shared first tokens fed once."""
        from sbl.participants.hfscore import response_logprobs_many

        return response_logprobs_many(self.loaded, items)


def token_owners(text: str, offsets: Sequence[tuple[int, int]],
                 spans: Sequence[tuple[int, int]]) -> list[int | None]:
    """For each token, given as its character (start, end) in ``text``, the index of the span
    it starts in, or None; a token that starts before a span and runs into it is an error
    (the response shares a token with the ``" <<"`` before it)."""
    owners: list[int | None] = []
    k = 0
    for start, end in offsets:
        while k < len(spans) and start >= spans[k][1]:
            k += 1
        if k < len(spans) and start < spans[k][0] < end:
            raise SblError.at(None, f"response {k + 1} ({text[slice(*spans[k])]!r}) shares a "
                                    "token with the ' <<' before it in this model's "
                                    "vocabulary, so it cannot be scored on its own",
                              help="Psych-101 responses start with a letter, digit or space")
        # Special tokens have an empty (0, 0) span; a token belongs to the response it starts in.
        inside = end > start and k < len(spans) and spans[k][0] <= start < spans[k][1]
        owners.append(k if inside else None)
    return owners
