"""Cross-backend parity helpers: run an experiment as text and in the compiled page with the
same responses and seed, and compare the two runs' rows cell by cell.

Responses cross between the runtimes in both directions:

- text -> page: each text row's ``response`` becomes the trial's ``simulation_options.data``
  in jsPsych's data-only simulation (:func:`simulation_options`), or is played for real,
  with clicks and key presses on a fake clock (:func:`play`);
- page -> text: each page row's response becomes the answer label a text participant gives
  (:func:`answer_labels`), for :class:`~sbl.participants.scripted.Scripted`.

Every column counts except those no two runs share: ``rt`` (text runs have none, and
simulated or clicked times are arbitrary), jsPsych's ``time_elapsed`` and ``source``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sbl
from sbl import kinds
from sbl.backends import web
from sbl.backends.text import answers
from sbl.data import Rows
from tests.browser import Session, file_url, session

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
IGNORED = frozenset({"rt", "time_elapsed", "source"})
PARTICIPANT = "1"  # the id a text run gives its first participant; the page gets it by URL
SIM_RT = 300  # ms: a simulated response time shorter than any response window in examples
MISSING = "<no such column>"


# ---------------------------------------------------------------- comparing rows


def same(a: Any, b: Any) -> bool:
    """Whether two cells hold the same value: one number type (1 == 1.0), but a bool is no
    number; lists item by item; records field by field and in the same field order (a CSV
    cell writes them in that order)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@dataclass(frozen=True)
class Diff:
    """One differing cell: the row (trial_index), its trial, the column and both values."""

    row: int
    trial: str
    column: str
    browser: Any
    text: Any


@dataclass
class Comparison:
    """The result of comparing a browser run's rows with a text run's rows."""

    rows: int = 0
    cells: int = 0
    diffs: list[Diff] = field(default_factory=list)

    def table(self, limit: int = 40) -> str:
        """The differing cells as a readable table (row, trial, column, browser, text)."""
        head = ("row", "trial", "column", "browser", "text")
        lines = [tuple(_cell(v) for v in (d.row, d.trial, d.column, d.browser, d.text))
                 for d in self.diffs[:limit]]
        widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
        out = ["  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
               for line in (head, *lines)]
        if len(self.diffs) > limit:
            out.append(f"... and {len(self.diffs) - limit} more")
        return "\n".join(out)

    def summary(self) -> str:
        """One line: rows and cells compared, and how many differed."""
        return f"{self.rows} rows, {self.cells} cells compared, {len(self.diffs)} differ"

    def __str__(self) -> str:
        return self.summary() + ("\n" + self.table() if self.diffs else "")


def _cell(value: Any) -> str:
    if value is MISSING:
        return MISSING
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_rows(browser: Sequence[Mapping[str, Any]],
                 text: Sequence[Mapping[str, Any]],
                 from_rt: Mapping[str, frozenset[str]] | None = None) -> Comparison:
    """Compare rows position by position over every column either row has, but IGNORED and,
    by trial, the columns computed from a response time (``from_rt``, from
    :func:`sbl.passes.rows.rt_columns`: a text run has no rt to compute them from; the replay
    tests compare them); a row only one run has differs in each of its cells."""
    result = Comparison(rows=max(len(browser), len(text)))
    for i in range(result.rows):
        b = browser[i] if i < len(browser) else {}
        t = text[i] if i < len(text) else {}
        trial = str(t.get("trial", b.get("trial", "")))
        skip = IGNORED | (from_rt or {}).get(trial, frozenset())
        for column in dict.fromkeys([*b, *t]):
            if column in skip:
                continue
            result.cells += 1
            bv, tv = b.get(column, MISSING), t.get(column, MISSING)
            if bv is MISSING or tv is MISSING or not same(bv, tv):
                result.diffs.append(Diff(i, trial, column, bv, tv))
    return result


# ---------------------------------------------------------------- responses across runtimes


def simulation_options(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per sbl trial, jsPsych simulation_options whose data give the row's response: the
    page replays the text run's answers. A trial without a response gets none (and no rt,
    which the page reads as no answer)."""
    out = []
    for row in rows:
        response = row.get("response")
        rt = None if response is None else SIM_RT
        out.append({"data": {"response": response, "rt": rt}})
    return out


def _questions(row: Mapping[str, Any], order: tuple[str, ...]) -> list[answers.Question]:
    """The answer slots the text runtime makes for the trial of ``row``."""
    kind = kinds.get(str(row["kind"]))
    assert kind is not None, f"row {row['trial_index']}: unknown kind {row['kind']!r}"
    return answers.questions(kind, {p.name: row.get(p.name) for p in kind.params}, order)


def asks(row: Mapping[str, Any]) -> bool:
    """Whether the trial of ``row`` waits for an answer (a key, an option, a survey)."""
    return bool(_questions(row, answers.LETTERS))


def answer_labels(rows: Sequence[Mapping[str, Any]], seed: int) -> list[str]:
    """The answers a text participant with ``seed`` gives to record the responses of
    ``rows``, in the order the text run asks: one per free (not forced) answer slot."""
    order = answers.label_order(seed)
    labels: list[str] = []
    for row in rows:
        kind = kinds.get(str(row["kind"]))
        assert kind is not None
        qs = _questions(row, order)
        values = answers.slot_values(kind, row.get("response"), len(qs))
        labels += [q.label(v) for q, v in zip(qs, values, strict=True) if not q.forced]
    return labels


# ---------------------------------------------------------------- the page


def write_page(experiment: sbl.Experiment, folder: Path) -> Path:
    """The experiment's compiled page, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{web.page_name(experiment.ir)}.html"
    experiment.compile(path)
    return path


def finish(s: Session, page: Path) -> Rows:
    """Wait for the run to end; the saved JSON, read as rows. The page must not fail."""
    state = s.wait_state()
    assert state == "done", f"the page stopped: {s.console[-3:]}"
    name = page.stem + ".json"
    s.wait_downloads(name)
    assert not s.errors, s.errors
    return sbl.read_data(s.downloads[name])


def simulate(browser: Any, page: Path, folder: Path, seed: int,
             options: list[dict[str, Any]] | str | None = None) -> Rows:
    """A data-only simulation of ``page`` as participant 1 with ``seed``. ``options``: a list
    of per-trial simulation_options, or a JS expression for window.sblSimulationOptions."""
    folder.mkdir(parents=True, exist_ok=True)
    hook = None
    if options is not None:
        value = options if isinstance(options, str) else json.dumps(options)
        hook = f"window.sblSimulationOptions = {value};"
    with session(browser, folder, clock=False, init_script=hook) as s:
        s.goto(file_url(page, participant=PARTICIPANT, seed=seed, simulate="data-only"))
        return finish(s, page)


# ---------------------------------------------------------------- playing the page by hand


def _key(response: str) -> str:
    """The key a person presses for a jsPsych key name, as Playwright names it: a letter
    without shift, whatever case the experiment writes it in."""
    return "Space" if response == " " else response.lower() if len(response) == 1 else response


def _wait(s: Session, row: Mapping[str, Any]) -> None:
    """Let the trial's duration pass: it takes no answer."""
    s.run_for(int(row["duration"]))


def _keys(s: Session, row: Mapping[str, Any]) -> None:
    if row["response"] is None:
        _wait(s, row)
    else:
        s.page.keyboard.press(_key(row["response"]))


def _instructions(s: Session, row: Mapping[str, Any]) -> None:
    for _ in row["pages"]:
        s.page.click("#jspsych-instructions-next")


def _buttons(plugin: str) -> Callable[[Session, Mapping[str, Any]], None]:
    """Click the button a row's response names, in the button group of jsPsych ``plugin``."""
    def click(s: Session, row: Mapping[str, Any]) -> None:
        if row["response"] is None:
            _wait(s, row)
        else:
            s.page.locator(f"#jspsych-{plugin}-btngroup button").nth(row["response"]).click()
    return click


_choice = _buttons("html-button-response")


def _bandit(s: Session, row: Mapping[str, Any]) -> None:
    s.page.locator("button.sbl-bandit").nth(row["response"]).click()
    if row["feedback_duration"]:
        s.run_for(int(row["feedback_duration"]))  # the chosen machine's value on its own screen


def _likert(s: Session, row: Mapping[str, Any]) -> None:
    for i, value in enumerate(row["response"].values()):
        s.page.check(f'input[name="Q{i}"][value="{value}"]')
    s.page.click("#jspsych-survey-likert-next")


def _multi_choice(s: Session, row: Mapping[str, Any]) -> None:
    for i, (question, value) in enumerate(zip(row["questions"], row["response"].values(),
                                              strict=True)):
        s.page.check(f"#jspsych-survey-multi-choice-response-{i}-"
                     f"{question['options'].index(value)}")
    s.page.click("#jspsych-survey-multi-choice-next")


def _multi_select(s: Session, row: Mapping[str, Any]) -> None:
    """Check each box the row's response lists (none: the button alone)."""
    for i, (question, values) in enumerate(zip(row["questions"], row["response"].values(),
                                               strict=True)):
        for value in values:
            s.page.check(f"#jspsych-survey-multi-select-response-{i}-"
                         f"{question['options'].index(value)}")
    s.page.click("#jspsych-survey-multi-select-next")


def _same_different(s: Session, row: Mapping[str, Any]) -> None:
    """Wait for the second stimulus (the first's time, then the gap), then press the key:
    the plugin listens for it only then."""
    s.run_for(int(row["first_duration"]) + int(row["gap_duration"]))
    s.page.keyboard.press(_key(row["response"]))


def _serial_reaction_time(s: Session, row: Mapping[str, Any]) -> None:
    """Wait for the target (the grid shows alone first), then press the key."""
    s.run_for(int(row["pre_target_duration"]))
    _keys(s, row)


def _text_survey(s: Session, row: Mapping[str, Any]) -> None:
    for i, value in enumerate(row["response"].values()):
        s.page.fill(f"#input-{i}", value)
    s.page.click("#jspsych-survey-text-next")


def _slider(s: Session, row: Mapping[str, Any]) -> None:
    """Move the slider with the arrow keys, as a person may, one step a press from where it
    starts (``start``, else its middle position); then click the button."""
    if row["response"] is None:
        _wait(s, row)
        return
    values = kinds.positions(row["low"], row["high"], row["step"])
    start = values[(len(values) - 1) // 2] if row["start"] is None else row["start"]
    steps = round((row["response"] - start) / row["step"])
    slider = s.page.locator("#jspsych-html-slider-response-response")
    for _ in range(abs(steps)):
        slider.press("ArrowRight" if steps > 0 else "ArrowLeft")
    s.page.click("#jspsych-html-slider-response-next")


def _categorize(s: Session, row: Mapping[str, Any]) -> None:
    """Press the key (or let the time run out), then let the feedback's time pass: the
    feedback is part of the trial."""
    _keys(s, row)
    s.run_for(int(row["feedback_duration"]))


PLAYERS: dict[str, Callable[[Session, Mapping[str, Any]], None]] = {
    "instructions": _instructions, "text": _keys, "html_keyboard": _keys, "fixation": _wait,
    "blank": _wait, "feedback": _wait, "choice": _choice, "bandit": _bandit,
    "likert": _likert, "multi_choice": _multi_choice,
    "multi_select": _multi_select, "same_different": _same_different,
    "serial_reaction_time": _serial_reaction_time, "text_survey": _text_survey,
    "slider": _slider, "categorize_html": _categorize, "categorize_image": _categorize,
    "audio_keyboard": _keys, "audio_button": _buttons("audio-button-response"),
    "video_keyboard": _keys, "video_button": _buttons("video-button-response"),
    "image_keyboard": _keys, "image_button": _buttons("image-button-response"),
}


def start_gesture(s: Session) -> bool:
    """Click Start on the page's "click to start" screen, if it shows one (it does before a
    sound or video when the participant has neither clicked nor pressed a key yet); whether
    it did."""
    if s.page.locator("#sbl-gesture").count() == 0:
        return False
    s.page.locator("#jspsych-html-button-response-btngroup button").click()
    return True


def _trials_done(s: Session) -> int:
    return int(s.page.evaluate("window.sblRun && window.sblRun.st ? sblRun.st.rows.length : -1"))


def play(browser: Any, page: Path, folder: Path, seed: int,
         rows: Sequence[Mapping[str, Any]]) -> Rows:
    """Play ``page`` as participant 1 with ``seed`` like a person: for each row (of a text
    run), the click or key press that gives its response, or the wait its duration asks for,
    on Playwright's fake clock. Each trial must end after its action, and be the row's."""
    folder.mkdir(parents=True, exist_ok=True)
    with session(browser, folder) as s:
        s.goto(file_url(page, participant=PARTICIPANT, seed=seed))
        for i, row in enumerate(rows):
            done = _trials_done(s)
            assert done == i, f"before row {i} ({row['trial']}) the page has {done} trials done"
            start_gesture(s)
            PLAYERS[str(row["kind"])](s, row)
            s.page.wait_for_function(f"sblRun.st.rows.length > {i}", timeout=5_000)
            got = s.page.evaluate(f"sblRun.st.rows[{i}].trial")
            assert got == row["trial"], f"row {i}: the page ran {got!r}, not {row['trial']!r}"
            if row.get("gap"):
                s.run_for(int(row["gap"]))  # the blank page after the trial (post_trial_gap)
        return finish(s, page)


# ---------------------------------------------------------------- every kind, by its example


def every_kind_source() -> str:
    """The source of an experiment with one trial of each declared kind: the example of its
    declaration (``[example]`` in ``stdlib/kinds/<kind>.toml``), in name order."""
    trials = [f"  {name} {kind.example.stimulus}" for name, kind in kinds.all_kinds().items()
              if kind.example is not None]
    return 'experiment "Every kind"\n\nblock every {\n' + "\n".join(trials) + "\n}\n"


def every_kind() -> sbl.Experiment:
    """The experiment of :func:`every_kind_source`, beside the examples: the media files of
    the kinds' examples are in examples/media/."""
    return sbl.loads(every_kind_source(), str(EXAMPLES / "every_kind.sbl"))


def declared_response(row: Mapping[str, Any]) -> Any:
    """The response the example of the row's kind declares."""
    kind = kinds.get(str(row["kind"]))
    assert kind is not None and kind.example is not None
    return kind.example.response


def example_rows(experiment: sbl.Experiment, seed: int) -> Rows:
    """A text run of ``experiment`` in which every trial records the response its kind's
    example declares: a first run finds the parameters, whose answer labels a scripted
    participant then gives."""
    from sbl.participants.random import RandomResponder
    from sbl.participants.scripted import Scripted

    probe = experiment.run(RandomResponder(0), seed=seed)
    wanted = [dict(row, response=declared_response(row)) for row in probe]
    return experiment.run(Scripted(answer_labels(wanted, seed)), seed=seed)
