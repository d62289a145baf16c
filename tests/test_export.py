"""``sbl export``: Psych-DS layout checked against the spec's required rules (and the
validator shown able to fail), Psych-101 jsonl read back with its responses equal to the
recorded ones."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.backends.text import run_experiment
from sbl.backends.text.answers import label_order
from sbl.backends.text.driver import seed_for
from sbl.commands.export import export as export_command
from sbl.comparison import compare
from sbl.data import Rows, read_data
from sbl.export import (
    export_psych101,
    export_psych_ds,
    marked_responses,
    psych101_records,
    read_psych101,
    validate_psych_ds,
)
from sbl.export.psych_ds import CORE_MEANINGS, subject_names
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.source import SblError

from browser import file_url, launch, needs_chromium, session
from conftest import ROOT

DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"
KEYWORDS = re.compile(r"^([a-z]+-[a-zA-Z0-9]+_)+data\.csv$")


@pytest.fixture(scope="module")
def bandit():
    return sbl.load(EXAMPLES / "bandit.sbl")


@pytest.fixture(scope="module")
def stroop():
    return sbl.load(EXAMPLES / "stroop.sbl")


@pytest.fixture(scope="module")
def people():
    return read_data(DATA / "bandit_people.json")


@pytest.fixture
def dataset(tmp_path: Path, people, bandit) -> Path:
    return export_psych_ds(people, tmp_path / "dataset", experiment=bandit)


# ---------------------------------------------------------------- Psych-DS


def test_psych_ds_layout(dataset: Path) -> None:
    assert validate_psych_ds(dataset) == []
    meta = json.loads((dataset / "dataset_description.json").read_text(encoding="utf-8"))
    assert meta["@context"] == "https://schema.org" and meta["@type"] == "Dataset"
    assert meta["name"] == "Two-armed bandit" and "3 participants" in meta["description"]
    files = sorted(p.name for p in (dataset / "data").iterdir())
    assert files == ["study-bandit_subject-P07_data.csv", "study-bandit_subject-p1_data.csv",
                     "study-bandit_subject-p2_data.csv"]
    assert all(KEYWORDS.match(f) for f in files)
    assert sorted(p.name for p in (dataset / "materials").iterdir()) == ["bandit.sbl"]


def test_every_column_is_described(dataset: Path, people) -> None:
    meta = json.loads((dataset / "dataset_description.json").read_text(encoding="utf-8"))
    described = {v["name"]: v for v in meta["variableMeasured"]}
    headers = set()
    for path in (dataset / "data").iterdir():
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        headers |= set(rows[0])
        assert {len(r) for r in rows} == {len(rows[0])}  # same cell count on every line
    assert headers == set(described) == set(people.columns)
    assert all(v["@type"] == "PropertyValue" and v["description"] for v in described.values())
    # From the kinds' declarations and the experiment.
    assert described["value"]["description"] == (
        "bandit data field: The points of the chosen machine; none when no machine was chosen.")
    assert described["arms"]["description"].startswith("bandit parameter: One record per slot")
    assert described["score"]["description"].startswith("A shared variable")
    assert described["rt"]["unitText"] == "ms" and described["duration"]["unitText"] == "ms"
    # A column two kinds declare differently names both.
    assert "bandit parameter: Time to choose" in described["duration"]["description"]
    assert "text parameter: How long the text is shown" in described["duration"]["description"]


def test_data_files_hold_the_rows(dataset: Path, people) -> None:
    back = read_data(dataset / "data" / "study-bandit_subject-P07_data.csv")
    assert back.participants == ["P-07"]  # the id as recorded, though the name is cut
    assert list(back) == list(people.by_participant()["P-07"])


def test_core_meanings_are_docs_data_md() -> None:
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    table = text.split("### Core columns")[1].split("###")[0]
    meanings = {m.group(1): m.group(2).replace("`", "") for m in re.finditer(
        r"^\| `(\w+)` \| [^|]+ \| (.*) \|$", table, re.MULTILINE)}
    assert meanings == CORE_MEANINGS


def test_subject_ids_are_sanitised_and_unique() -> None:
    assert subject_names(["p-1", "p1", "p_1", "", "ü"]) == {
        "p-1": "p1", "p1": "p1x2", "p_1": "p1x3", "": "unnamed", "ü": "unnamedx2"}


def test_materials_include_the_tables(tmp_path: Path, stroop) -> None:
    rows = read_data(DATA / "stroop_people.json")
    folder = export_psych_ds(rows, tmp_path, experiment=stroop, name="stroop test!")
    assert validate_psych_ds(folder) == []
    assert sorted(p.name for p in (folder / "materials").iterdir()) == ["stroop.csv",
                                                                        "stroop.sbl"]
    assert (folder / "data" / "study-strooptest_subject-s1_data.csv").is_file()


def test_export_refuses_a_folder_with_other_data(dataset: Path, people) -> None:
    (dataset / "data" / "study-old_subject-1_data.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(SblError, match="already holds other data files"):
        export_psych_ds(people, dataset)


def _break(folder: Path, how: str) -> None:
    """Damage a valid dataset in one way."""
    meta_path = folder / "dataset_description.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    data = folder / "data"
    first = sorted(data.iterdir())[0]
    if how in ("@context", "@type", "name", "description", "variableMeasured"):
        meta.pop(how)
    elif how == "context-value":
        meta["@context"] = "https://example.org"
    elif how == "column-undescribed":
        meta["variableMeasured"] = [v for v in meta["variableMeasured"] if v["name"] != "rt"]
    elif how == "bad-keyword":
        first.rename(data / "study-bandit_subject-p_1_data.csv")
    elif how == "no-suffix":
        first.rename(data / "study-bandit_subject-p1.csv")
    elif how == "ragged":
        first.write_text(first.read_text(encoding="utf-8") + "1,2\n", encoding="utf-8")
    elif how == "not-utf8":
        first.write_bytes(first.read_bytes() + "é,\n".encode("latin-1"))
    elif how == "row-id":
        first.write_text("row_id,x\n1,a\n1,b\n", encoding="utf-8")
        meta["variableMeasured"] += ["row_id", "x"]
    elif how == "no-data":
        shutil.rmtree(data)
    elif how == "bad-json":
        meta_path.write_text("{", encoding="utf-8")
        return
    meta_path.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize("how, message", [
    ("@context", "@context must be"), ("context-value", "@context must be"),
    ("@type", "@type must be"), ("name", "'name' is required"),
    ("description", "'description' is required"),
    ("variableMeasured", "'variableMeasured' is required"),
    ("column-undescribed", "columns not in variableMeasured: rt"),
    ("bad-keyword", "'1' is not a keyword"), ("no-suffix", "must end in _data.csv"),
    ("ragged", "cells, but the header has"), ("not-utf8", "not UTF-8"),
    ("row-id", "row_id values are not unique"), ("no-data", "data/ folder is missing"),
    ("bad-json", "not valid JSON"),
])
def test_validator_finds_each_broken_rule(dataset: Path, how: str, message: str) -> None:
    _break(dataset, how)
    problems = validate_psych_ds(dataset)
    assert any(message in p for p in problems), problems


# ---------------------------------------------------------------- Psych-101


def test_psych101_responses_equal_the_recorded_ones(tmp_path: Path, people, bandit) -> None:
    path = tmp_path / "bandit.jsonl"
    export_psych101(people, bandit, path)
    records = read_psych101(path)
    assert [r.participant for r in records] == ["p1", "p2", "P-07"]
    for record in records:
        rows = people.by_participant()[record.participant]
        order = label_order(people.seeds[record.participant])  # the page recorded the seed
        recorded = [order[r["response"]] for r in rows if r["kind"] == "bandit"]
        assert list(record.responses) == recorded
        assert record.experiment == "bandit/bandit_people.json"


@pytest.mark.parametrize("example", ["bandit", "stroop", "survey"])
def test_text_run_exports_the_text_its_participants_read(tmp_path: Path, example: str) -> None:
    exp = sbl.load(EXAMPLES / f"{example}.sbl")
    rows = run_experiment(exp.ir, RandomResponder(9), participants=3, seed=40)
    rows.save(tmp_path / "run.csv")  # sbl's own rows: no seed column
    saved = read_data(tmp_path / "run.csv")
    records = psych101_records(saved, exp, seed=40)  # participant k had seed 40 + k - 1
    assert {r["participant"]: r["text"] for r in records} == rows.transcripts


@pytest.mark.parametrize("example", ["bandit", "stroop", "survey"])
def test_marked_responses_replay_to_the_recorded_rows(example: str) -> None:
    """Answering with the exported text's responses reproduces the recorded responses."""
    exp = sbl.load(EXAMPLES / f"{example}.sbl")
    rows = run_experiment(exp.ir, RandomResponder(3), participants=2, seed=7)
    for record in psych101_records(rows, exp, seed=7):
        seed = seed_for(record["participant"], {}, 7)
        again = run_experiment(exp.ir, Scripted(marked_responses(record["text"])), seed=seed)
        recorded = rows.by_participant()[record["participant"]]
        assert [r["response"] for r in again] == [r["response"] for r in recorded]


def test_psych101_format(tmp_path: Path, people, bandit) -> None:
    path = tmp_path / "out.jsonl"
    export_psych101(people, bandit, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    for line in lines:
        record = json.loads(line)
        assert list(record) == ["text", "experiment", "participant"]
        text = record["text"]
        assert isinstance(record["participant"], str) and not text.endswith("\n")
        assert text.startswith("In this task you choose between two slot machines")
        # Every << has a space before it and a >> after it; nothing else uses them.
        assert text.count("<<") == text.count(" <<") == text.count(">>") == 11
        assert not any(line.startswith("<<") for line in text.splitlines())


def test_partial_data_ends_at_the_last_recorded_trial(people, bandit) -> None:
    prefix = people.until_response(3)
    [record, *_] = psych101_records(prefix, bandit)
    assert len(marked_responses(record["text"])) == 2
    assert record["text"].splitlines()[-1].startswith('You see "Score: 19"')


def test_replay_problems_are_reported(stroop) -> None:
    rows = read_data(DATA / "stroop_model.csv")
    two = Rows(r for r in rows if r["participant"] == "2")
    assert psych101_records(two, stroop, seed=0)  # participant 2 of a run with seed 0: ok
    with pytest.raises(SblError, match="in the recording but is") as caught:
        psych101_records(two, stroop, seed=1)  # seed 2 shows the words in another order
    assert "same seed" in (caught.value.diagnostics[0].help or "")


def test_read_psych101_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a <<B>>", "participant": "1"}\n{"text": 3}\n', encoding="utf-8")
    with pytest.raises(SblError, match=r"bad.jsonl, line 2: expected an object"):
        read_psych101(bad)
    bad.write_text("{oops\n", encoding="utf-8")
    with pytest.raises(SblError, match="line 1: not valid JSON"):
        read_psych101(bad)


# ---------------------------------------------------------------- the command line


def invoke(*args: object):
    return CliRunner().invoke(export_command, [str(a) for a in args])


def test_cli_exports_both(tmp_path: Path) -> None:
    result = invoke(DATA / "bandit_people.json", "--psych-ds", tmp_path / "ds", "--psych101",
                    tmp_path / "b.jsonl", "--experiment", EXAMPLES / "bandit.sbl")
    assert result.exit_code == 0, result.output
    assert "valid Psych-DS" in result.stderr and "33 marked responses" in result.stderr
    assert validate_psych_ds(tmp_path / "ds") == []
    assert len(read_psych101(tmp_path / "b.jsonl")) == 3


def test_cli_psych101_needs_the_experiment(tmp_path: Path) -> None:
    result = invoke(DATA / "bandit_people.json", "--psych101", tmp_path / "b.jsonl")
    assert result.exit_code == 2 and "--psych101 needs --experiment" in result.output
    assert not (tmp_path / "b.jsonl").exists()


def test_cli_needs_a_target() -> None:
    result = invoke(DATA / "bandit_people.json")
    assert result.exit_code == 2 and "--psych-ds DIR or --psych101 FILE" in result.output


def test_cli_reports_replay_errors(tmp_path: Path) -> None:
    result = invoke(DATA / "stroop_people.json", "--psych101", tmp_path / "x.jsonl",
                    "--experiment", EXAMPLES / "bandit.sbl")
    assert result.exit_code == 1 and "error:" in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- data from the real page


@needs_chromium
@pytest.mark.parametrize("example", ["bandit", "stroop"])
def test_page_data_exports_and_compares(tmp_path: Path, example: str) -> None:
    """The compiled page, run by jsPsych's simulation mode in Chromium, saves data that
    exports to Psych-101 (responses equal to the recorded ones) and to Psych-DS, and
    compares with a text run."""
    exp = sbl.load(EXAMPLES / f"{example}.sbl")
    page = tmp_path / f"{example}.html"
    exp.compile(page)
    with launch() as browser, session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, participant="web-1", seed=5, simulate="data-only"))
        assert s.wait_state() == "done"
        s.wait_downloads(f"{example}.json")
    data = read_data(tmp_path / f"{example}.json")
    assert data.seeds == {"web-1": 5}
    [record] = psych101_records(data, exp)
    again = run_experiment(exp.ir, Scripted(marked_responses(record["text"])), seed=5)
    assert [r["response"] for r in again] == [r["response"] for r in data]
    assert validate_psych_ds(export_psych_ds(data, tmp_path / "ds", experiment=exp)) == []
    model = run_experiment(exp.ir, RandomResponder(1), participants=2)
    result = compare([data, model], labels=["page", "random"])
    assert list(result.score["dataset"]) == ["page", "random"]
    assert list(result.score["n"]) == [1, 2]
