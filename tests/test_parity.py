"""Cross-backend parity: for every example, the page in Chromium and the text interpreter, given
the same responses and seed, write the same rows: 0 differing cells over every column but
``rt``, ``time_elapsed`` and ``source``.

Both directions, for every example and several seeds:

- text -> page: a text run's responses (the random participant) replayed through the page in
  jsPsych's data-only simulation (per-trial ``simulation_options.data``), and played for real
  with clicks and key presses on a fake clock;
- page -> text: the answers jsPsych's own simulated participant gave in the page, given to a
  scripted text participant.

Run ``pytest tests/test_parity.py -s`` to see the numbers of rows and cells compared.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl import ir, kinds
from sbl.backends.web import payload
from sbl.data import Rows
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.passes.rows import rt_columns
from tests import parity
from tests.browser import launch, needs_chromium

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.sbl"))
# Seeds chosen so that, with the random participant, the flanker practice loop ends early
# (7) and runs to its maximum (0, 3), its `if` block runs (7) and is skipped (0, 3), and the
# digit span ends by its `until` (0, 7) and by its `max` (3): see test_seeds_take_every_branch.
SEEDS = (0, 3, 7)
PLAY_SEED = 7
# jsPsych's simulated participant answers at random, with an rt inside every response window.
JSPSYCH_ANSWERS = f"() => ({{data: {{rt: {parity.SIM_RT}}}}})"
slow = pytest.mark.slow


def cases(fast: dict[str, tuple[int, ...]], default: tuple[int, ...]) -> list[Any]:
    """(example, seed) for every example and seed; those not in ``fast`` (else ``default``)
    are marked slow, so the default run stays quick and ``-m slow`` runs the rest."""
    return [pytest.param(name, seed, id=f"{name}-{seed}",
                         marks=() if seed in fast.get(name, default) else slow)
            for name in EXAMPLES for seed in SEEDS]


# The fast runs still take every branch of the loops and `if` blocks.
TO_PAGE = cases({"flanker": (0, 7), "digit_span": (3, 7)}, (7,))
TO_TEXT = cases({}, (3,))
PLAYED = [pytest.param(name, id=name, marks=() if name in ("bandit", "flanker") else slow)
          for name in EXAMPLES]


@functools.cache
def experiment(name: str) -> sbl.Experiment:
    """An example, loaded once."""
    return sbl.load(ROOT / "examples" / f"{name}.sbl")


@functools.cache
def text_rows(name: str, seed: int) -> Rows:
    """The text run of an example by the random participant, participant 1 with ``seed``."""
    return experiment(name).run(RandomResponder(0), seed=seed)


@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module."""
    with launch() as b:
        yield b


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example's page, compiled once."""
    folder = tmp_path_factory.mktemp("pages")
    return {name: parity.write_page(experiment(name), folder / name) for name in EXAMPLES}


def assert_parity(browser_rows: Rows, text: Rows, what: str,
                  program: ir.Experiment | None = None) -> parity.Comparison:
    """Compare, print the numbers, and fail with a table of the differing cells. With the
    ``program``, cells it computes from a response time are left to the replay tests."""
    from_rt = rt_columns(program) if program is not None else None
    result = parity.compare_rows(browser_rows, text, from_rt)
    print(f"\n{what}: {result.summary()}")
    assert result.rows > 0 and result.cells >= result.rows * 7  # really compared something
    if result.diffs:
        pytest.fail(f"{what}: {result}", pytrace=False)
    return result


def assert_browser_run(rows: Rows, seed: int, source: str = "browser-simulated") -> None:
    """The rows came from the page, for participant 1 with ``seed``; simulated unless
    ``source`` says otherwise."""
    assert rows.participants == [parity.PARTICIPANT]
    assert rows.seeds == {parity.PARTICIPANT: seed}
    assert {r["source"] for r in rows} == {source}


# ---------------------------------------------------------------- text -> page


@needs_chromium
@pytest.mark.parametrize(("name", "seed"), TO_PAGE)
def test_text_responses_replayed_in_page_simulation_give_the_same_rows(
        browser: Any, pages: dict[str, Path], tmp_path: Path, name: str, seed: int) -> None:
    text = text_rows(name, seed)
    options = parity.simulation_options(text)
    rows = parity.simulate(browser, pages[name], tmp_path, seed, options)
    assert_browser_run(rows, seed)
    assert_parity(rows, text, f"{name} seed {seed}, text -> page simulation",
                  experiment(name).ir)
    # The page took the given answers (and their rt), not answers of its own.
    answered = [r for r in rows if r["response"] is not None]
    assert answered and {r["rt"] for r in answered} == {parity.SIM_RT}


@needs_chromium
@pytest.mark.parametrize("name", PLAYED)
def test_page_played_by_hand_gives_the_rows_of_the_text_run(
        browser: Any, pages: dict[str, Path], tmp_path: Path, name: str) -> None:
    text = text_rows(name, PLAY_SEED)
    rows = parity.play(browser, pages[name], tmp_path, PLAY_SEED, text)
    assert_browser_run(rows, PLAY_SEED, "browser")
    assert_parity(rows, text, f"{name} seed {PLAY_SEED}, text -> page played by hand",
                  experiment(name).ir)


@needs_chromium
def test_every_kinds_example_gives_the_same_rows_in_text_and_page(
        browser: Any, tmp_path: Path) -> None:
    """Each kind's declared example and response (stdlib/kinds/*.toml [example]): recorded by
    a text run, replayed in the page's simulation, and played in the page by hand."""
    experiment, seed = parity.every_kind(), 2
    text = parity.example_rows(experiment, seed)
    assert {r["kind"] for r in text} == set(kinds.all_kinds()) - set(payload.UNSUPPORTED)
    page = parity.write_page(experiment, tmp_path / "page")
    simulated = parity.simulate(browser, page, tmp_path / "sim", seed,
                                parity.simulation_options(text))
    assert_parity(simulated, text, "every kind's example, text -> page simulation")
    played = parity.play(browser, page, tmp_path / "play", seed, text)
    assert_parity(played, text, "every kind's example, text -> page played by hand")


# ---------------------------------------------------------------- page -> text


@needs_chromium
@pytest.mark.parametrize(("name", "seed"), TO_TEXT)
def test_page_simulation_answers_given_to_a_text_run_give_the_same_rows(
        browser: Any, pages: dict[str, Path], tmp_path: Path, name: str, seed: int) -> None:
    rows = parity.simulate(browser, pages[name], tmp_path, seed, JSPSYCH_ANSWERS)
    assert_browser_run(rows, seed)
    assert all(r["response"] is not None for r in rows if parity.asks(r))  # no timeouts
    labels = parity.answer_labels(rows, seed)
    text = experiment(name).run(Scripted(labels), seed=seed)
    assert text.summary.asks == len(labels)  # every answer was asked for
    assert_parity(rows, text, f"{name} seed {seed}, page simulation -> text",
                  experiment(name).ir)
    # the page's own rows, rts included, replayed through the text runtime: every cell
    replayed = experiment(name).run(Scripted([]), prefix=rows, seed=seed)
    assert_parity(rows, replayed, f"{name} seed {seed}, page simulation -> replayed as text")
    assert [r["rt"] for r in replayed] == [r["rt"] for r in rows]


# ---------------------------------------------------------------- corners the examples miss

CORNERS = {
    # In `after`, the trial's response and data fields and the rows' columns hide a shared
    # variable of the same name, even after an assignment to it (the runtime docstring; the
    # checker types them so). The page once let the assignment show through.
    "data_field": """
experiment "A shared variable named like a data field"
shared value = 0
shared score = 0
bandit {
  arms: [{color: "red", value: 1}, {color: "blue", value: 2}]
  after {
    value = 100
    score = score + value
  }
}
""",
    "column": """
experiment "A shared variable named like a column"
shared x = 0
shared y = 0
block b over [{x: 7}, {x: 8}] {
  text {
    text: "{x}"
    duration: 100
    after {
      x = x + 100
      y = x
    }
  }
}
""",
    "response": """
experiment "A shared variable named response"
shared response = none
shared copy = none
text {
  text: "Press F or J"
  choices: ["f", "j"]
  after {
    response = "z"
    copy = response
  }
}
""",
    # Condition columns and custom data fields (docs/data.md): nested blocks over `for` and
    # `cross` tables, with shuffle, sample, repeat and a loop; block fields inherited and
    # replaced; list and record columns; trials outside any table; a debrief over a field
    # only some rows record (the others read it as none).
    "conditions": """
experiment "Conditions and custom data in every row"
shared points = 0
table tasks = for i in 1..2 { task: if i == 1 then "colour" else "word", level: i, tags: [i] }
table levels = cross(level: [10, 20, 30], cue: [{shape: "square"}, {shape: "dot"}])
text start { text: "Press SPACE", choices: [" "] }
block outer over tasks shuffle {
  data { phase: "test", twice: level * 2 }
  block inner over levels shuffle sample 3 {
    data { pair: task + "/" + str(level) }
    text {
      text: "{task} {level} {cue.shape}"
      choices: ["f", "j"]
      correct_key: if level > 15 then "f" else "j"
      data { phase: "own", won: if correct then level else 0, said: response }
      after { points = points + won }
    }
  }
  fixation { duration: 100 }
}
loop again over [{round: 1}] repeat 2 until points > 0 or len(trials) >= 4 max 3 {
  text { text: "Again {round}", choices: ["f", "j"], data { seen: prev.kind } }
}
text debrief {
  text: "{len([t for t in trials if t.trial == 'outer/inner/text' and t.correct])} correct"
  data { fs: len([t for t in trials if t.said == 'f']) }
  duration: 100
}
text times {
  text: "{if prev(2).rt == none then 'no time' else str(prev(2).rt)}"
  duration: 100
  data { slowest: max([0] + [t.rt for t in trials if t.rt != none]), timed: rt == none }
}
""",
    # Columns named like parameters a trial leaves out fill them (the inherit pass): the text
    # takes its colour and duration, the fixation its duration. Text that shows a response
    # time: the page shows it, a text run words its absence (sbl/backends/text/untimed.py),
    # and page rows replay as the page showed them. A parameter the trial writes wins over
    # the column, none included: the last text records no colour and no correct key.
    "filled_and_rt": """
experiment "Columns fill parameters; response times shown"
block b over [{word: "RED", color: "red", duration: 600, correct_key: "f"},
              {word: "GREEN", color: "green", duration: 700, correct_key: "j"}] {
  text { text: word, choices: ["f", "j"] }
  fixation { }
  text { text: "You took {prev(2).rt} ms", color: color, correct_key: none }
  text { text: word, color: none, correct_key: none, choices: ["f", "j"] }
}
""",
    # Keys written in capitals: jsPsych takes the f key for "F" (it ignores case) but
    # recorded "f", so `correct` was false in the page and true in text runs.
    "capital_keys": """
experiment "Keys written in capitals"
text {
  text: "Press F or J"
  choices: ["F", "J"]
  correct_key: "F"
}
html_keyboard {
  stimulus: "<p>Press J or SPACE</p>"
  choices: ["J", " "]
  correct_key: "J"
}
""",
    # Any key answers (jsPsych's ALL_KEYS); a text participant presses SPACE unasked.
    "any_key": """
experiment "Any key"
text { text: "Press any key to start" choices: ["any"] }
html_keyboard { stimulus: "<p>Press any key</p>" choices: ["any"] correct_key: " " }
text { text: "Press F or J" choices: ["f", "j"] }
""",
    # Which pass of a repeated block each trial is in (sbl/repetitions.py): `repeat`, a loop
    # ending by `until` (a pass's rows) and one by `max`, a block entered again because the
    # one around it repeats, a nested block that does not repeat; `trials` and `prev` read
    # the columns.
    "passes": """
experiment "Passes"
table items = [{w: "a"}, {w: "b"}]
text start { text: "F or J" choices: ["f", "j"] }
block session repeat 2 {
  loop practice until mean([if t.correct then 1 else 0 for t in trials]) >= 0.5 max 3 {
    text { text: "Press F" choices: ["f", "j"] correct_key: "f" data { before: prev.pass } }
  }
  loop drill until false max 2 repeat 2 {
    text { text: "Drill" choices: ["f", "j"] }
  }
  block test over items shuffle {
    block inner {
      text { text: w choices: ["f", "j"] correct_key: "j" data { path: prev.pass_path } }
    }
  }
}
text done {
  text: "{len([t for t in trials if t.pass == 2 and t.block == 'session/test/inner'])}"
  duration: 100
}
""",
    # Gaps at three levels, one jittered per trial (a draw both runtimes make), one after a
    # bandit's payout screen: they add no rows and the draws stay in step.
    "gaps": """
experiment "Gaps" { gap: 200 }
block b over [{x: 1}, {x: 2}] {
  gap: randint(100, 300)
  text { text: "{x}: F or J" choices: ["f", "j"] }
  bandit { arms: [{color: "red", value: 1}, {color: "blue", value: 2}] gap: 50 * x }
}
text { text: "Done: F or J?" choices: ["f", "j"] duration: 1000 }
""",
    # Go/no-go with withholding (tests/test_withhold.py): pressing no key is an answer, a
    # page timeout; `correct` with correct_key none is whether no key was pressed; the
    # stimulus goes off after stimulus_duration while the window goes on.
    "withhold": """
experiment "Go/no-go, withholding"
block b over [{go: true}, {go: false}, {go: false}, {go: true}, {go: false}, {go: true}] {
  text {
    text: if go then "GO" else "STOP"
    choices: [" "]
    correct_key: if go then " " else none
    duration: 800
    stimulus_duration: 300
    withhold: true
    data { hit: correct and go }
  }
  html_keyboard { stimulus: "<p>F, J or none</p>" choices: ["f", "j"] duration: 600 withhold: true }
  text { text: "Any key or none" choices: ["any"] duration: 500 withhold: true }
  choice {
    stimulus: "Left, right or none"
    choices: ["left", "right"]
    correct_choice: if go then "left" else none
    duration: 700
    stimulus_duration: 200
    withhold: true
  }
}
""",
}


@pytest.fixture(scope="module")
def corner_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each corner case, compiled once."""
    folder = tmp_path_factory.mktemp("corners")
    return {name: parity.write_page(sbl.loads(text, f"{name}.sbl"), folder / name)
            for name, text in CORNERS.items()}


@needs_chromium
@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corner_cases_agree_in_simulation_and_played_by_hand(
        browser: Any, corner_pages: dict[str, Path], tmp_path: Path, name: str) -> None:
    seed = 1
    text = sbl.loads(CORNERS[name], f"{name}.sbl").run(RandomResponder(0), seed=seed)
    page = corner_pages[name]
    program = sbl.loads(CORNERS[name], f"{name}.sbl")
    simulated = parity.simulate(browser, page, tmp_path / "sim", seed,
                                parity.simulation_options(text))
    assert_parity(simulated, text, f"{name}, text -> page simulation", program.ir)
    played = parity.play(browser, page, tmp_path / "play", seed, text)
    assert_parity(played, text, f"{name}, text -> page played by hand", program.ir)
    for what, rows in (("simulation", simulated), ("played by hand", played)):
        replayed = program.run(Scripted([]), prefix=rows, seed=seed)
        assert_parity(rows, replayed, f"{name}, page {what} -> replayed as text")


@needs_chromium
def test_any_key_takes_whatever_a_person_presses_and_text_replays_it(
        browser: Any, corner_pages: dict[str, Path], tmp_path: Path) -> None:
    """A person who presses Q on an any-key screen: the page records "q", and the text
    runtime replays that row (it checks the response) and shows the key pressed."""
    experiment = sbl.loads(CORNERS["any_key"], "any_key.sbl")
    text = experiment.run(RandomResponder(0), seed=1)
    pressed = [{**row, "response": key} for row, key in zip(text, ["q", "ArrowLeft", "f"],
                                                              strict=True)]
    played = parity.play(browser, corner_pages["any_key"], tmp_path / "play", 1, pressed)
    assert [r["response"] for r in played] == ["q", "ArrowLeft", "f"]
    assert [r["correct"] for r in played] == [None, False, None]
    transcript = experiment.transcript(prefix=played, seed=1)
    assert 'You see "Press any key to start". You press Q.' in transcript
    assert 'You see "Press any key". You press LEFT.' in transcript


# ---------------------------------------------------------------- what the runs cover


def test_examples_cover_the_language() -> None:
    """The examples together use every IR node, block modifier, runnable kind and random
    builtin, so parity over them covers the whole language."""
    programs = [experiment(name).ir for name in EXAMPLES]
    nodes = [n for p in programs for n in ir.walk(p)]
    assert {type(n) for n in nodes} >= set(ir.NODE_CLASSES)
    blocks = [n for n in nodes if isinstance(n, ir.Block)]
    assert any(b.over is not None for b in blocks) and any(b.repeat > 1 for b in blocks)
    assert any(b.order is ir.Order.SHUFFLE for b in blocks)
    assert any(b.sample is not None for b in blocks) and any(b.condition for b in blocks)
    assert any(b.until is not None and b.max_loops is not None for b in blocks)
    assert any(isinstance(i, ir.Block) for b in blocks for i in b.body)  # nested blocks
    used = {s.kind for p in programs for s in ir.stimuli(p.body)}
    assert used == set(kinds.all_kinds()) - set(payload.UNSUPPORTED)
    calls = {n.func for n in nodes if isinstance(n, ir.Call)}
    assert {"choice", "randint", "sample", "random", "cross", "mean", "round", "fixed"} <= calls
    assert any(isinstance(n, ir.Prev) for n in nodes)


def test_seeds_take_every_branch() -> None:
    """Over SEEDS, loops end both by `until` and by `max`, and `if` blocks run and are skipped."""
    def passes(name: str, seed: int, trial: str) -> int:
        return sum(r["trial"] == trial for r in text_rows(name, seed))

    practice = {passes("flanker", s, "practice/score") for s in SEEDS}
    assert 1 in practice and 3 in practice
    assert {passes("flanker", s, "above_chance/text") for s in SEEDS} == {0, 1}
    rounds = {s: passes("digit_span", s, "span/probe") for s in SEEDS}
    errors = {s: text_rows("digit_span", s)[-1]["errors"] for s in SEEDS}
    assert any(errors[s] >= 2 and rounds[s] < 6 for s in SEEDS)  # ended by `until`
    assert any(errors[s] < 2 and rounds[s] == 6 for s in SEEDS)  # ended by `max`
    quiz = {r["stimulus"] for s in SEEDS for r in text_rows("reversal", s) if r["kind"] == "choice"}
    assert len(quiz) == 3  # `sample 2` of three questions: different ones per seed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_answer_labels_reproduce_a_text_run(name: str, seed: int) -> None:
    """The page -> text mapping of responses to answers is exact on text runs themselves."""
    text = text_rows(name, seed)
    again = experiment(name).run(Scripted(parity.answer_labels(text, seed)), seed=seed)
    assert not parity.compare_rows(again, text).diffs


# ---------------------------------------------------------------- the comparison itself


def test_same_is_strict_about_types_but_has_one_number_type() -> None:
    assert parity.same(1, 1.0) and parity.same(None, None) and parity.same("a", "a")
    assert not parity.same(True, 1) and not parity.same(0, False) and not parity.same(None, "")
    assert not parity.same("1", 1) and not parity.same([1, 2], [2, 1])
    assert parity.same({"a": [1, {"b": True}]}, {"a": [1.0, {"b": True}]})
    assert not parity.same({"a": 1, "b": 2}, {"b": 2, "a": 1})  # a CSV cell shows the order


def test_compare_rows_counts_and_shows_every_differing_cell() -> None:
    text = [{"participant": "1", "source": "random", "trial_index": 0, "trial": "t",
             "response": "f", "rt": None, "score": 1},
            {"participant": "1", "source": "random", "trial_index": 1, "trial": "u",
             "response": None, "rt": None}]
    same_rows = [{**r, "source": "browser", "rt": 512, "time_elapsed": 9} for r in text]
    assert parity.compare_rows(same_rows, text).diffs == []
    assert parity.compare_rows(same_rows, text).cells == 9  # rt, source, time_elapsed ignored
    changed = [dict(same_rows[0], score=True), {k: v for k, v in same_rows[1].items()
                                                if k != "response"}]
    result = parity.compare_rows(changed + [{"trial": "extra"}], text)
    assert [(d.row, d.column) for d in result.diffs] == [(0, "score"), (1, "response"),
                                                         (2, "trial")]
    table = str(result)
    assert table.startswith("3 rows, 10 cells compared, 3 differ\nrow  trial  column")
    assert "0    t      score     true" in table and parity.MISSING in table


def test_simulation_options_give_each_trial_its_response() -> None:
    rows: list[dict[str, Any]] = [{"response": 1}, {"response": None},
                                  {"response": {"Q0": "Left"}}]
    assert parity.simulation_options(rows) == [
        {"data": {"response": 1, "rt": parity.SIM_RT}}, {"data": {"response": None, "rt": None}},
        {"data": {"response": {"Q0": "Left"}, "rt": parity.SIM_RT}}]
