"""`sbl pilot`: jsPsych's simulated people play the real page in Chromium; their data replays
cleanly through the text runtime (every parameter and shared value recomputed and equal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_av import AV

import sbl
from sbl import kinds
from sbl.backends.web import payload
from sbl.cli import main

from browser import needs_chromium
from conftest import EXAMPLES
from parity import asks, compare_rows, every_kind_source


@needs_chromium
def test_pilot_every_example_and_replay_it(tmp_path: Path) -> None:
    for path in EXAMPLES:
        out = tmp_path / f"{path.stem}.json"
        result = CliRunner().invoke(main, ["pilot", str(path), "-n", "2", "--seed", "4",
                                           "-o", str(out)])
        assert result.exit_code == 0, result.output
        rows = sbl.read_data(out)
        assert rows.participants == ["1", "2"]
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
def test_pilot_plays_sound_and_video_in_visual_mode() -> None:
    """`--mode visual` plays the files in real time; its simulated clicks are no gestures, so
    the pilot's Chromium allows sound without them (tests/test_av.py: people click Start)."""
    from sbl.pilot import pilot

    experiment = sbl.loads(AV, str(EXAMPLES[0].parent / "av.sbl"))  # beside examples/media
    rows = sbl.data.rows_from_records(pilot(experiment, 1, seed=2, mode="visual"))
    assert [r["kind"] for r in rows] == ["audio_keyboard", "audio_button", "video_keyboard",
                                         "video_button", "audio_keyboard"]
    assert rows[0]["response"] is None and rows[2]["response"] is None  # ended with the file
    replayed = experiment.run(sbl.participants.Scripted([]), prefix=rows)
    assert not compare_rows(rows, replayed).diffs


@needs_chromium
@pytest.mark.parametrize("mode", ["data-only", pytest.param("visual", marks=pytest.mark.slow)])
def test_pilot_completes_a_page_with_every_kind(tmp_path: Path, mode: str) -> None:
    """One page with a trial of every declared kind (each kind's [example], so a new kind
    joins by being declared): `sbl pilot` plays it to the end, every trial that asks for an
    answer answered, and the text runtime replays the data cell for cell. Visual mode runs in
    real time (about 30 s): the sound and video kinds' own visual test above is quick."""
    source = tmp_path / "every_kind.sbl"
    source.write_text(every_kind_source(), encoding="utf-8")
    (tmp_path / "media").symlink_to(EXAMPLES[0].parent / "media")  # the examples' media files
    out = tmp_path / "every.json"
    n = 2 if mode == "data-only" else 1
    result = CliRunner().invoke(main, ["pilot", str(source), "-n", str(n), "--seed", "5",
                                       "--mode", mode, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = sbl.read_data(out)
    runnable = set(kinds.all_kinds()) - set(payload.UNSUPPORTED)
    assert len(rows.participants) == n
    for participant in rows.participants:
        mine = [r for r in rows if r["participant"] == participant]
        assert [r["kind"] for r in mine] == sorted(runnable)
        if mode == "data-only":  # visual mode lets sound and video trials end with the file
            assert all(r["response"] is not None for r in mine if asks(r))
    replayed = sbl.load(source).run(sbl.participants.Scripted([]), prefix=rows)
    assert not compare_rows(rows, replayed).diffs


GROUPED = """experiment "Groups from the link" { instructions: "Press F." }
group g in [{n: 1}, {n: 2}, {n: 3}] by url "cond"
text { text: "Group {g.n}", choices: ["f"], duration: 10 / (g.n - 2) }
"""


@needs_chromium
def test_pilot_gives_a_url_group_its_parameter_and_reports_a_stopped_page(tmp_path: Path
                                                                          ) -> None:
    """Simulated person k is in group k, as in text runs; a page that stops (group 2 divides
    by zero) is reported with the page's own message, without waiting for the timeout."""
    import time

    from sbl.pilot import pilot

    experiment = sbl.loads(GROUPED.replace(" / (g.n - 2)", ""), str(tmp_path / "g.sbl"))
    rows = sbl.data.rows_from_records(pilot(experiment, 3, seed=1))
    assert [(r["participant"], r["group"]) for r in rows if r["kind"] == "text"] == [
        ("1", 1), ("2", 2), ("3", 3)]
    began = time.monotonic()
    with pytest.raises(sbl.SblError,
                       match=r"the page failed while piloting: .*g\.sbl:3:\d+: division by zero"):
        pilot(sbl.loads(GROUPED, str(tmp_path / "g.sbl")), 2, seed=1, timeout_s=60)
    assert time.monotonic() - began < 30
