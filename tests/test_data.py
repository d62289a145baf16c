"""Data tools: the page's jsPsych JSON/CSV and sbl rows read into the one schema, written
back, counted and cut before a response; ``sbl data`` on the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.backends.text import run_experiment
from sbl.backends.text.answers import label_order
from sbl.commands.data import data as data_command
from sbl.data import Rows, read_data
from sbl.data.schema import to_json
from sbl.participants.scripted import Scripted
from sbl.source import SblError

ROOT = Path(__file__).resolve().parent.parent
CHOICES = [0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]  # the person's arms, trial by trial


def person_rows(choices=CHOICES, seed: int = 0) -> Rows:
    """What a person choosing ``choices`` in the bandit records (a scripted run)."""
    exp = sbl.load(ROOT / "examples" / "bandit.sbl")
    order = label_order(seed)
    return run_experiment(exp.ir, Scripted([order[c] for c in choices]), seed=seed)


def to_jspsych(rows, participant: str = "p1", seed: int | None = None) -> list[dict]:
    """The jsPsych data the compiled page would save for these rows: a preload trial first,
    jsPsych's own fields on every trial, sbl's fields flat, ours as sbl_trial_index."""
    out = [{"trial_type": "preload", "trial_index": 0, "time_elapsed": 12,
            "internal_node_id": "0.0-0.0", "success": True, "timeout": False,
            "failed_images": [], "failed_audio": [], "failed_video": []}]
    elapsed = 12
    for i, row in enumerate(rows):
        rt = None if row["response"] is None and row["kind"] != "instructions" else 400 + 37 * i
        elapsed += rt or 2000
        record = {"rt": rt, "stimulus": "<div class='sbl'>…</div>", "response": row["response"],
                  "trial_type": {"bandit": "html-button-response",
                                 "instructions": "instructions"}.get(row["kind"],
                                                                     "html-keyboard-response"),
                  "trial_index": i + 1, "time_elapsed": elapsed,
                  "internal_node_id": f"0.0-{i + 1}.0"}
        if row["kind"] == "instructions":
            record["view_history"] = [{"page_index": 0, "viewing_time": rt}]
        record.update({k: v for k, v in row.items() if k not in ("trial_index", "rt",
                                                                   "response")})
        record.update(participant=participant, source="browser", sbl_trial_index=i)
        if seed is not None:
            record["seed"] = seed
        out.append(record)
    return out


def jspsych_csv(records: list[dict], path: Path) -> None:
    """Write records as jsPsych's ``csv()`` does: objects as JSON, null as empty."""
    columns = list(dict.fromkeys(k for r in records for k in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(columns)
        for r in records:
            out.writerow(["" if r.get(c) is None else r[c] if isinstance(r.get(c), str)
                          else to_json(r[c]) for c in columns])


@pytest.fixture(scope="module")
def person():
    return person_rows()


def without_origin(rows) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("participant", "source", "rt")}
            for r in rows]


def test_jspsych_json_becomes_sbl_rows(person, tmp_path):
    path = tmp_path / "bandit.json"
    path.write_text(json.dumps(to_jspsych(person)), encoding="utf-8")
    rows = read_data(path)
    assert len(rows) == 23 and rows.participants == ["p1"]  # the preload row is dropped
    assert without_origin(rows) == without_origin(person)
    assert {r["source"] for r in rows} == {"browser"}
    assert rows[1]["rt"] == 437 and rows[0]["rt"] == 400
    assert not {"trial_type", "time_elapsed", "internal_node_id", "stimulus", "view_history",
                "sbl_trial_index"} & set(rows.columns)
    assert rows.columns[:11] == ["participant", "seed", "source", "block", "pass",
                                 "pass_path", "trial_index", "trial", "kind", "response", "rt"]
    assert rows.numbers[:2] == [2, 3] and rows.where(0) == "bandit.json, row 2"


def test_jspsych_csv_reads_the_same(person, tmp_path):
    records = to_jspsych(person)
    (tmp_path / "a.json").write_text(json.dumps(records), encoding="utf-8")
    jspsych_csv(records, tmp_path / "a.csv")
    from_json, from_csv = read_data(tmp_path / "a.json"), read_data(tmp_path / "a.csv")
    assert list(from_csv) == list(from_json)
    assert from_csv[1]["response"] == 0 and from_csv[1]["arms"][0] == {"color": "orange",
                                                                         "value": 10}


def test_sbl_rows_round_trip_in_every_format(person, tmp_path):
    for name in ("rows.csv", "rows.json", "rows.jsonl"):
        person.save(tmp_path / name)
        back = read_data(tmp_path / name)
        assert list(back) == list(person), name
    text_row = read_data(tmp_path / "rows.csv")[2]
    assert text_row["choices"] == [] and text_row["color"] is None


def test_ids_and_keys_stay_text(tmp_path):
    path = tmp_path / "keys.csv"
    path.write_text("participant,source,block,trial_index,trial,kind,response,rt,choices\n"
                    "007,browser,b,0,b/text,text,1,350,\"[\"\"1\"\",\"\"2\"\"]\"\n",
                    encoding="utf-8")
    row = read_data(path)[0]
    assert row["participant"] == "007" and row["response"] == "1" and row["rt"] == 350


def test_a_json_array_cut_short_is_read(person, tmp_path):
    path = tmp_path / "rows.json"
    person.save(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.rindex("\n]")], encoding="utf-8")  # as a crash leaves it
    assert len(read_data(path)) == 23


def test_responses_and_until_response(person):
    assert person.n_responses == 11
    prefix = person.until_response(3)
    assert len(prefix) == 5 and prefix.n_responses == 2  # instructions, 2 x (bandit, score)
    assert prefix[-1]["kind"] == "text"
    assert len(person.until_response(1)) == 1
    assert len(person.until_response(11)) == 21
    with pytest.raises(SblError, match="has only 11 responses"):
        person.until_response(12)
    with pytest.raises(SblError, match="at least 1"):
        person.until_response(0)


def test_until_response_cuts_each_participant(tmp_path):
    a = to_jspsych(person_rows(), "a", seed=0)
    b = to_jspsych(person_rows([1] * 11, seed=5), "b", seed=5)
    path = tmp_path / "two.json"
    path.write_text(json.dumps(a + b[1:]), encoding="utf-8")
    rows = read_data(path)
    assert rows.participants == ["a", "b"] and rows.seeds == {"a": 0, "b": 5}
    cut = rows.until_response(2)
    assert [len(p) for p in cut.by_participant().values()] == [3, 3]
    assert cut.n_responses == 2


def test_to_pandas_in_one_call(person):
    frame = person.to_pandas()
    assert frame.shape == (23, len(person.columns))
    assert frame.loc[frame.kind == "bandit", "value"].sum() == sum(
        r["value"] for r in person if r["kind"] == "bandit")


def test_bad_files_are_clear_errors(tmp_path):
    (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(SblError, match="must end in"):
        read_data(tmp_path / "x.txt")
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SblError, match="not valid JSON"):
        read_data(tmp_path / "x.json")
    with pytest.raises(SblError, match="cannot read"):
        read_data(tmp_path / "missing.json")


def test_sbl_data_command(person, tmp_path):
    path = tmp_path / "bandit.json"
    path.write_text(json.dumps(to_jspsych(person)), encoding="utf-8")
    result = CliRunner().invoke(data_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert "1 participant, 23 trials, 11 responses" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "participant,seed,source,block,pass,pass_path,trial_index,trial,kind,response,rt")
    assert len(lines) == 24 and lines[2].startswith(
        "p1,0,browser,main,1,1,1,main/bandit,bandit,0,437")
    out = tmp_path / "prefix.json"
    result = CliRunner().invoke(data_command, [str(path), "--until", "3", "-o", str(out)])
    assert result.exit_code == 0 and "5 trials, 2 responses" in result.stderr
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 5
    result = CliRunner().invoke(data_command, [str(path), "--until", "30"])
    assert result.exit_code == 1 and "has only 11 responses" in result.stderr
