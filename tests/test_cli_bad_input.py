"""Issue 13: every bad input to the command line ends in a clear error (exit 1, or 2 for
usage), never in "internal error"; what can be checked is checked before a model is loaded.

Item 4 (inputs that were internal errors), item 5 (checked before the slow part), a table of
bad inputs run through every command, and a hypothesis fuzz test of the data readers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbl
from sbl.cli import main
from sbl.data import read_data
from sbl.participants import models
from sbl.source import SblError

from conftest import ROOT

BANDIT = str(ROOT / "examples" / "bandit.sbl")
PEOPLE = str(ROOT / "tests" / "data" / "bandit_people.json")
MODEL_ROWS = str(ROOT / "tests" / "data" / "bandit_model.csv")


def invoke(*args: str) -> tuple[int, str]:
    """Run ``sbl ARGS`` in this process; an internal error or a traceback fails the test."""
    result = CliRunner().invoke(main, list(args))
    assert "internal error" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    return result.exit_code, result.output


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a model fails the test: what is checked here must be checked before it."""
    def load(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the input was checked")
    for loader in ("_load_smollm2", "_load_gguf", "_load_dir", "_load_hub"):
        monkeypatch.setattr(models, loader, load)


# ---------------------------------------------------------------- item 4


def test_surrogate_pairs_are_one_character(tmp_path: Path) -> None:
    """Decision: a valid pair of surrogate escapes is the character it encodes (as in JSON
    and JavaScript); a lone half is an error at its position."""
    path = tmp_path / "s.sbl"
    path.write_text('experiment "x"\ntext { text: "\\ud83d\\ude00 \\u00e9" }\n')
    code, out = invoke("compile", str(path), "-o", str(tmp_path / "s.html"))
    assert code == 0, out
    assert sbl.load(path).ir.body[0].params[0].value.value == "\U0001F600 \u00e9"
    path.write_text('experiment "x"\ntext { text: "ok \\ud83d" }\n')
    code, out = invoke("check", str(path))
    assert code == 1 and "s.sbl:2:18: error: '\\ud83d' is half of a surrogate pair" in out


def test_model_directory_without_weights(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"model_type": "llama"}')
    code, out = invoke("simulate", BANDIT, "--model", str(tmp_path / "m"))
    assert code == 1 and "has a config.json but no weights" in out


def test_model_directory_with_corrupt_weights(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_model_dir.iterdir():
        data = f.read_bytes()
        (broken / f.name).write_bytes(data[:len(data) // 3] if f.suffix == ".safetensors"
                                      else data)
    code, out = invoke("simulate", BANDIT, "--model", str(broken))
    assert code == 1 and f"cannot load the model in '{broken}'" in out, out


@pytest.mark.parametrize("command", [
    ["compile", BANDIT, "-o", "{missing}/page.html"],
    ["data", PEOPLE, "-o", "{missing}/rows.csv"],
    ["run", BANDIT, "-p", "random", "-o", "{missing}/rows.csv"],
    ["simulate", BANDIT, "--model", "smollm2", "-o", "{missing}/sim.csv"],
    ["simulate", BANDIT, "--model", "smollm2", "--summary", "{missing}/run.json"],
    ["score", PEOPLE, "--experiment", BANDIT, "--model", "smollm2", "-o", "{missing}/n.csv"],
    ["export", PEOPLE, "--psych101", "{missing}/p.jsonl", "--experiment", BANDIT],
    ["pilot", BANDIT, "-o", "{missing}/pilot.json"],
])
def test_output_into_a_missing_folder(tmp_path: Path, command: list[str],
                                      no_model_load: None) -> None:
    missing = tmp_path / "no" / "such"
    code, out = invoke(*[a.format(missing=missing) for a in command])
    assert code == 1 and f"the folder '{missing}' does not exist" in out, out


# ---------------------------------------------------------------- item 5


@pytest.mark.parametrize("args, message", [
    (["simulate", BANDIT, "--model", "smollm2", "-o", "{tmp}/sim.csv", "--resume"],
     "nothing to resume"),
    (["simulate", BANDIT, "--model", "smollm2", "-o", "{tmp}/sim.txt"], "must end in"),
    (["simulate", BANDIT, "--model", "smollm2", "--from", "{tmp}/missing.json"],
     "cannot read data file"),
    (["score", PEOPLE, "--model", "smollm2"], "needs their experiment"),
    (["score", PEOPLE, "--model", "smollm2", "-e", BANDIT, "-o", "{tmp}/n.txt"],
     "must end in .csv"),
    (["score", "{tmp}/bad.json", "--model", "smollm2", "-e", BANDIT], "not valid JSON"),
])
def test_checked_before_the_model_loads(tmp_path: Path, args: list[str], message: str,
                                        no_model_load: None) -> None:
    (tmp_path / "bad.json").write_text("[{")
    code, out = invoke(*[a.format(tmp=tmp_path) for a in args])
    assert code == 1 and message in out, out


@pytest.mark.parametrize("device, message", [
    ("tpu", "unknown device 'tpu'"),
    ("cuda:99", "device 'cuda:99' is not available"),
])
def test_a_device_that_is_not_there_is_an_error(tiny_model_dir: Path, device: str,
                                                message: str) -> None:
    code, out = invoke("simulate", BANDIT, "--model", str(tiny_model_dir), "--device", device)
    assert code == 1 and message in out, out


def test_a_bad_participant_is_a_usage_error(no_model_load: None) -> None:
    code, out = invoke("run", BANDIT, "-p", "randon")
    assert code == 2 and "did you mean 'random'" in out, out


# ---------------------------------------------------------------- every command


def _bad_files(tmp: Path) -> dict[str, str]:
    """Files that are wrong in one way each."""
    files = {
        "empty.json": "", "empty.csv": "", "empty.sbl": "", "text.json": "hello",
        "deep.json": "[" * 100_000, "nan.json": '[{"trial": "x", "response": NaN}]',
        "ragged.csv": "participant,trial,kind\n1,a\n", "binary.csv": "\x00\x01\x02",
        "object.json": '{"a": 1}', "numbers.json": "[1, 2, 3]",
        "surrogate.sbl": 'experiment "x"\ntext { text: "\\udc00" }\n',
        "deep.sbl": 'experiment "x"\nlet a = ' + "-" * 5000 + "1\n",
        "rows.txt": "participant\n1\n",
    }
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    (tmp / "folder.json").mkdir()
    return {name: str(tmp / name) for name in [*files, "folder.json"]}


DATA_COMMANDS = [
    ["data", "{f}"], ["data", PEOPLE, "--until", "99"], ["compare", "{f}"],
    ["compare", PEOPLE, "{f}"], ["export", "{f}", "--psych-ds", "{tmp}/ds"],
    ["export", "{f}", "--psych101", "{tmp}/p.jsonl", "-e", BANDIT],
    ["run", BANDIT, "--from", "{f}", "-p", "random"],
    ["simulate", BANDIT, "--model", "smollm2", "--from", "{f}"],
    ["score", "{f}", "--model", "smollm2", "-e", BANDIT],
]
SOURCE_COMMANDS = [
    ["check", "{f}"], ["compile", "{f}"], ["fmt", "{f}"], ["run", "{f}", "-p", "random"],
    ["simulate", "{f}", "--model", "smollm2"], ["pilot", "{f}", "-o", "{tmp}/p.json"],
    ["export", PEOPLE, "--psych101", "{tmp}/p.jsonl", "-e", "{f}"],
]
OTHER = [
    ["compile", BANDIT, "--emit", "pdf"], ["compile", BANDIT, "-o", "{tmp}"],
    ["run", BANDIT, "-p", "nobody"], ["run", BANDIT, "-p", "scripted:{tmp}/none.txt"],
    ["run", BANDIT, "--until", "2"], ["run", BANDIT, "-n", "0", "-p", "random"],
    ["simulate", BANDIT], ["simulate", BANDIT, "--model", "smollm2", "-o", "{tmp}/x.xlsx"],
    ["simulate", BANDIT, "--model", "nonexistent/model/dir"],
    ["simulate", BANDIT, "--model", "smollm2", "--temperature", "-1"],
    ["score", PEOPLE, "--model", "smollm2"], ["compare", PEOPLE, "--by", "nothing"],
    ["compare", PEOPLE, MODEL_ROWS, "-l", "one"], ["export", PEOPLE],
    ["data", PEOPLE, "-o", "{tmp}/rows.xml"], ["fmt", "{tmp}/none.sbl"],
]


def _commands(tmp: Path) -> list[list[str]]:
    files = _bad_files(tmp)
    out = []
    for template in DATA_COMMANDS:
        out += [[a.format(f=f, tmp=tmp) for a in template] for n, f in files.items()
                if not n.endswith(".sbl")]
    for template in SOURCE_COMMANDS:
        out += [[a.format(f=f, tmp=tmp) for a in template] for n, f in files.items()
                if n.endswith(".sbl") or n in ("text.json", "folder.json")]
    return out + [[a.format(tmp=tmp) for a in template] for template in OTHER]


def test_every_command_on_bad_inputs(tmp_path: Path, no_model_load: None) -> None:
    """No bad input reaches the CLI's last line of defence; each is exit 1 or 2."""
    failures = []
    for args in _commands(tmp_path):
        result = CliRunner().invoke(main, args)
        if ("internal error" in result.output or result.exit_code not in (1, 2)
                or not (result.exception is None or isinstance(result.exception, SystemExit))):
            failures.append(f"sbl {' '.join(args)} -> {result.exit_code}: "
                            f"{result.output.strip()[-300:]!r} {result.exception!r}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- fuzzing the readers


def _records() -> list[dict[str, object]]:
    return json.loads(Path(PEOPLE).read_text())


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(),
                    st.text(max_size=4), st.lists(st.integers(0, 3), max_size=3),
                    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@st.composite
def mutated_records(draw: st.DrawFn) -> list[object]:
    """The page's data with some cells changed, removed or added, rows dropped or doubled."""
    records: list[object] = list(_records())
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(records) - 1))
        record = records[i]
        action = draw(st.sampled_from(["set", "drop", "add", "row", "swap"]))
        if action == "row":
            records[i] = draw(_VALUES)
        elif action == "swap":
            records.insert(draw(st.integers(0, len(records))), record)
        elif isinstance(record, dict) and record:
            record = dict(record)
            key = draw(st.sampled_from(sorted(record)))
            if action == "set":
                record[key] = draw(_VALUES)
            elif action == "drop":
                del record[key]
            else:
                record[draw(st.text(min_size=1, max_size=5))] = draw(_VALUES)
            records[i] = record
    return records


def _as_text(records: list[object], form: str) -> str:
    if form == "json":
        return json.dumps(records, allow_nan=True)
    if form == "jsonl":
        return "\n".join(json.dumps(r, allow_nan=True) for r in records)
    dicts = [r for r in records if isinstance(r, dict)]
    header = list(dict.fromkeys(k for r in dicts for k in r))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in dicts:
        writer.writerow(["null" if r.get(k) is None else
                         r[k] if isinstance(r[k], str) else json.dumps(r[k], allow_nan=True)
                         for k in header])
    return out.getvalue()


def _read(tmp: Path, name: str, text: str) -> None:
    """Reading gives rows or an SblError naming the file; rows read are rows that fit: sbl
    writes them and reads them back unchanged (nothing guessed that cannot be written)."""
    path = tmp / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        rows = read_data(path)
    except SblError as exc:
        message = exc.diagnostics[0].message
        assert name in message, message  # every error names the data file
        return
    for row in rows:
        assert_fits(row)
    rows.save(tmp / "back.json")
    assert [dict(r) for r in read_data(tmp / "back.json")] == [dict(r) for r in rows]


RESPONSE_TYPES = {"key": str, "option": int, "survey": dict}


def assert_fits(row: dict[str, object]) -> None:
    """docs/data.md's core columns, checked here independently of sbl.data.validate."""
    from sbl import kinds

    for name in ("participant", "trial", "kind"):
        assert isinstance(row[name], str) and row[name], (name, row)
    kind = kinds.get(str(row["kind"]))
    assert kind is not None, row
    index = row["trial_index"]
    assert type(index) is int and index >= 0, row
    rt = row.get("rt")
    assert rt is None or (type(rt) in (int, float) and rt >= 0), row
    expected = RESPONSE_TYPES.get(kind.answer.type.value)
    response = row.get("response")
    assert response is None or expected is None or type(response) is expected, row


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutated_records(), st.sampled_from(["json", "jsonl", "csv"]))
def test_mutated_page_data(tmp_path: Path, records: list[object], form: str) -> None:
    _read(tmp_path, f"d.{form}", _as_text(records, form))


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), st.sampled_from(["json", "jsonl", "csv"]))
def test_random_text_as_data(tmp_path: Path, text: str, form: str) -> None:
    _read(tmp_path, f"r.{form}", text)


@settings(max_examples=100, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_sbl_rows(tmp_path: Path, data: st.DataObject) -> None:
    """sbl's own CSV rows with characters deleted, doubled or replaced."""
    text = Path(MODEL_ROWS).read_text()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text) - 1))
        new = data.draw(st.sampled_from(["", ",", '"', "\n", "x", "9", "[", "NaN"]))
        text = text[:i] + new + text[i + 1:]
    _read(tmp_path, "m.csv", text)
