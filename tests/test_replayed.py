"""One replay of recorded rows into text, with one seed rule: ``sbl score``, ``sbl export
--psych101`` and ``run``/``simulate --from`` read the same text from the same rows."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import sbl
from sbl.backends.text import run_experiment
from sbl.backends.text.driver import seed_for
from sbl.data import Rows
from sbl.export import psych101_records
from sbl.participants.random import RandomResponder
from sbl.protocol import ResponseLogprobs

from conftest import ROOT


class Recorder:
    """A scorer that keeps every text it is asked to score (each response gets -1 nat)."""

    name = "recorder"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def response_logprobs(self, text: str, spans: Sequence[tuple[int, int]]
                          ) -> ResponseLogprobs:
        self.texts.append(text)
        return ResponseLogprobs((1,) * len(spans), (-1.0,) * len(spans), len(text))


@pytest.fixture(scope="module")
def bandit():
    return sbl.load(ROOT / "examples" / "bandit.sbl")


def recorded(bandit, participants: int, seed: int) -> Rows:
    return run_experiment(bandit.ir, RandomResponder(3), participants=participants, seed=seed)


def without_seed(rows: Rows, rename: dict[str, str] | None = None, keep: int | None = None
                 ) -> Rows:
    """The rows with no seed column, participants renamed, each cut after ``keep`` rows."""
    out, seen = [], {}
    for row in rows:
        p = str(row["participant"])
        seen[p] = seen.get(p, 0) + 1
        if keep is None or seen[p] <= keep:
            out.append({k: (rename or {}).get(v, v) if k == "participant" else v
                        for k, v in row.items() if k != "seed"})
    return Rows(out)


def three_ways(bandit, rows: Rows, seed: int) -> tuple[list[str], list[str], list[str]]:
    """The text of each participant as export, score and ``run --from`` read it."""
    exported = [r["text"] for r in psych101_records(rows, bandit, seed=seed)]
    scorer = Recorder()
    sbl.score(rows, scorer, bandit, seed=seed)
    continued = run_experiment(bandit.ir, RandomResponder(0), prefix=rows, seed=seed)
    return exported, scorer.texts, list(continued.transcripts.values())


def test_without_a_seed_column_participant_k_had_seed_plus_k_minus_1(bandit):
    original = recorded(bandit, 3, seed=7)
    rows = without_seed(original)
    assert rows.seeds == {}
    exported, scored, continued = three_ways(bandit, rows, seed=7)
    assert exported == scored == continued == list(original.transcripts.values())
    assert [seed_for(p, {}, 7) for p in ("1", "2", "3")] == [7, 8, 9]


def test_non_numeric_participant_ids_take_the_run_seed(bandit):
    original = recorded(bandit, 1, seed=11)
    rows = without_seed(original, rename={"1": "p-ada"})
    exported, scored, continued = three_ways(bandit, rows, seed=11)
    assert exported == scored == continued == list(original.transcripts.values())
    other, _, _ = three_ways(bandit, rows, seed=12)  # the seed matters: option letters differ
    assert other != exported


def test_a_recording_that_stops_mid_experiment(bandit):
    full = recorded(bandit, 2, seed=4)
    rows = without_seed(full, keep=5)
    exported, scored, continued = three_ways(bandit, rows, seed=4)
    assert exported == scored
    for cut, whole, run in zip(exported, full.transcripts.values(), continued, strict=True):
        assert whole.startswith(cut + "\n") and run.startswith(cut + "\n")
        assert 0 < cut.count(" <<") < whole.count(" <<")
    assert sbl.score(rows, Recorder(), bandit, seed=4).choices == \
        sum(text.count(" <<") for text in exported)
