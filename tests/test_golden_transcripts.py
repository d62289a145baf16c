"""Golden transcripts: what a model reads for every example, byte for byte.

``<name>.txt`` is ``sbl compile examples/<name>.sbl --emit transcript`` (answers open);
``<name>.random.txt`` is a run by the random participant with seed 0, every answer filled
in. Refresh with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sbl
from sbl import backends
from sbl.backends.text import run_experiment
from sbl.participants.random import RandomResponder

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.sbl"))
GOLDEN = ROOT / "tests" / "golden" / "transcripts"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_open_transcript(path, golden):
    text = backends.get("transcript").emit(sbl.load(path).ir)
    golden(GOLDEN / f"{path.stem}.txt", text)
    assert "<<" not in text.replace(" <<?>>", "")  # markers only around answers


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_random_participant_transcript(path, golden):
    rows = run_experiment(sbl.load(path).ir, RandomResponder(0))
    golden(GOLDEN / f"{path.stem}.random.txt", rows.transcripts["1"] + "\n")
