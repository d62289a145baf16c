"""What kinds declare about their parameters' values (sbl/passes/ranges.py, known.py): ranges
(`min`, `max`) and items among another parameter's list (`among`), checked wherever a value is
known before the run; what both runtimes do with a value computed outside them; and the CSV
rule that a column is numbers only when every cell is (docs/language.md, "Values known before
the run"). The error texts themselves are goldens in tests/errors/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl import kinds
from sbl.backends import web
from sbl.source import SblError
from tests.browser import file_url, launch, needs_chromium, session

TIMES = ("duration", "feedback_duration", "gap")


def errors(source: str, path: str = "t.sbl") -> list[str]:
    """The messages `sbl check` gives for ``source`` ([] when it checks clean)."""
    try:
        sbl.loads(source, path)
    except SblError as exc:
        return [d.message for d in exc.diagnostics]
    return []


def test_every_time_is_at_least_0_and_every_correct_answer_among_the_choices() -> None:
    """Declared once per parameter, for every kind: a new kind's durations are checked too."""
    for kind in kinds.all_kinds().values():
        for p in kind.params:
            if p.name in TIMES:
                assert p.min == 0, (kind.name, p.name)
            if p.name in ("correct_key", "correct_choice"):
                assert p.among == "choices", (kind.name, p.name)
    assert kinds.settings()[[p.name for p in kinds.settings()].index("gap")].min == 0
    assert kinds.get("bandit").param("forced").among == "arms"  # type: ignore[union-attr]


@pytest.mark.parametrize(("raw", "said"), [
    ({"type": "str", "min": 0}, "not a number"),
    ({"type": "number", "max": "ten"}, "must be numbers"),
])
def test_a_range_is_declared_on_numbers(raw: dict[str, Any], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        kinds._param("x", raw)


def test_among_names_a_parameter_of_the_kind() -> None:
    raw = {"plugin": "html-keyboard-response", "answer": {"type": "key", "from": "keys"},
           "compare": "none", "params": {"keys": {"type": "list[str]"},
                                         "right": {"type": "str", "among": "choices"}}}
    with pytest.raises(ValueError, match="'choices', which is not a parameter"):
        kinds._kind("k", raw)


@pytest.mark.parametrize("source", [
    'let d = 100 - 300\nfixation { duration: d }',
    'table t = for i in 0..2 { d: 100 * i - 150 }\nblock b over t { fixation { duration: d } }',
    'table t = [{d: 5}, {d: -5}]\nblock b over sample(t, 1) { blank { duration: d } }',
    'block b { gap: 0 - 1\n text { text: "x", duration: 5 } }',
])
def test_known_values_below_0_are_errors(source: str) -> None:
    found = errors('experiment "x" { instructions: "x" }\n' + source)
    assert len(found) == 1 and "cannot be below 0" in found[0], found


@pytest.mark.parametrize("source", [
    'shared d = -5\nfixation { duration: d }',                 # changes as the run goes
    'fixation { duration: randint(-10, 10) }',                 # a draw
    'text { text: "x", choices: ["f"] }\nfixation { duration: prev.rt }',
    'group g in [{d: -1}, {d: 1}] by participant\nfixation { duration: g.d }',
])
def test_values_known_only_as_the_run_goes_are_the_runtimes(source: str) -> None:
    assert errors('experiment "x" { instructions: "x" }\n' + source) == []


@pytest.mark.parametrize(("trial", "bad"), [
    ('text { text: "x", choices: ["f", "j"], correct_key: "f" }', False),
    ('text { text: "x", choices: ["F", "J"], correct_key: "F" }', False),
    ('text { text: "x", choices: ["f", "j"], correct_key: none }', False),
    ('text { text: "x", choices: ["any"], correct_key: "q" }', False),
    ('categorize_html { stimulus: "x", choices: ["f", "j"], correct_key: "F" }', False),
    ('text { text: "x", choices: ["f", "j"], correct_key: "F" }', True),
    ('html_keyboard { stimulus: "x", choices: ["ArrowLeft"], correct_key: "arrowleft" }', True),
    ('choice { stimulus: "x", choices: ["Yes", "No"], correct_choice: "yes" }', True),
    ('bandit { arms: [{color: "red", value: 1}], forced: -1 }', True),
    ('bandit { arms: [{color: "red", value: 1}], forced: 0 }', False),
])
def test_a_correct_answer_is_one_of_the_choices(trial: str, bad: bool) -> None:
    found = errors('experiment "x" { instructions: "x" }\n' + trial)
    assert bool(found) == bad, found


def test_a_column_of_many_wrong_values_is_one_error_at_its_first() -> None:
    found = errors('experiment "x" { instructions: "x" }\n'
                   'table t = for i in 0..9 { d: 100 * i - 450 }\n'
                   'block b over t { fixation { duration: d } }')
    assert found == ["'duration' of the trial at t.sbl:3 cannot be below 0; it is -450, in "
                     "this cell of column 'd' of table 't' (and 4 other values of the column)"]


def test_choices_that_differ_by_row_are_checked_row_by_row() -> None:
    table = 'table t = [{keys: ["f", "j"], right: "f"}, {keys: ["a", "l"], right: "l"}]\n'
    head = 'experiment "x" { instructions: "x" }\n' + table
    assert errors(head + 'block b over t { text { text: "x", choices: keys, '
                         'correct_key: right } }\n') == []
    assert errors(head + 'block b over t { text { text: "x", choices: [keys[1]], '
                         'correct_key: right } }\n') == [
        "'correct_key' of the trial at t.sbl:3 is \"f\", which is not one of the choices "
        "(\"j\") on its row, in this cell of column 'right' of table 't'"]
    # rows known only as the run goes (a group's) are the runtimes'
    assert errors('experiment "x" { instructions: "x" }\ngroup g in [{k: "f"}, {k: "j"}] '
                  'by participant\nblock b over [{a: "f"}] { text { text: "x", '
                  'choices: [a], correct_key: g.k } }\n') == []


def test_a_word_in_a_csv_column_of_numbers_is_an_error_at_its_cell(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("word,wait\nRED,500\nGREEN,5OO\n", encoding="utf-8")
    (tmp_path / "t.sbl").write_text('experiment "x" { instructions: "x" }\n'
                                    'table t from "t.csv"\n'
                                    'block b over t { text { text: word, duration: wait } }\n',
                                    encoding="utf-8")
    with pytest.raises(SblError) as caught:
        sbl.load(tmp_path / "t.sbl")
    (d,) = caught.value.diagnostics
    assert d.span is not None and (Path(d.span.path).name, d.span.line, d.span.col) == (
        "t.csv", 3, 7)
    # shown as text, the same column is fine, and every cell is a string as written
    (tmp_path / "t.sbl").write_text('experiment "x" { instructions: "x" }\n'
                                    'table t from "t.csv"\n'
                                    'block b over t { text { text: "{word} {wait}" } }\n',
                                    encoding="utf-8")
    rows = sbl.load(tmp_path / "t.sbl").run("random")
    assert [r["wait"] for r in rows if r["kind"] == "text"] == ["500", "5OO"]


# ------------------------------------------------------- values computed outside, in both runtimes

COMPUTED = ('experiment "Computed" { instructions: "x" }\nshared d = -5\nshared arm = 3\n'
            'text { text: "waits no time", duration: d }\n'
            'bandit { arms: [{color: "red", value: 1}, {color: "blue", value: 2}], '
            'forced: arm, duration: 10 }\n')
STOPPED = "'forced' is 3, but the trial has 2 options (0 to 1)"


def test_text_runs_record_a_computed_value_and_stop_at_a_missing_arm() -> None:
    exp = sbl.loads(COMPUTED, "computed.sbl")
    with pytest.raises(SblError, match=STOPPED.replace("(", r"\(").replace(")", r"\)")):
        exp.run("random")


@needs_chromium
def test_the_page_does_the_same(tmp_path: Path) -> None:
    """The page's trial with a duration below 0 ends at once (jsPsych's setTimeout) and
    records it as computed; the missing arm stops the run with the text runtime's words."""
    page = tmp_path / "computed.html"
    web.write_page(sbl.loads(COMPUTED, "computed.sbl").ir, page)
    with launch() as browser, session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, simulate="data-only"))
        assert s.wait_state() == "stopped"
        assert STOPPED in s.page.inner_text("body")
        s.wait_downloads("computed.json")
        rows = [r for r in s.json_download("computed.json") if "trial" in r]
    assert [(r["kind"], r["duration"]) for r in rows if r["kind"] != "instructions"] == [
        ("text", -5)]
