"""Replaying recorded data: the person's prefix, then a participant continues; rows that do
not belong are clear errors; timeouts and recorded seeds are honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.backends.text import run_experiment
from sbl.backends.text.answers import label_order
from sbl.commands.run import run as run_command
from sbl.data import read_data
from sbl.participants.scripted import Scripted
from sbl.source import SblError
from tests.test_data import CHOICES, person_rows, to_jspsych

ROOT = Path(__file__).resolve().parent.parent
BANDIT = ROOT / "examples" / "bandit.sbl"
STROOP = ROOT / "examples" / "stroop.sbl"


@pytest.fixture(scope="module")
def bandit():
    return sbl.load(BANDIT)


@pytest.fixture
def recording(tmp_path):
    """The person's bandit data as the page saves it."""
    path = tmp_path / "bandit.json"
    path.write_text(json.dumps(to_jspsych(person_rows())), encoding="utf-8")
    return path


def edit(path: Path, row: int, **fields) -> Path:
    """A copy of the recording with record ``row`` (0-based, preload included) changed."""
    records = json.loads(path.read_text(encoding="utf-8"))
    records[row].update(fields)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(records), encoding="utf-8")
    return out


def test_prefix_then_continuation(bandit, recording):
    human = read_data(recording)
    prefix = human.until_response(3)
    first = label_order(0)[0]
    rows = run_experiment(bandit.ir, Scripted([first] * 9), prefix=prefix)
    assert list(rows[:5]) == list(human[:5])  # the person's rows, as recorded
    assert {r["source"] for r in rows[5:]} == {"scripted"}
    assert rows.participants == ["p1"]
    arms = [r for r in rows if r["kind"] == "bandit"]
    assert [r["response"] for r in arms] == CHOICES[:2] + [0] * 9
    score = 0
    for r in rows[1:]:
        if r["kind"] == "bandit":
            score += r["value"]
        assert r["score"] == score  # carries on from the person's score
    assert rows[-1]["score"] == 10 + 1 + sum(10 - i for i in range(2, 11))
    text = rows.transcripts["p1"]
    assert text.count("<<") == 11 and f"You press <<{label_order(0)[1]}>> and get 1 point." \
        in text  # the person's replayed answer is a marked free response


def test_whole_recording_replays_without_asking(bandit, recording):
    human = read_data(recording)
    rows = run_experiment(bandit.ir, Scripted([]), prefix=human)
    assert list(rows) == list(human)


def test_a_row_of_another_trial_names_the_row(bandit, recording):
    bad = read_data(edit(recording, 4, trial="main/other"))
    with pytest.raises(SblError, match=r"edited.json, row 5 is for trial 'main/other' "
                                       r"\(bandit\), but the experiment's next trial is "
                                       r"'main/bandit'"):
        run_experiment(bandit.ir, Scripted([]), prefix=bad)


def test_a_changed_parameter_names_it_and_both_values(bandit, recording):
    arms = [{"color": "orange", "value": 99}, {"color": "blue", "value": 1}]
    bad = read_data(edit(recording, 4, arms=arms))
    with pytest.raises(SblError) as info:
        run_experiment(bandit.ir, Scripted([]), prefix=bad)
    message = str(info.value.diagnostics[0].message)
    assert message.startswith("edited.json, row 5 (trial 'main/bandit'): the parameter 'arms'")
    assert '"value":99' in message and '"value":9}' in message


def test_a_changed_shared_variable_is_caught(bandit, recording):
    bad = read_data(edit(recording, 3, score=3))
    with pytest.raises(SblError, match="the shared variable 'score' was 3 in the recording "
                                       "but is 10 when recomputed"):
        run_experiment(bandit.ir, Scripted([]), prefix=bad)


def test_more_rows_than_trials_is_an_error(bandit, recording):
    records = json.loads(recording.read_text(encoding="utf-8"))
    extra = [{**r, "sbl_trial_index": r["sbl_trial_index"] + 2} for r in records[-2:]]
    recording.write_text(json.dumps(records + extra), encoding="utf-8")
    with pytest.raises(SblError, match="row 25 is for trial 'main/bandit', but the experiment "
                                       "has ended: the data has 2 more rows"):
        run_experiment(bandit.ir, Scripted([]), prefix=read_data(recording))


def stroop_recording(tmp_path: Path, seed: int) -> Path:
    """A person's Stroop data with seed ``seed`` (word order shuffled by it), the second
    word timed out."""
    order = label_order(seed)
    assert order  # labels do not matter for keys; the shuffle does
    rows = run_experiment(sbl.load(STROOP).ir, Scripted(["f", "j", "f", "j"]), seed=seed)
    records = to_jspsych(rows, "s1", seed=seed)
    stroop = [i for i, r in enumerate(records) if r.get("kind") == "text" and r["choices"]
              and len(r["choices"]) == 2]
    records[stroop[1]].update(response=None, rt=None, correct=False)
    feedback = records[stroop[1] + 1]
    feedback.update(correct=False, text="Wrong!")
    path = tmp_path / "stroop.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_recorded_seed_and_timeouts(tmp_path):
    path = stroop_recording(tmp_path, seed=7)
    data = read_data(path)
    assert data.seeds == {"s1": 7}
    rows = run_experiment(sbl.load(STROOP).ir, Scripted([]), prefix=data, seed=0)
    words = [r["text"] for r in rows if r["kind"] == "text" and len(r["choices"]) == 2]
    assert words == [r["text"] for r in data if r["kind"] == "text" and len(r["choices"]) == 2]
    timed_out = [r for r in rows if r["kind"] == "text" and r["response"] is None
                 and r["choices"]]
    assert len(timed_out) == 1 and timed_out[0]["correct"] is False
    text = rows.transcripts["s1"]
    assert "You press nothing." in text and text.count("<<") == 3
    assert "You press nothing. Wrong!\n" in text  # the feedback, on the trial's line


def test_a_wrong_seed_is_caught(tmp_path):
    data = read_data(stroop_recording(tmp_path, seed=7))
    data.seeds.clear()  # as if the page had not recorded it: seed 0 orders words differently
    # the first trial of the block (a fixation) already records the word it is a trial of
    with pytest.raises(SblError, match="row 3 .*the condition column 'word' was"):
        run_experiment(sbl.load(STROOP).ir, Scripted([]), prefix=data, seed=0)


def test_sbl_run_from_data_until(recording, tmp_path):
    out = tmp_path / "rows.csv"
    first = label_order(0)[0]
    result = CliRunner().invoke(run_command, [
        str(BANDIT), "--from", str(recording), "--until", "3", "-p",
        "scripted:" + ",".join([first] * 9), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 participant, 23 trials, 11 responses; rows written to" in result.stderr
    rows = read_data(out)
    assert [r["source"] for r in rows][:6] == ["browser"] * 5 + ["scripted"]
    assert rows[-1]["score"] == 47
    result = CliRunner().invoke(run_command, [str(BANDIT), "--from", str(recording),
                                              "--until", "12", "-p", "random"])
    assert result.exit_code == 1 and "has only 11 responses" in result.stderr
    result = CliRunner().invoke(run_command, [str(BANDIT), "--until", "3"])
    assert result.exit_code == 2 and "--until needs --from" in result.stderr
