"""`sbl pilot`: jsPsych's simulated people play the real page in Chromium; their data replays
cleanly through the text runtime (every parameter and shared value recomputed and equal)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import sbl
from sbl import kinds
from sbl.backends.web import payload
from sbl.cli import main
from tests import parity

from browser import needs_chromium
from conftest import EXAMPLES


@needs_chromium
def test_pilot_every_example_and_replay_it(tmp_path: Path) -> None:
    for path in EXAMPLES:
        out = tmp_path / f"{path.stem}.json"
        result = CliRunner().invoke(main, ["pilot", str(path), "-n", "2", "--seed", "4",
                                           "-o", str(out)])
        assert result.exit_code == 0, result.output
        rows = sbl.read_data(out)
        assert rows.participants == ["pilot-1", "pilot-2"]
        assert {r["source"] for r in rows} == {"browser-simulated"}
        # the text runtime recomputes each trial from the same seed and checks every cell
        replayed = sbl.load(path).run(sbl.participants.Scripted([]), prefix=rows)
        assert len(replayed) == len(rows), path


@needs_chromium
def test_pilot_writes_the_pages_own_download(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    bandit = next(p for p in EXAMPLES if p.stem == "bandit")
    assert CliRunner().invoke(main, ["pilot", str(bandit), "-o", str(out)]).exit_code == 0
    records = json.loads(out.read_text())
    assert {"trial_type", "time_elapsed", "sbl_trial_index"} <= set(records[1])
    assert sum(r.get("kind") == "bandit" for r in records) == 11


@needs_chromium
def test_pilot_completes_a_page_with_every_kind(tmp_path: Path) -> None:
    """One page with a trial of every declared kind (each kind's [example], so a new kind
    joins by being declared): `sbl pilot` plays it to the end, every trial answered as the
    kind answers, and the text runtime replays the data cell for cell."""
    source = tmp_path / "every_kind.sbl"
    source.write_text(parity.every_kind_source(), encoding="utf-8")
    (tmp_path / "media").symlink_to(parity.EXAMPLES / "media")  # the examples' media files
    out = tmp_path / "every.json"
    result = CliRunner().invoke(main, ["pilot", str(source), "-n", "2", "--seed", "5",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = sbl.read_data(out)
    runnable = set(kinds.all_kinds()) - set(payload.UNSUPPORTED)
    for participant in rows.participants:
        mine = [r for r in rows if r["participant"] == participant]
        assert [r["kind"] for r in mine] == sorted(runnable)
        assert all(r["response"] is not None for r in mine if parity.asks(r))
    replayed = sbl.load(source).run(sbl.participants.Scripted([]), prefix=rows)
    assert len(replayed) == len(rows) == 2 * len(runnable)
