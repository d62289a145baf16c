"""``sbl score``: how well a model predicts people's recorded choices (the Centaur paper's
measure). Each participant's rows are replayed through the text backend to rebuild the exact
transcript a model would have read, then scored in one teacher-forced pass
(:func:`sbl.likelihood.score_transcript`, through the participant protocol's
:class:`~sbl.protocol.Scorer`): the negative log-likelihood of the response tokens, per
choice and per participant, and pseudo-R² against choosing at random (ln k per choice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.data import Rows
    from sbl.experiment import Experiment
    from sbl.likelihood import ScoreResult
    from sbl.participants.models import LoadedModel
    from sbl.protocol import Responder, Scorer


# The columns of `sbl score -o`, one row per scored response (docs/data.md).
COLUMNS = ("participant", "choice", "response", "tokens", "nll", "options", "nll_random")


@dataclass(frozen=True)
class Scores:
    """Per-participant results, and the totals the paper reports."""

    model: str
    participants: dict[str, ScoreResult]

    @property
    def choices(self) -> int:
        """How many responses were scored."""
        return sum(len(r.choices) for r in self.participants.values())

    @property
    def nll(self) -> float:
        """Total negative log-likelihood (nats) of every scored response."""
        return sum(r.nll for r in self.participants.values())

    @property
    def pseudo_r2(self) -> float | None:
        """1 − NLL / NLL of random choice, over all participants (None if k is unknown)."""
        from sbl.likelihood import pseudo_r2

        return pseudo_r2(self.participants.values())

    def table(self) -> list[dict[str, Any]]:
        """One record per scored response: participant, its index, text, tokens, NLL, k."""
        return [dict(zip(COLUMNS, (p, c.index, c.response, c.tokens, c.nll, c.options,
                                   c.nll_random), strict=True))
                for p, result in self.participants.items() for c in result.choices]

    def write_csv(self, path: str | Path) -> None:
        """Write :meth:`table` to ``path`` as CSV (an unknown number of options is empty)."""
        import csv

        with Path(path).open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.table())


def score_rows(experiment: Experiment, rows: Rows, scorer: Scorer | LoadedModel, *,
               seed: int = 0) -> Scores:
    """Score every participant of ``rows``, each replayed into the text they read
    (:func:`sbl.backends.text.driver.replay_rows`, whose seed rule ``seed`` feeds), under
    ``scorer``."""
    from sbl.backends.text.driver import replay_rows
    from sbl.backends.text.program import program
    from sbl.likelihood import as_scorer, score_transcripts

    scoring = as_scorer(scorer)
    replayed = replay_rows(program(experiment.ir), rows, seed=seed)
    return Scores(scoring.name, score_transcripts(scoring, {
        p: (r.transcript, None, r.response_options) for p, r in replayed.items()}))


def score_texts(texts: dict[str, str], scorer: Scorer | LoadedModel) -> Scores:
    """Score each participant's text (responses marked ``<<like this>>``)."""
    from sbl.likelihood import as_scorer, score_transcripts

    scoring = as_scorer(scorer)
    return Scores(scoring.name, score_transcripts(
        scoring, {p: (text, None, None) for p, text in texts.items()}))


def psych101_texts(path: str | Path) -> dict[str, str]:
    """Each participant's text in a Psych-101 jsonl file, read and checked whole (so a bad
    line is found before a model loads); a line that is not a record with a text is an
    SblError naming the line."""
    from sbl.data.schema import loads

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SblError.at(None, f"cannot read data file '{path}': "
                                f"{getattr(exc, 'strerror', None) or 'it is not UTF-8 text'}"
                          ) from None
    texts = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
            if not isinstance(record["text"], str):
                raise TypeError
            texts[str(record.get("participant", number))] = record["text"]
        except (ValueError, KeyError, TypeError):
            raise SblError.at(None, f"{path}:{number}: not a Psych-101 record (a JSON object "
                                    "with a 'text')") from None
    return texts


def is_psych101(path: str | Path) -> bool:
    """Whether ``path`` is Psych-101 jsonl (records with a ``text``), not sbl's rows."""
    path = Path(path)
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "text" in record and "trial" not in record


def score(data: str | Path | Rows, model: str | Scorer | Responder | LoadedModel,
          experiment: Experiment | str | Path | None = None, *, seed: int = 0,
          timeout: float = 60.0, threads: int | None = None) -> Scores:
    """Score recorded data under a model (a participant spec as ``sbl score --model`` takes,
    a participant that scores, or a loaded model): rows (with their experiment) or
    Psych-101 jsonl. A participant that gives no log-probabilities is an SblError. ``seed``
    is the run's seed for participants whose data recorded none (as ``export_psych101``);
    ``timeout`` bounds each request to a server (``openai:URL#MODEL``); ``threads`` is
    torch's CPU threads for a local model (default: see :mod:`sbl.participants.threads`)."""
    from sbl.data import Rows, read_data
    from sbl.experiment import Experiment, load
    from sbl.likelihood import as_scorer
    from sbl.participants import Options, make

    def scorer() -> Scorer:  # loaded only once every input has been checked (it is slow)
        return as_scorer(make(model, Options(timeout=timeout, threads=threads), scores=True)
                         if isinstance(model, str) else model)

    if not isinstance(data, Rows) and is_psych101(data):
        return score_texts(psych101_texts(data), scorer())
    if experiment is None:
        raise SblError.at(None, "scoring recorded rows needs their experiment",
                          help="give it with --experiment FILE.sbl")
    exp = experiment if isinstance(experiment, Experiment) else load(experiment)
    rows = data if isinstance(data, Rows) else read_data(data)
    return score_rows(exp, rows, scorer(), seed=seed)
