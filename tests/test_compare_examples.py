"""``sbl compare`` on data sbl itself produces from the examples: the counterbalancing group
(``examples/counterbalance.sbl``, simulated with ``--model random`` and piloted on the
page) kept apart from the datasets compared, and the kinds added recently (sliders,
categorisation, image/audio/video keys and buttons). Every number is checked against the
rows, computed by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl import kinds
from sbl.backends.text import run_experiment
from sbl.cli import main
from sbl.comparison import compare, stats
from sbl.data import Rows, read_data
from sbl.participants.random import RandomResponder

from browser import needs_chromium
from conftest import ROOT

COUNTERBALANCE = ROOT / "examples" / "counterbalance.sbl"


def sbl_cli(*args: object):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def counterbalanced(tmp_path_factory) -> tuple[Path, Path]:
    """Two simulations of the counterbalanced example with --model random: 24 participants
    (every one of the 12 groups twice) and 12 (each group once)."""
    folder = tmp_path_factory.mktemp("counterbalance")
    files = folder / "first.csv", folder / "second.csv"
    for path, n, seed in zip(files, (24, 12), (0, 50), strict=True):
        sbl_cli("simulate", COUNTERBALANCE, "--model", "random", "-n", n, "--seed", seed,
                "-o", path)
    return files


def accuracy_by_group(rows: Rows) -> dict[int, list[float]]:
    """By hand: each participant's proportion correct, listed under their group."""
    out: dict[int, list[float]] = {}
    for own in rows.by_participant().values():
        scored = [r["correct"] for r in own if r.get("correct") is not None]
        out.setdefault(own[0]["group"], []).append(sum(scored) / len(scored))
    return out


def check_by_hand(frame, label: str, rows: Rows, key: str = "group",
                  shown: str = "{}") -> None:
    """Each group's row of ``frame`` for dataset ``label``: n and mean as computed by hand."""
    mine = frame[frame["dataset"] == label].set_index(key)
    expected = accuracy_by_group(rows)
    assert sorted(mine.index) == sorted(shown.format(g) for g in expected)
    for group, values in expected.items():
        line = mine.loc[shown.format(group)]
        assert line["n"] == len(values)
        assert line["mean"] == pytest.approx(sum(values) / len(values))


# ---------------------------------------------------------------- counterbalancing groups


def test_by_group_splits_accuracy_by_the_counterbalancing_group(counterbalanced) -> None:
    first, second = counterbalanced
    out = sbl_cli("compare", first, second, "-l", "people", "-l", "model", "--by", "group")
    result = compare(list(counterbalanced), labels=["people", "model"], by=["group"])
    for label, path in zip(("people", "model"), counterbalanced, strict=True):
        check_by_hand(result["keyboard.accuracy"], label, read_data(path), "condition",
                      "group={}")
    # groups in order, numbers by value: group=2 before group=10
    conditions = [line.split("│")[1].strip() for line in out.stdout.splitlines()
                  if re.match(r"│ group=\d+ ", line)]
    assert conditions[:12] == [f"group={k}" for k in range(1, 13)]
    # the datasets are the columns, named as datasets, never as groups
    assert "┃ dataset ┃" in out.stdout and "people (n=24)" in out.stdout
    assert set(result["overview"].columns) >= {"dataset", "participants"}


def test_the_score_per_counterbalancing_group(counterbalanced) -> None:
    """Without --by: the conditions are the word's set and category (never the group), and
    the score gets a table per group and dataset, with each group's participants."""
    result = compare(list(counterbalanced), labels=["people", "model"])
    assert not any("group" in c for c in result["keyboard.accuracy"]["condition"])
    assert set(result["keyboard.accuracy"]["condition"]) == {
        f"set={s}, category={c}" for s in "ABC" for c in ("animal", "tool")}
    by_group = result["keyboard.by_group"]
    assert list(by_group.columns) == ["group", "dataset", *stats.SUMMARY]
    assert list(dict.fromkeys(by_group["group"])) == [str(k) for k in range(1, 13)]
    for label, path in zip(("people", "model"), counterbalanced, strict=True):
        check_by_hand(by_group, label, read_data(path))
    summary = result.summary(width=120)
    assert "Accuracy per participant, by counterbalancing group" in summary
    assert re.search(r"│\s+10 │ +[0-9.]+ ± [0-9.]+ \(n=2\) │ +[0-9.]+ \(n=1\) │", summary)
    assert [p.name for p in result.section("keyboard").plots] == ["accuracy", "by_group"]


@needs_chromium
def test_page_data_by_group(counterbalanced, tmp_path: Path) -> None:
    """Pilot data (the page played by jsPsych's simulation in Chromium) next to a text
    simulation: response times only for the page, every group a condition of both."""
    page = tmp_path / "pilot.json"
    sbl_cli("pilot", COUNTERBALANCE, "-n", 4, "--seed", 3, "-o", page)
    rows = read_data(page)
    assert {r["group"] for r in rows} == {1, 2, 3, 4}
    result = compare([page, counterbalanced[1]], labels=["page", "model"], by=["group"])
    check_by_hand(result["keyboard.accuracy"], "page", rows, "condition", "group={}")
    rt = result["keyboard.rt"]
    assert set(rt["dataset"]) == {"page"} and set(rt["condition"]) <= {
        f"group={k}" for k in range(1, 5)}
    for _, line in rt.iterrows():  # one participant per group: their mean correct rt
        group = int(line["condition"].split("=")[1])
        times = [r["rt"] for r in rows if r["group"] == group and r.get("correct")]
        assert line["n"] == 1 and line["mean"] == pytest.approx(sum(times) / len(times))
    by_group = result["keyboard.by_group"]
    assert set(by_group[by_group["dataset"] == "page"]["n"]) == {1}


UNGROUPED = """
experiment "Teams" { instructions: "Press F for a living thing and J otherwise." }
table trials = cross(group: ["red", "blue"], word: ["dog", "saw"])
block test over trials shuffle repeat 2 {
  text { text: "{group}: {word}", choices: ["f", "j"]
         correct_key: if word == "dog" then "f" else "j" }
}
"""


def test_a_column_called_group_in_an_experiment_without_groups_is_a_condition() -> None:
    # The column varies within each participant: a condition, not their group.
    rows = run_experiment(sbl.loads(UNGROUPED, "teams.sbl").ir, RandomResponder(2),
                          participants=3)
    result = compare([rows])
    assert set(result["keyboard.accuracy"]["condition"]) == {
        f"group={g}, word={w}" for g in ("red", "blue") for w in ("dog", "saw")}
    assert "keyboard.by_group" not in result.frames


def test_by_group_without_groups_says_which_experiments_have_them(tmp_path: Path) -> None:
    rows = run_experiment(sbl.load(ROOT / "examples" / "stroop.sbl").ir, RandomResponder(1),
                          participants=1, output=tmp_path / "stroop.csv")
    assert len(rows)
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "stroop.csv"), "--by", "group"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: --by names the column 'group', which the data does not have" in result.stderr
    assert "declares groups (`group NAME in ...`)" in result.stderr


def test_numbers_in_conditions_sort_by_value() -> None:
    names = ["group=10", "group=2", "text-10", "text-2", "soa=400", "soa=100", "x=1.5",
             "x=1.25"]
    assert sorted(names, key=stats.natural_key) == [
        "group=2", "group=10", "soa=100", "soa=400", "text-2", "text-10", "x=1.25", "x=1.5"]


# ---------------------------------------------------------------- the kinds added recently


def two_datasets(name: str, n: int = 4) -> list[Rows]:
    exp = sbl.load(ROOT / "examples" / f"{name}.sbl")
    return [run_experiment(exp.ir, RandomResponder(seed), participants=n, seed=seed)
            for seed in (1, 100)]


@pytest.mark.parametrize("name, sections", [
    ("category_learning", ["keyboard", "survey"]), ("oddball", ["keyboard"]),
    ("motion", ["keyboard"]), ("shapes", ["keyboard"])])
def test_new_examples_compare_with_labelled_plots(name: str, sections: list[str],
                                                  tmp_path: Path) -> None:
    """Two random simulations of each example: the score by hand, every plot drawn with
    both axes and its legend titled, and no condition naming a column the stimulus lacks."""
    data = two_datasets(name)
    result = compare(data, tmp_path, labels=["a", "b"])
    assert [s.name for s in result.sections] == sections
    score = result.score.set_index("dataset")
    for label, rows in zip("ab", data, strict=True):
        # the answered trials: a feedback screen's `correct` repeats the answer's
        each = [[r["correct"] for r in own if r.get("correct") is not None
                 and kinds.get(r["kind"]).compare == "keyboard"]
                for own in rows.by_participant().values()]
        assert score.loc[label, "mean"] == pytest.approx(
            sum(sum(c) / len(c) for c in each) / len(each))
    for section in result.sections:
        for plot in section.plots:
            assert plot.xlabel and plot.ylabel and plot.series == "dataset", plot.name
            assert (tmp_path / f"{section.name}-{plot.name}.png").stat().st_size > 5000
    assert not any(c.endswith("=") or "=none" in c
                   for c in result["keyboard.accuracy"]["condition"])


def test_category_learning_confidence_after_each_pass_by_hand() -> None:
    data = two_datasets("category_learning")
    sliders = compare(data, labels=["a", "b"])["survey.sliders"].set_index(["dataset", "item"])
    for label, rows in zip("ab", data, strict=True):
        each = [[r["response"] for r in own if r["kind"] == "slider"]
                for own in rows.by_participant().values()]
        for k in (1, 2):
            line = sliders.loc[(label, f"learn/confidence #{k} (0-100)")]
            assert line["n"] == len(each) == 4
            assert line["mean"] == pytest.approx(sum(v[k - 1] for v in each) / len(each))


def test_by_a_column_some_stimuli_lack() -> None:
    # The last clip is outside the block over the clips: it is labelled by its trial alone.
    conditions = set(compare(two_datasets("motion")[:1], by=["direction"])[
        "keyboard.accuracy"]["condition"])
    assert conditions == {"last", "test/clip, direction=left", "test/clip, direction=right"}


def test_a_picture_is_named_by_its_description_not_its_file() -> None:
    # The transfer picture is drawn per participant from a `let`, which rows do not record:
    # its parameters that vary are the file and its description, which split alike.
    conditions = set(compare(two_datasets("shapes"))["keyboard.accuracy"]["condition"])
    transfer = {c for c in conditions if c.startswith("transfer")}
    assert transfer and transfer <= {"transfer, description=a red square",
                                     "transfer, description=a green square"}


# ---------------------------------------------------------------- the published tasks' ports


def port_datasets(name: str, n: int = 3) -> list[Rows]:
    exp = sbl.load(ROOT / "tests" / "ports" / f"{name}.sbl")
    return [run_experiment(exp.ir, RandomResponder(seed), participants=n, seed=seed)
            for seed in (1, 100)]


@pytest.mark.parametrize("name, expected", [
    # outcomes computed from the answer (hit, false_alarm) are not conditions
    ("nback", {"is_target=false", "is_target=true"}),
    # each participant's shuffled locations (target1, target2): by the position shown
    ("serial_rt", {f"target={k}" for k in range(4)}),
    # ssd_now copies the tracking delay `ssd`: the stop trials are split by direction only
    ("stop_signal", {"main/go, stop=false, direction=left", "main/go, stop=true, direction=left",
                     "main/go, stop=false, direction=right",
                     "main/go, stop=true, direction=right",
                     "main/signal/stop, direction=left", "main/signal/stop, direction=right"})])
def test_ports_default_conditions(name: str, expected: set[str]) -> None:
    conditions = set(compare(port_datasets(name))["keyboard.accuracy"]["condition"])
    assert conditions <= expected and len(conditions) >= len(expected) - 1


def test_ports_measure_ssd_and_pumps_by_hand() -> None:
    stop = port_datasets("stop_signal")
    result = compare(stop, labels=["a", "b"], measures=["stopped"])
    frame = result["measure.stopped.participants"]
    for label, rows in zip("ab", stop, strict=True):
        for p, own in rows.by_participant().items():
            values = [float(r["stopped"]) for r in own if r.get("stopped") is not None]
            got = frame[(frame["dataset"] == label) & (frame["participant"] == p)]["value"]
            assert got.iloc[0] == pytest.approx(sum(values) / len(values))
    bart = port_datasets("bart")
    pumps = compare(bart, labels=["a", "b"], measures=["balloon_pumps"]).score
    assert list(pumps["measure"]) == ["mean balloon_pumps per participant"] * 2
    each = [sum(v) / len(v) for own in bart[0].by_participant().values()
            for v in [[r["balloon_pumps"] for r in own if r.get("balloon_pumps") is not None]]]
    assert pumps.iloc[0]["mean"] == pytest.approx(sum(each) / len(each))


# ---------------------------------------------------------------- --measure, by hand


def measured_rows(participant: str, levels: list[tuple[str, float, bool]]) -> list[dict]:
    """An instructions row, then one text trial per (side, level, correct); `level` is a
    shared variable (on every row), `stopped` a data field of the trials."""
    rows = [{"participant": participant, "trial": "intro", "kind": "instructions",
             "level": 99.0, "trial_index": 0}]
    rows += [{"participant": participant, "trial": "probe", "kind": "text", "response": "f",
              "correct": c, "choices": ["f", "j"], "side": side, "level": level,
              "stopped": c, "trial_index": i + 1}
             for i, (side, level, c) in enumerate(levels)]
    return rows


def test_measure_mean_se_n_by_condition_by_hand() -> None:
    people = Rows(measured_rows("1", [("left", 2, True), ("left", 4, False), ("right", 6, True)])
                  + measured_rows("2", [("left", 6, True), ("right", 10, False)]))
    model = Rows(measured_rows("1", [("left", 1, True), ("right", 3, True)]))
    result = compare([people, model], labels=["people", "model"], measures=["level", "stopped"])
    level = result["measure.level"].set_index(["condition", "dataset"])
    # people, left: participant 1 mean(2, 4) = 3, participant 2: 6 -> mean 4.5,
    # se = sd(3, 6) / sqrt(2) = 2.1213 / 1.4142 = 1.5; the instructions' 99 is not counted
    assert tuple(level.loc[("side=left", "people")]) == (2, 4.5, pytest.approx(1.5))
    # people, right: 6 and 10 -> 8, se = sd(6, 10) / sqrt(2) = 2.8284 / 1.4142 = 2
    assert tuple(level.loc[("side=right", "people")]) == (2, 8.0, pytest.approx(2.0))
    assert level.loc[("side=left", "model"), "n"] == 1
    # headline: per participant over all trials: (2+4+6)/3 = 4, (6+10)/2 = 8 -> 6 ± 2
    headline = result.section("measure").headline
    assert tuple(headline.frame.iloc[0][["n", "mean", "se"]]) == (2, 6.0, pytest.approx(2.0))
    # true/false count 1/0: people, left: participant 1 mean(1, 0) = 0.5, participant 2: 1
    stopped = result["measure.stopped"].set_index(["condition", "dataset"])
    assert stopped.loc[("side=left", "people"), "mean"] == pytest.approx(0.75)
    summary = result.summary()
    assert "Mean level by condition" in summary and "Mean stopped by condition" in summary


def test_measure_errors(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    Rows(measured_rows("1", [("left", 2, True), ("right", 3, False)])).to_csv(path)
    unknown = CliRunner().invoke(main, ["compare", str(path), "--measure", "levle"])
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert "--measure names the column 'levle', which the data does not have" in unknown.stderr
    assert "did you mean 'level'?" in unknown.stderr
    text = CliRunner().invoke(main, ["compare", str(path), "--measure", "side"])
    assert text.exit_code == 1
    assert "--measure side: rows.csv, row 2 holds 'left' there, not a number" in text.stderr
    assert "--by side" in text.stderr


def test_too_many_conditions_name_the_columns_left_out() -> None:
    # c has 2 values, a and b 4 each: fewest values first, c x a is 8 conditions and b
    # would make 32 (an instructions row first: a column on every row would be a shared
    # variable)
    rows = Rows([{"participant": "1", "trial": "intro", "kind": "instructions",
                  "trial_index": 0}]
                + [{"participant": "1", "trial": "t", "kind": "text", "response": "f",
                    "correct": (a + b + c) % 3 == 0, "choices": ["f", "j"], "a": a, "b": b,
                    "c": c, "trial_index": i + 1}
                   for i, (a, b, c) in enumerate((a, b, c) for c in range(2) for a in range(4)
                                                 for b in range(4))])
    result = compare([rows])
    assert len(result["keyboard.accuracy"]) == 8
    assert result["keyboard.accuracy"]["condition"].iloc[0] == "a=0, c=0"
    note = ("Conditions leave out b: with them there would be more than 16 conditions. "
            "--by COLUMN[,COLUMN] chooses the columns.")
    assert note in result.section("keyboard").notes
    assert len(compare([rows], by=["c"])["keyboard.accuracy"]) == 2


def test_measure_of_a_column_without_values_says_so(tmp_path: Path) -> None:
    rows = Rows([{**r, "empty": None} for r in measured_rows("1", [("left", 2, True)])])
    result = compare([rows], tmp_path, measures=["empty"])
    assert result.section("measure").notes == ("No row holds a value of empty.",)
    assert "No row holds a value of empty." in (tmp_path / "index.html").read_text()
