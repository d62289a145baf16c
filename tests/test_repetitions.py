"""The core columns ``pass`` and ``pass_path`` (sbl/repetitions.py, docs/data.md "Which
pass"): what the text runtime records, what expressions see, how data files are read and
checked, and replay of rows recorded before the columns existed. The page records the same:
tests/test_parity.py, corner case ``passes``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import sbl
from sbl.data import schema
from sbl.participants.scripted import Scripted
from sbl.source import SblError

PROGRAM = """
experiment "Passes"
table items = [{w: "a"}, {w: "b"}]
text start { text: "F or J" choices: ["f", "j"] }
block session repeat 2 {
  loop practice until all([t.correct for t in trials]) max 3 {
    text { text: "Press F" choices: ["f", "j"] correct_key: "f" data { before: prev.pass } }
  }
  loop drill until false max 2 repeat 2 {
    text { text: "Drill" choices: ["f", "j"] }
  }
  block test over items {
    block inner {
      text { text: w choices: ["f", "j"] }
    }
  }
}
text done {
  text: "{len([t for t in trials if t.pass == 2 and t.block == 'session/test/inner'])}"
  choices: [" "]
}
"""
# Session 1: practice right at once, so its loop ends by `until`; session 2: wrong twice,
# then right, at its `max`. The drill loop runs 2 loop passes of 2 repetitions each time.
ANSWERS = ["F",
           "F", "J", "J", "J", "J", "F", "J",
           "J", "J", "F", "F", "F", "F", "F", "J", "F"]


@pytest.fixture(scope="module")
def experiment() -> sbl.Experiment:
    return sbl.loads(PROGRAM, "passes.sbl")


@pytest.fixture(scope="module")
def rows(experiment: sbl.Experiment) -> sbl.data.Rows:
    return experiment.run(Scripted(ANSWERS), seed=5)


def test_each_row_records_its_pass_and_the_pass_of_each_enclosing_block(rows):
    got = [(r["block"], r["pass"], r["pass_path"]) for r in rows]
    assert got == [
        ("", None, ""),
        ("session/practice", 1, "1/1"),
        *[("session/drill", n, f"1/{n}") for n in (1, 2, 3, 4)],
        *[("session/test/inner", 1, "1/1/1")] * 2,  # one pass of test, inner entered twice
        *[("session/practice", n, f"2/{n}") for n in (1, 2, 3)],
        *[("session/drill", n, f"2/{n}") for n in (1, 2, 3, 4)],
        *[("session/test/inner", 2, "2/1/1")] * 2,
        ("", None, "")]
    assert [r["correct"] for r in rows if r["block"] == "session/practice"] == [
        True, False, False, True]


def test_pandas_gets_whole_numbers(rows):
    frame = rows.to_pandas()
    assert str(frame["pass"].dtype) == "Int64" and frame["pass"].isna().sum() == 2
    curve = frame[frame["block"] == "session/practice"].groupby("pass")["correct"].mean()
    assert curve.to_dict() == {1: 0.5, 2: 0.0, 3: 1.0}


def test_expressions_see_the_columns(rows):
    practice = [r for r in rows if r["block"] == "session/practice"]
    assert [r["before"] for r in practice] == [None, 1, 1, 2]  # prev.pass
    assert rows[-1]["text"] == "2"  # the two test trials of the second session


def test_a_header_counts_passes_over_the_whole_run_rows_count_within_each_entry(
        experiment):
    text = PROGRAM.replace('loop drill until false max 2 repeat 2 {',
                           'loop drill until false max 2 repeat 2 {\n header: "Drill {pass}"')
    program = sbl.loads(text, "headers.sbl")
    rows = program.run(Scripted(ANSWERS), seed=5)
    transcript = rows.transcripts["1"]
    assert [line for line in transcript.splitlines() if line.startswith("Drill ")] == [
        f"Drill {n}" for n in range(1, 9)]
    assert [r["pass"] for r in rows if r["block"] == "session/drill"] == [1, 2, 3, 4] * 2


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_rows_round_trip_and_replay(rows, experiment, tmp_path: Path, suffix: str):
    path = tmp_path / f"rows{suffix}"
    rows.save(path)
    back = sbl.read_data(path)
    assert [(r["pass"], r["pass_path"]) for r in back] == [
        (r["pass"], r["pass_path"]) for r in rows]
    assert back[2]["pass_path"] == "1/1" and back[1]["pass"] == 1  # text, and a number
    replayed = experiment.run(Scripted([]), prefix=back, seed=5)
    assert [r["pass_path"] for r in replayed] == [r["pass_path"] for r in rows]


def test_a_recorded_pass_that_differs_is_a_replay_error(rows, experiment):
    changed = sbl.data.Rows([{**r, "pass": 2} if i == 1 else r for i, r in enumerate(rows)])
    with pytest.raises(SblError, match="'pass' was 2 in the recording but is 1"):
        experiment.run(Scripted([]), prefix=changed, seed=5)


def test_rows_recorded_before_format_4_read_and_replay(rows, experiment, tmp_path: Path):
    old = [{k: v for k, v in r.items() if k not in ("pass", "pass_path")} for r in rows]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    back = sbl.read_data(path)
    assert {(r["pass"], r["pass_path"]) for r in back} == {(None, "")}
    replayed = experiment.run(Scripted([]), prefix=back, seed=5)
    assert [r["pass"] for r in replayed] == [r["pass"] for r in rows]


@pytest.mark.parametrize(("cells", "message"), [
    ({"pass": 0}, "': expected a pass number (a whole number from 1), found 0"),
    ({"pass": 1.5}, "': expected a pass number"),
    ({"pass_path": "1/x"}, "_path': expected a pass number from 1 for each of "
                           "the 2 blocks of the block path, joined by '/', found '1/x'"),
    ({"pass_path": "1"}, "found '1'"),
    ({"pass_path": "0/1"}, "found '0/1'"),
])
def test_bad_pass_cells_are_errors_naming_the_row(rows, tmp_path: Path, cells, message):
    bad = [dict(r) for r in rows]
    bad[1].update(cells)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(SblError, match=r"bad\.json, row 2, column 'pass.*" + re.escape(message)):
        sbl.read_data(path)


def test_pass_is_a_core_column_a_table_may_not_use():
    with pytest.raises(SblError, match="'pass' .*a core column"):
        sbl.loads('experiment "x"\nblock b over [{pass: 1}] { text { text: "x" } }', "core.sbl")


def test_schema_knows_the_columns():
    assert schema.DATA_FORMAT == 4
    assert schema.CORE[3:6] == ("block", "pass", "pass_path")
