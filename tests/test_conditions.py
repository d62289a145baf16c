"""Conditions and custom data in every row (docs/data.md, "Conditions" and "Custom data
fields"), in the text runtime; tests/test_parity.py holds the page to the same rows."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

import sbl
from sbl import ir
from sbl.data import read_data, schema
from sbl.data.write import RowWriter
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.source import SblError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
STROOP = ROOT / "examples" / "stroop.sbl"

NESTED = """
experiment "Nested tables"
shared total = 0
text hello { text: "Hi", choices: [" "] }
block outer over [{task: "colour", level: 1}, {task: "word", level: 2}] {
  data { phase: "test" }
  block inner over cross(level: [10, 20], cue: [{shape: "square"}], tags: [["a", "b"]]) {
    data { pair: task + "/" + str(level) }
    text {
      text: "{task} {level}"
      choices: ["f", "j"]
      data {
        phase: "own"
        fast: rt != none and rt < 300
        doubled: level * 2
        said: response
      }
      after { total = total + doubled }
    }
  }
  fixation { duration: 100 }
}
block sibling over [{level: 3}] {
  fixation { duration: 100, data { seen: prev(2).said } }
}
"""


def rows_of(text: str, answers: list[str]) -> list[dict]:
    return list(sbl.loads(text, "nested.sbl").run(Scripted(answers), seed=1))


def test_every_trial_records_its_tables_columns_inner_first() -> None:
    rows = rows_of(NESTED, ["f", "j", "f", "j"])
    hello, first = rows[0], rows[1]
    # outside any table: no condition columns, no custom data fields
    assert not {"task", "level", "cue", "tags", "phase", "pair"} & set(hello)
    # the inner table's `level` wins over the outer one's, as in expressions
    assert (first["task"], first["level"], first["cue"], first["tags"]) == (
        "colour", 10, {"shape": "square"}, ["a", "b"])
    fixation = rows[3]
    assert fixation["kind"] == "fixation" and fixation["level"] == 1  # the outer row's level
    assert "cue" not in fixation and fixation["phase"] == "test"
    assert rows[-1]["level"] == 3 and "task" not in rows[-1]


def test_row_order_core_data_params_custom_conditions_shared() -> None:
    first = rows_of(NESTED, ["f", "j", "f", "j"])[1]
    names = list(first)
    assert names[:len(schema.CORE)] == list(schema.CORE)
    assert names.index("correct") < names.index("text") < names.index("phase")
    assert names[names.index("phase"):] == ["phase", "pair", "fast", "doubled", "said",
                                            "level", "cue", "tags", "task", "total"]


def test_a_column_fills_a_parameter_the_trial_leaves_out() -> None:
    """As if the trial said `color: color`: the row's cell is both the condition and what
    the trial showed; `sbl check` warns where the trial does not say so itself."""
    experiment = sbl.load(ROOT / "tests" / "warnings" / "column_fills_param.sbl")
    rows = experiment.run(Scripted(["f", "j", "j", "f"]), seed=1)
    assert [r["color"] for r in rows if r["kind"] == "text"] == ["red", "red", "green", "green"]
    assert [w.span.line for w in experiment.warnings if "gives this text" in w.message] == [6]
    text = """
experiment "x"
block b over [{text: "RED", duration: 700}, {text: "GREEN", duration: 800}] {
  text { choices: ["f"] }
  fixation { }
}
"""
    rows = sbl.loads(text, "x.sbl").run(Scripted([]), seed=1)  # even a required one
    assert [(r["text"], r["duration"]) for r in rows if r["kind"] == "text"] == [
        ("RED", 700), ("GREEN", 800)]
    assert [r["duration"] for r in rows if r["kind"] == "fixation"] == [700, 800]


def test_a_parameter_the_trial_writes_wins_over_the_column() -> None:
    """What the author writes is what the trial shows and records, none included (an RSVP
    stream item without a correct key in a block whose rows have one); the column is not in
    that trial's row, and only the filled trial is warned about."""
    text = """
experiment "x" { instructions: "Press F or J." }
block b over [{word: "red", correct_key: "f"}, {word: "green", correct_key: "j"}] {
  text item { text: word, correct_key: none, choices: ["f", "j"] }
  text shout { text: upper(word), correct_key: correct_key, choices: ["f", "j"] }
  text answer { text: "?", choices: ["f", "j"] }
}
"""
    experiment = sbl.loads(text, "x.sbl")
    rows = experiment.run(Scripted(["f"] * 6), seed=1)
    assert [(r["text"], r["correct_key"], r["correct"]) for r in rows[1:]] == [
        ("red", None, None), ("RED", "f", True), ("?", "f", True),
        ("green", None, None), ("GREEN", "j", False), ("?", "j", False)]
    [warning] = [w for w in experiment.warnings if "column" in w.message]
    assert warning.span is not None and warning.span.line == 6
    assert "'correct_key: none' leaves it unset" in (warning.help or "")


def test_custom_data_fields_see_parameters_response_and_earlier_fields() -> None:
    rows = rows_of(NESTED, ["f", "j", "f", "j"])
    texts = [r for r in rows if r["trial"] == "outer/inner/text"]
    assert [r["said"] for r in texts] == ["f", "j", "f", "j"]
    assert [r["pair"] for r in texts] == ["colour/10", "colour/20", "word/10", "word/20"]
    assert all(r["phase"] == "own" for r in texts)  # the stimulus's field replaces the block's
    assert all(r["fast"] is False for r in texts)  # text runs have no rt
    # `after` sees the custom fields; the row records the shared value after it
    assert [r["total"] for r in texts] == [20, 60, 80, 120]
    assert rows[-1]["seen"] == "j"  # prev.<custom field> of the row before


def test_list_and_record_columns_are_json_cells(tmp_path: Path) -> None:
    experiment = sbl.loads(NESTED, "nested.sbl")
    out = tmp_path / "rows.csv"
    experiment.run(Scripted(["f", "j", "f", "j"]), seed=1, output=out)
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert table[1]["cue"] == '{"shape":"square"}' and table[1]["tags"] == '["a","b"]'
    assert table[0]["task"] == "" and table[0]["phase"] == ""  # outside any table: empty
    back = read_data(out)
    assert back[1]["cue"] == {"shape": "square"} and back[1]["tags"] == ["a", "b"]


def test_columns_for_lists_custom_fields_and_conditions() -> None:
    experiment = sbl.loads(NESTED, "nested.sbl")
    columns = schema.columns_for(experiment.ir)
    assert columns[columns.index("phase"):] == ("phase", "pair", "fast", "doubled", "said",
                                                "seen", "task", "level", "cue", "tags", "total")


def test_columns_named_like_a_shared_variable_or_a_jspsych_field_are_not_recorded() -> None:
    text = """
experiment "x"
shared x = 0
block b over [{x: 7, y: 1, stimulus: "s"}] {
  text { text: "{x}", duration: 100, after { x = x + 100 } }
}
"""
    experiment = sbl.loads(text, "x.sbl")
    # nor one named like a field jsPsych adds to the page's rows
    assert experiment.ir.body[0].columns == ("y",)  # type: ignore[union-attr]
    row = experiment.run(RandomResponder(0), seed=1)[0]
    # the shared variable after the trial (in `after`, the column hid it: 7 + 100)
    assert (row["x"], row["y"]) == (107, 1)


def test_fmt_keeps_data_sections() -> None:
    from sbl.fmt import format_source

    once = format_source(NESTED, "nested.sbl")
    assert "  data {\n    phase: \"test\"\n  }" in once
    assert format_source(once, "nested.sbl") == once
    assert sbl.loads(once, "nested.sbl").ir == sbl.loads(NESTED, "nested.sbl").ir


@pytest.mark.parametrize("name", ["data", "after"])
def test_data_is_a_keyword_only_where_a_section_can_start(name: str) -> None:
    text = f"""
experiment "x"
let {name}s = 1
let y = {name}s + 1
text {{ text: "{{y}}", duration: 100 }}
"""
    assert sbl.loads(text, "x.sbl").run(RandomResponder(0))[0]["text"] == "2"


# ---------------------------------------------------------------- data of format 1


def format_1(rows: list[dict], experiment: ir.Experiment) -> list[dict]:
    """Rows as the release before condition columns and custom data fields wrote them."""
    drop = {c for b in ir.walk(experiment.body) if isinstance(b, ir.Block) for c in b.columns}
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


@pytest.mark.parametrize("name", ["stroop_people.json", "stroop_model.csv"])
def test_rows_of_format_1_read_and_replay(name: str) -> None:
    """The committed Stroop data (tests/data/build.py, recorded before format 2) replays
    without a mismatch; the replayed rows gain the condition columns."""
    experiment = sbl.load(STROOP)
    data = read_data(DATA / name)
    assert "word" not in data.columns
    skip = {"source", "seed"}  # the model's CSV has no seed column
    skip |= {"pass", "pass_path"}  # format 4: empty in the recording, recomputed on replay
    assert {(r["pass"], r["pass_path"]) for r in data} == {(None, "")}
    for participant, recorded in data.by_participant().items():
        again = experiment.run(Scripted([]), prefix=recorded,
                               seed=data.seeds.get(participant, 0))
        texts = [r for r in again if r["kind"] == "text" and r["trial"] == "test/text"]
        assert texts and all(r["text"] == r["word"] for r in texts)
        assert {r["pass"] for r in again if r["block"]} == {1}
        for old, new in zip(recorded, again, strict=True):
            assert {k: v for k, v in new.items() if k in old and k not in skip} == {
                k: v for k, v in old.items() if k in new and k not in skip}


def test_a_wrong_seed_in_format_1_data_is_still_caught(tmp_path: Path) -> None:
    experiment = sbl.load(STROOP)
    rows = list(experiment.run(RandomResponder(0), seed=7))
    path = tmp_path / "old.csv"
    with RowWriter(path, schema.union_columns(format_1(rows, experiment.ir))) as writer:
        for row in format_1(rows, experiment.ir):
            writer.write(row)
    data = read_data(path)
    data.seeds.clear()  # as if the seed had not been recorded: seed 0 orders words differently
    with pytest.raises(SblError, match="the parameter 'text' was"):
        experiment.run(Scripted([]), prefix=data, seed=0)


def test_the_versions_are_the_ones_written_and_documented() -> None:
    """The IR JSON carries the current IR version and reads back; docs/data.md names the
    current row format, so a bump cannot go undocumented."""
    text = ir.to_json(sbl.load(STROOP).ir)
    assert f'"sbl-ir": {ir.IR_VERSION}' in text
    assert ir.from_json(text) == sbl.load(STROOP).ir
    docs = (ROOT / "docs" / "data.md").read_text("utf-8")
    assert f"`sbl.data.schema.DATA_FORMAT`, now {schema.DATA_FORMAT})" in docs


class _Halves:
    """A scorer (sbl.protocol.Scorer) giving every response token probability 1/2."""

    name = "halves"

    def response_logprobs(self, text, spans):  # type: ignore[no-untyped-def]
        from sbl.protocol import ResponseLogprobs

        return ResponseLogprobs(tuple(1 for _ in spans), tuple(math.log(0.5) for _ in spans),
                                len(text.split()))


@pytest.mark.parametrize("name", ["stroop_people.json", "stroop_model.csv"])
def test_rows_of_format_1_score(name: str) -> None:
    from sbl.scoring import score_rows

    data = read_data(DATA / name)
    scores = score_rows(sbl.load(STROOP), data, _Halves())
    assert scores.choices == data.n_responses > 0
    assert scores.nll == pytest.approx(-math.log(0.5) * data.n_responses)


# ---------------------------------------------------------------- debriefs


DEBRIEF = """
experiment "Debrief"
block test over [{word: "RED", congruent: true}, {word: "GREEN", congruent: false}] {
  text { text: word, choices: ["f", "j"], correct_key: "f" }
}
text done {
  text: "{len([t for t in trials if t.kind == 'text' and t.correct])} of {len(trials)}"
  duration: 100
}
text times {
  text: "{if prev(2).rt == none then 'not measured' else str(prev(2).rt) + ' ms'}"
  duration: 100
}
"""


def test_a_row_reads_a_column_it_did_not_record_as_none() -> None:
    """jsPsych's `data.get().filter({task: 'response'})`: rows of other kinds (the
    instructions) lack the field and read it as none, as their empty cells in the data file;
    `in` still tells whether a row recorded it, and a record that is no row still has only
    its fields."""
    text = """
experiment "x" { instructions: "Press F." }
text first { text: "go", choices: ["f"], data { task: "response" } }
text debrief {
  text: "{len([t for t in trials if t.task == 'response'])} {[t.task for t in trials]}"
  data { recorded: ["task" in t for t in trials], theirs: prev.task }
}
"""
    rows = sbl.loads(text, "x.sbl").run(Scripted(["f"]), seed=1)
    debrief = rows[-1]
    assert debrief["text"] == '1 [none, "response"]'
    assert (debrief["recorded"], debrief["theirs"]) == ([False, True], "response")
    with pytest.raises(SblError, match="record has no field 'task'"):
        sbl.loads(text.replace("for t in trials]}", "for t in [{a: 1}]]}"), "x.sbl").run(
            Scripted(["f"]), seed=1)


def test_trials_are_the_rows_so_far() -> None:
    rows = sbl.loads(DEBRIEF, "d.sbl").run(Scripted(["f", "j"]), seed=1)
    assert rows[2]["text"] == "1 of 2"
    assert rows[3]["text"] == "not measured"  # text runs have no rt: the wording given


def test_a_declared_trials_hides_the_rows() -> None:
    text = 'experiment "x"\nlet trials = 5\ntext { text: "{trials}", duration: 100 }\n'
    assert sbl.loads(text, "x.sbl").run(RandomResponder(0))[0]["text"] == "5"


def test_check_warns_where_text_shows_an_rt_without_a_guard(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sbl.cli import main

    path = tmp_path / "rt.sbl"
    path.write_text(DEBRIEF + 'text { text: "You took {prev.rt} ms", duration: 100 }\n'
                    'text { text: "{mean([t.rt for t in trials if t.rt != none])}" }\n')
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines()
                if ": warning: " in line and "response time" in line]
    assert [w.split(":")[1:3] for w in warnings] == [["14", "25"], ["15", "22"]]
    assert "a text participant has none" in warnings[0]
    assert result.stderr.endswith(" warnings\n")  # and one about instructions
    clean = CliRunner().invoke(main, ["check", str(ROOT / "examples" / "task_switch.sbl")])
    assert clean.exit_code == 0 and "warning" not in clean.stderr
