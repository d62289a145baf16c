"""``sbl compare``: numbers checked by hand on fixed data (tests/data/, made by
tests/data/build.py), golden terminal summaries, the HTML report in a real browser, the
analysis registry and the command line."""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl import ir, kinds
from sbl.backends.text import run_experiment
from sbl.commands.compare import compare as compare_command
from sbl.comparison import compare, registry, stats
from sbl.comparison.registry import Section
from sbl.data import Rows, read_data, rows_from_records
from sbl.participants.random import RandomResponder
from sbl.source import SblError

from browser import file_url, launch, needs_chromium, session
from conftest import ROOT

DATA = ROOT / "tests" / "data"
GOLDEN = ROOT / "tests" / "golden" / "compare"
BANDIT = [DATA / "bandit_people.json", DATA / "bandit_model.csv"]
STROOP = [DATA / "stroop_people.json", DATA / "stroop_model.csv"]


@pytest.fixture(scope="module")
def bandit():
    return compare(BANDIT, labels=["people", "smollm2"])


@pytest.fixture(scope="module")
def stroop():
    return compare(STROOP, labels=["people", "smollm2"])


def by_participant(comparison, frame: str, participant: str) -> dict:
    table = comparison[frame]
    return table[table["participant"] == participant].iloc[0].to_dict()


def summary_of(comparison, frame: str, dataset: str, **keys) -> dict:
    table = comparison[frame]
    mask = table["dataset"] == dataset
    for k, v in keys.items():
        mask &= table[k] == v
    rows = table[mask]
    assert len(rows) == 1, rows
    return rows.iloc[0].to_dict()


# ---------------------------------------------------------------- numbers by hand


def test_six_choices_by_hand() -> None:
    # Arms 0 0 1 1 1 0 paying 10 9 2 3 4 5; a win pays more than 5: W W L L L L.
    choices = [0, 0, 1, 1, 1, 0]
    wins = [v > 5 for v in [10, 9, 2, 3, 4, 5]]
    # After W: stay (0->0), switch (0->1): win-stay 1/2.
    # After L: stay (1->1), stay (1->1), switch (1->0): lose-shift 1/3.
    assert stats.win_stay_lose_shift(choices, wins) == (1 / 2, 1 / 3)
    assert stats.switch_rate(choices) == 2 / 5
    assert stats.cumulative([10, 9, None, 3]) == [10, 19, 19, 22]


def test_missing_choices_break_pairs() -> None:
    # A timeout (None) makes no pair with its neighbours.
    assert stats.switches([0, None, 1, 1]) == [False]
    assert stats.win_stay_lose_shift([0, None, 0], [True, None, True]) == (None, None)
    assert stats.switch_rate([1]) is None


def test_mean_se_by_hand() -> None:
    n, mean, se = stats.mean_se([85, 73, 65, None])
    assert n == 3 and mean == pytest.approx(74.3333, abs=1e-4)
    # SD = sqrt(((10.667)^2 + (1.333)^2 + (9.333)^2) / 2) = 10.066; SE = SD / sqrt(3)
    assert se == pytest.approx(5.8119, abs=1e-4)
    assert math.isnan(stats.mean_se([4])[2]) and stats.mean_se([])[0] == 0


def test_bandit_participant_by_hand(bandit) -> None:
    # p1 takes orange (10, 9, 8, 7, 6) then blue (5, 6, ..., 10): 85 points. Wins (> 5)
    # everywhere but the 5; one switch, after the win of 6; the 5 is followed by a stay.
    p1 = by_participant(bandit, "bandit.participants", "p1")
    assert p1["total points"] == 85 and p1["choices"] == 11
    assert p1["switch rate"] == pytest.approx(1 / 10)
    assert p1["win-stay"] == pytest.approx(8 / 9) and p1["lose-shift"] == 0
    assert p1["best-arm rate"] == 1  # the 5-5 trial does not count
    # Model participant 1 always takes blue (0..10): losses on 0..5 all stay, wins stay.
    m1 = by_participant(bandit, "bandit.participants", "1")
    assert (m1["total points"], m1["lose-shift"], m1["win-stay"]) == (55, 0, 1)
    assert m1["best-arm rate"] == pytest.approx(5 / 10)


def test_bandit_score_is_the_tutorials_comparison(bandit) -> None:
    score = bandit.score.set_index("dataset")
    # people: 85, 73 and 65 points; the model's four: 55, 60, 55 and 52.
    assert score.loc["people", "mean"] == pytest.approx((85 + 73 + 65) / 3)
    assert score.loc["people", "se"] == pytest.approx(5.8119, abs=1e-4)
    assert score.loc["smollm2", "mean"] == pytest.approx(55.5)
    assert list(score["n"]) == [3, 4]
    assert bandit.summary().splitlines()[0] == (
        "Score (total points per participant): people 74.3 ± 5.8 (n=3), smollm2 55.5 ± 0.5 "
        "(n=4)")


def test_bandit_choice_curve(bandit) -> None:
    # Trial 1: p1 and p2 take orange, P-07 blue.
    first = summary_of(bandit, "bandit.choice", "people", trial=1, arm="arm 1 (orange)")
    assert (first["n"], first["mean"]) == (3, pytest.approx(2 / 3))
    last = summary_of(bandit, "bandit.cumulative", "people", trial=11)
    assert last["mean"] == pytest.approx((85 + 73 + 65) / 3)


def test_win_threshold_can_be_set() -> None:
    low = compare(BANDIT[:1], win_above=-1)  # every choice wins
    p1 = by_participant(low, "bandit.participants", "p1")
    assert p1["lose-shift"] is None or math.isnan(p1["lose-shift"])
    assert p1["win-stay"] == pytest.approx(9 / 10)
    assert "more than -1 points (set with --win-above)" in low.summary()


def test_stroop_accuracy_and_rt_by_condition(stroop) -> None:
    # s1 misses RED in green, s3 GREEN in red, s2 nothing: 3/4, 4/4, 3/4.
    score = stroop.score.set_index("dataset")
    assert score.loc["people", "mean"] == pytest.approx(10 / 12)
    red_green = summary_of(stroop, "keyboard.accuracy", "people",
                           condition="text=RED, color=green")
    assert (red_green["n"], red_green["mean"]) == (3, pytest.approx(2 / 3))
    # Model participant 2 reads the word: wrong on both incongruent words.
    trials = stroop["keyboard.trials"]
    two = trials[(trials["dataset"] == "smollm2") & (trials["participant"] == "2")]
    assert sorted(two[~two["correct"]]["condition"]) == ["text=GREEN, color=red",
                                                         "text=RED, color=green"]
    rt = stroop["keyboard.rt"]
    assert set(rt["dataset"]) == {"people"}  # text runs record no rt
    # Each person answered GREEN in green correctly once: its rt, from the raw data.
    raw = [r["rt"] for r in read_data(STROOP[0])
           if r["kind"] == "text" and (r["text"], r["color"]) == ("GREEN", "green")]
    green = summary_of(stroop, "keyboard.rt", "people", condition="text=GREEN, color=green")
    assert len(raw) == 3 and green["mean"] == pytest.approx(sum(raw) / 3)
    assert "No response times for smollm2" in stroop.summary()


def _learning_rows(participant: str, correct: list[list[bool]]) -> list[dict]:
    """Rows of a `learn` block run one pass per list, plus a `test` trial run once."""
    rows: list[dict] = []
    for n, answers in enumerate(correct, start=1):
        rows += [{"participant": participant, "block": "learn", "pass": n, "pass_path": str(n),
                  "trial": "learn/text", "kind": "text", "response": "f", "correct": c,
                  "choices": ["f", "j"]} for c in answers]
    rows.append({"participant": participant, "block": "test", "pass": 1, "pass_path": "1",
                 "trial": "test/text", "kind": "text", "response": "f", "correct": True,
                 "choices": ["f", "j"]})
    return [{**r, "trial_index": i} for i, r in enumerate(rows)]


def test_accuracy_by_pass_is_a_learning_curve_per_dataset() -> None:
    people = rows_from_records(_learning_rows("1", [[False, False], [True, False], [True, True]])
                               + _learning_rows("2", [[True, False], [True, True]]))
    model = rows_from_records(_learning_rows("1", [[True, True], [True, True]]))
    result = compare([people, model], labels=["people", "model"])
    curve = result["keyboard.by_pass"]
    assert set(curve["block"]) == {"learn"}  # `test` ran one pass: no curve
    got = [(r["dataset"], r["pass"], r["n"], r["mean"]) for _, r in curve.iterrows()]
    assert got == [("people", 1, 2, pytest.approx(0.25)), ("model", 1, 1, 1.0),
                   ("people", 2, 2, pytest.approx(0.75)), ("model", 2, 1, 1.0),
                   ("people", 3, 1, 1.0)]
    assert "Accuracy by pass of a repeated block" in result.summary()
    assert "by_pass" in [p.name for s in result.sections for p in s.plots]


def test_data_without_passes_has_no_learning_curve(stroop) -> None:
    # recorded before data format 4: no pass column
    assert not len(stroop["keyboard.by_pass"])
    assert "by pass" not in stroop.summary()


def test_conditions_by_named_columns() -> None:
    by_ink = compare(STROOP, by=["color"])
    assert set(by_ink["keyboard.accuracy"]["condition"]) == {"color=red", "color=green"}


def test_conditions_skip_parameters_that_repeat_others() -> None:
    # The flanker's HTML stimulus and its description split the trials the same way: the
    # condition names the readable one only. (Rows without condition columns, as data of
    # format 1 have: with them, the design table's columns are the condition.)
    exp = sbl.load(ROOT / "examples" / "flanker.sbl")
    rows = run_experiment(exp.ir, RandomResponder(1), participants=2)
    design = {c for b in ir.walk(exp.ir.body) if isinstance(b, ir.Block) for c in b.columns}
    old = [{k: v for k, v in r.items() if k not in design} for r in rows]
    conditions = set(compare([rows_from_records(old)])["keyboard.accuracy"]["condition"])
    assert len(conditions) == 8 and 'test/arrows, description="← ← → ← ←"' in conditions
    assert not any("stimulus=" in c for c in conditions)
    by_design = set(compare([rows])["keyboard.accuracy"]["condition"])
    assert "test/arrows, direction=left, congruent=false" in by_design and len(by_design) == 8


def test_bandit_data_has_no_keyboard_section(bandit) -> None:
    # The score screens are text trials without a correct key: nothing to score.
    assert [s.name for s in bandit.sections] == ["bandit"]


def test_survey_ratings() -> None:
    exp = sbl.load(ROOT / "examples" / "survey.sbl")
    rows = run_experiment(exp.ir, RandomResponder(4), participants=3, seed=2)
    result = compare([rows])
    ratings = result["survey.ratings"]
    expected = [r["response"]["Q0"] + 1 for r in rows if r["kind"] == "likert"]
    assert ratings.iloc[0]["mean"] == pytest.approx(sum(expected) / 3)
    options = result["survey.options"]
    assert options.groupby("dataset")["mean"].sum().iloc[0] == pytest.approx(1.0)
    # the checklist: each option's share of participants who checked it
    checked = result["survey.checked"]
    ticks = [r["response"]["Q0"] for r in rows if r["kind"] == "multi_select"]
    assert len(ticks) == 3 and len(checked) == 4
    for option in ("Sport", "Music", "Reading", "Games"):
        row = checked[checked["item"].str.endswith(f": {option}")].iloc[0]
        assert row["mean"] == pytest.approx(sum(option in t for t in ticks) / 3)


def test_slider_values() -> None:
    exp = sbl.load(ROOT / "examples" / "category_learning.sbl")
    rows = run_experiment(exp.ir, RandomResponder(4), participants=3, seed=2)
    sliders = compare([rows])["survey.sliders"]
    # one rating after each pass of the block: told apart by their order
    assert list(sliders["item"]) == ["learn/confidence #1 (0-100)", "learn/confidence #2 (0-100)"]
    each = [[r["response"] for r in rows if r["kind"] == "slider" and r["participant"] == p]
            for p in rows.participants]
    for k in (0, 1):  # the mean over participants of their k-th rating
        assert sliders.iloc[k]["mean"] == pytest.approx(sum(v[k] for v in each) / 3)


RATINGS = """
experiment "Ratings" { instructions: "Rate each word." }
table words = [{word: "dog", kind_of: "animal"}, {word: "saw", kind_of: "tool"},
               {word: "cat", kind_of: "animal"}]
block rate over words shuffle {
  slider { stimulus: "How pleasant is '{word}'?", low: 1, high: 7, step: 1 }
}
"""


def test_slider_values_by_condition() -> None:
    """A slider in a block over a table: one item per condition (its columns that vary),
    each the mean over participants of their rating, from the rows."""
    rows = run_experiment(sbl.loads(RATINGS, "ratings.sbl").ir, RandomResponder(3),
                          participants=4)
    sliders = compare([rows])["survey.sliders"].set_index("item")
    assert list(sliders.index) == ["word=cat, kind_of=animal (1-7)",
                                   "word=dog, kind_of=animal (1-7)",
                                   "word=saw, kind_of=tool (1-7)"]
    for word in ("cat", "dog", "saw"):
        values = [r["response"] for r in rows if r["kind"] == "slider" and r["word"] == word]
        line = sliders.loc[[i for i in sliders.index if f"word={word}" in i][0]]
        assert line["n"] == 4 and line["mean"] == pytest.approx(sum(values) / 4)
    by_kind = compare([rows], by=["kind_of"])["survey.sliders"]
    assert list(by_kind["item"]) == ["kind_of=animal (1-7)", "kind_of=tool (1-7)"]
    # two animals per participant, in shuffled order: averaged, not numbered
    animal = [[r["response"] for r in rows if r["kind"] == "slider" and r["participant"] == p
               and r["kind_of"] == "animal"] for p in rows.participants]
    assert by_kind.iloc[0]["mean"] == pytest.approx(sum(sum(v) / 2 for v in animal) / 4)


# ---------------------------------------------------------------- golden summaries


@pytest.mark.parametrize("name, files", [("bandit", BANDIT), ("stroop", STROOP)])
def test_golden_summary(golden, name: str, files: list[Path]) -> None:
    golden(GOLDEN / f"{name}.txt", compare(files, labels=["people", "smollm2"]).summary())


# ---------------------------------------------------------------- several datasets, registry


def test_any_number_of_datasets_and_unique_labels(tmp_path: Path) -> None:
    other = tmp_path / "bandit_model.csv"
    other.write_bytes(BANDIT[1].read_bytes())
    result = compare([*BANDIT, other])
    assert result.labels == ["bandit_people", "bandit_model", "bandit_model (2)"]
    header = [line for line in result.summary().splitlines() if "┃ measure" in line][0]
    assert "bandit_model (2) (n=4)" in header


def test_labels_must_match_files() -> None:
    with pytest.raises(SblError, match="1 labels for 2 data files"):
        compare(BANDIT, labels=["people"])


def test_rows_objects_compare_too() -> None:
    rows = read_data(BANDIT[0])
    assert compare([rows]).labels == ["bandit_people"]


def test_bandit_without_recorded_arms() -> None:
    # Data that lacks the arms column still has choices and points: the arms are numbered.
    rows = Rows([{k: v for k, v in r.items() if k != "arms"} for r in read_data(BANDIT[1])])
    result = compare([rows])
    assert set(result["bandit.choice"]["arm"]) == {"arm 1", "arm 2"}
    assert result.score.iloc[0]["mean"] == pytest.approx(55.5)


def test_a_new_kinds_analysis_is_one_registered_function() -> None:
    @registry.analysis("fixation")
    def fixations(datasets, options):
        frame = stats.summarise(stats.long_measures(
            __import__("pandas").DataFrame(
                [{"dataset": d.label, "participant": p, "count": len(part)}
                 for d in datasets for p, part in d.rows.by_participant().items()]),
            ["count"]), ["measure"])
        return Section("fixations", "Fixations", {"count": frame})
    try:
        result = compare(STROOP)
        assert [s.name for s in result.sections] == ["keyboard", "fixations"]
        assert set(result["fixations.count"]["mean"]) == {4.0}  # four words, four crosses
        assert [s.name for s in compare(BANDIT).sections] == ["bandit"]  # no fixations there
    finally:
        registry.ANALYSES.pop("fixations")


def test_every_answered_kind_names_its_analysis_or_none() -> None:
    analyses = registry.registered()
    for kind in kinds.all_kinds().values():
        if kind.answer.type is kinds.AnswerType.NONE:
            assert kind.compare is None, kind.name
        elif kind.compare != "none":
            assert kind.compare in analyses, f"{kind.name}: no analysis {kind.compare!r}"
            assert kind.name in analyses[kind.compare].kinds
    assert {k for a in analyses.values() for k in a.kinds} == {
        k.name for k in kinds.all_kinds().values() if k.compare not in (None, "none")}


# ---------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def report(tmp_path_factory, bandit):
    folder = tmp_path_factory.mktemp("report")
    bandit.write(folder)
    return folder


def test_report_is_self_contained(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    pngs = sorted(report.glob("*.png"))
    assert [p.name for p in pngs] == ["bandit-choices.png", "bandit-cumulative.png",
                                      "bandit-score.png", "bandit-switching.png"]
    assert sorted(base64.b64decode(u) for u in uris) == sorted(p.read_bytes() for p in pngs)
    assert "Score (total points per participant): people 74.3 ± 5.8 (n=3)" in html
    assert "win-stay" in html and "0.80 ± 0.07" in html


def test_report_is_deterministic(report: Path, bandit, tmp_path: Path) -> None:
    bandit.write(tmp_path)
    assert (tmp_path / "index.html").read_bytes() == (report / "index.html").read_bytes()


def test_report_escapes_labels(tmp_path: Path) -> None:
    result = compare(BANDIT, labels=["<b>people</b>", "model & co"])
    result.sections.clear()  # only the labels matter here: no plots to draw
    html = result.write(tmp_path).read_text(encoding="utf-8")
    assert "&lt;b&gt;people&lt;/b&gt;" in html and "<b>people" not in html


@needs_chromium
def test_report_in_chromium(report: Path, tmp_path: Path) -> None:
    with launch() as browser, session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(report / "index.html"))
        loaded = s.page.evaluate(
            "[...document.images].map(i => i.complete && i.naturalWidth > 0)")
        s.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        headline = s.page.inner_text("p.headline")
    assert loaded == [True] * 4
    assert s.errors == [] and [c for c in s.console if c.startswith("error")] == []
    assert all(u.startswith(("file:", "data:")) for u in s.requests)
    assert headline.startswith("Score (total points per participant)")
    assert (tmp_path / "report.png").stat().st_size > 50_000


# ---------------------------------------------------------------- the command line


def invoke(*args: str):
    return CliRunner().invoke(compare_command, [str(a) for a in args])


def test_cli_prints_the_score_first_and_writes_the_report(tmp_path: Path) -> None:
    result = invoke(*BANDIT, "-l", "people", "-l", "smollm2", "-o", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(
        "Score (total points per participant): people 74.3 ± 5.8 (n=3), smollm2 55.5")
    assert "lose-shift" in result.stdout
    assert (tmp_path / "report" / "index.html").is_file()
    assert "4 plots" in result.stderr


def test_cli_errors() -> None:
    mismatch = invoke(*BANDIT, "-l", "people")
    assert mismatch.exit_code == 2 and "1 --label for 2 data files" in mismatch.output
    missing = invoke(DATA / "nope.json")
    assert missing.exit_code == 1 and "cannot read data file" in missing.stderr
    assert "Traceback" not in missing.output


UNSEEN = """
experiment "Prime and probe" { instructions: "Press F for a living thing and J otherwise." }
table design = cross(prime: ["animal", "tool"], probe: ["dog", "saw"], soa: [100, 400])
block test over design shuffle repeat 2 {
  fixation { duration: 200 }
  text { text: "{prime} ... {probe}", choices: ["f", "j"]
         correct_key: if probe == "dog" then "f" else "j" }
}
"""


def test_conditions_are_the_columns_the_rows_carry() -> None:
    """An experiment the analysis has never seen: its three design columns are the condition
    (not its parameters), with numbers as computed by hand from the rows; --by overrides."""
    exp = sbl.loads(UNSEEN, "unseen.sbl")
    rows = run_experiment(exp.ir, RandomResponder(5), participants=3)
    accuracy = compare([rows])["keyboard.accuracy"]
    assert len(accuracy) == 8 and all(
        re.fullmatch(r"prime=(animal|tool), probe=(dog|saw), soa=(100|400)", c)
        for c in accuracy["condition"])
    texts = [r for r in rows if r["kind"] == "text"]
    for _, line in accuracy.iterrows():
        prime, probe, soa = (part.split("=")[1] for part in line["condition"].split(", "))
        means = []
        for p in rows.participants:
            mine = [r["correct"] for r in texts if r["participant"] == p and r["prime"] == prime
                    and r["probe"] == probe and r["soa"] == float(soa)]
            means.append(sum(mine) / len(mine))
        assert line["mean"] == pytest.approx(sum(means) / len(means))
    by_soa = compare([rows], by=["soa"])["keyboard.accuracy"]
    assert list(by_soa["condition"]) == ["soa=100", "soa=400"]


def test_cli_by_overrides_the_columns_found(tmp_path: Path) -> None:
    rows = run_experiment(sbl.loads(UNSEEN, "unseen.sbl").ir, RandomResponder(5),
                          participants=2, output=tmp_path / "rows.csv")
    assert len(rows) > 0
    found = CliRunner().invoke(compare_command, [str(tmp_path / "rows.csv")])
    by = CliRunner().invoke(compare_command, [str(tmp_path / "rows.csv"), "--by", "prime"])
    assert found.exit_code == 0 and by.exit_code == 0
    assert "prime=animal, probe=dog, soa=100" in found.stdout
    assert "prime=animal" in by.stdout and "probe=" not in by.stdout
