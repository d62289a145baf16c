"""Issue 13, item 1: data that does not fit the schema (docs/data.md) is rejected with the
data file, row and column, never guessed: no row dropped, no participants merged, no
response coerced. Every case here was accepted with exit 0 before."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.cli import main

from conftest import ROOT

BANDIT = ROOT / "examples" / "bandit.sbl"


@pytest.fixture(scope="module")
def rows_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two random participants' bandit rows, as `sbl run -o` writes them."""
    path = tmp_path_factory.mktemp("rows") / "rows.csv"
    sbl.load(BANDIT).run(sbl.participants.Random(seed=1), seed=1, participants=2,
                         output=path)
    return path


def table(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write(path: Path, lines: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(lines)
    return path


def edited(rows_csv: Path, tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    lines = table(rows_csv)
    edit(lines)
    return write(tmp_path / "bad.csv", lines)


def sbl_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "internal error" not in result.output, result.output
    return result.exit_code, result.output


def column(lines: list[list[str]], name: str) -> int:
    return lines[0].index(name)


def drop_column(name: str):  # type: ignore[no-untyped-def]
    def edit(lines: list[list[str]]) -> None:
        i = column(lines, name)
        for line in lines:
            del line[i]
    return edit


def set_cell(row: int, name: str, value: str):  # type: ignore[no-untyped-def]
    def edit(lines: list[list[str]]) -> None:
        lines[row][column(lines, name)] = value
    return edit


def first_bandit(lines: list[list[str]]) -> int:
    return next(i for i, line in enumerate(lines) if "bandit" in line)


@pytest.mark.parametrize("command", ["data", "compare", "export"])
def test_short_rows_are_an_error_not_dropped(rows_csv: Path, tmp_path: Path,
                                             command: str) -> None:
    bad = edited(rows_csv, tmp_path, lambda lines: lines.__setitem__(
        5, lines[5][:-3]))
    args = {"data": ["data", str(bad)], "compare": ["compare", str(bad)],
            "export": ["export", str(bad), "--psych-ds", str(tmp_path / "ds")]}[command]
    code, out = sbl_cli(*args)
    assert code == 1
    assert "bad.csv, row 5: this row has" in out and "but the header has" in out


@pytest.mark.parametrize("name", ["participant", "trial", "kind", "trial_index", "response"])
def test_a_missing_core_column_is_named(rows_csv: Path, tmp_path: Path, name: str) -> None:
    bad = edited(rows_csv, tmp_path, drop_column(name))
    code, out = sbl_cli("data", str(bad))
    assert code == 1 and f"column '{name}' is missing" in out and "bad.csv, row" in out


def test_export_refuses_rows_without_participants(rows_csv: Path, tmp_path: Path) -> None:
    bad = edited(rows_csv, tmp_path, drop_column("participant"))
    code, out = sbl_cli("export", str(bad), "--psych-ds", str(tmp_path / "ds"))
    assert code == 1 and "valid Psych-DS" not in out and "'participant' is missing" in out


@pytest.mark.parametrize("value, message", [
    ("left", "records an option index"),
    ("1.5", "records an option index"),
    ("-1", "records an option index"),
    ("7", "is not one of this trial's answers (0 to 1"),
    ('{"Q0":1}', "records an option index"),
])
def test_a_wrong_response_is_named(rows_csv: Path, tmp_path: Path, value: str,
                                   message: str) -> None:
    lines = table(rows_csv)
    row = first_bandit(lines)
    bad = edited(rows_csv, tmp_path, set_cell(row, "response", value))
    code, out = sbl_cli("data", str(bad))
    assert code == 1, out
    assert f"bad.csv, row {row}, column 'response'" in out and message in out


@pytest.mark.parametrize("name, value, message", [
    ("trial_index", "x", "expected a whole number"),
    ("rt", "slow", "expected a time in ms"),
    ("kind", "bandt", "did you mean 'bandit'"),
    ("participant", "", "every trial row names its participant"),
])
def test_wrong_core_cells_are_named(rows_csv: Path, tmp_path: Path, name: str, value: str,
                                    message: str) -> None:
    bad = edited(rows_csv, tmp_path, set_cell(3, name, value))
    code, out = sbl_cli("data", str(bad))
    assert code == 1 and "bad.csv, row 3" in out and message in out, out


def test_two_runs_of_one_participant_are_not_merged(rows_csv: Path, tmp_path: Path) -> None:
    lines = table(rows_csv)
    p = column(lines, "participant")
    bad = edited(rows_csv, tmp_path, lambda ls: [line.__setitem__(p, "1") for line in ls[1:]])
    code, out = sbl_cli("data", str(bad))
    assert code == 1 and "participant '1' already has a trial 0 (row 1)" in out
    assert f"row {sum(1 for line in lines[1:] if line[p] == '1') + 1}" in out


def test_an_sbl_file_is_not_data(tmp_path: Path) -> None:
    fake = tmp_path / "bandit.csv"
    fake.write_text(BANDIT.read_text())
    for command in (["data", str(fake)], ["compare", str(fake)],
                    ["data", str(BANDIT)]):
        code, out = sbl_cli(*command)
        assert code == 1, out


def test_unknown_by_column(rows_csv: Path) -> None:
    code, out = sbl_cli("compare", str(rows_csv), "--by", "scroe")
    assert code == 1 and "--by" in out and "'scroe'" in out and "did you mean 'score'" in out


def test_replay_errors_name_the_data_row(rows_csv: Path, tmp_path: Path) -> None:
    """An arm the experiment does not have, with the arms edited to match: the row is
    refused by replay, at the data file's row, not inside the kind's declaration."""
    lines = table(rows_csv)
    row = first_bandit(lines)
    arms = json.loads(lines[row][column(lines, "arms")])
    three = json.dumps(arms + [arms[0]], separators=(",", ":"))
    bad = edited(rows_csv, tmp_path, lambda ls: (set_cell(row, "arms", three)(ls),
                                                  set_cell(row, "response", "2")(ls)))
    code, out = sbl_cli("run", str(BANDIT), "--from", str(bad), "-p", "random")
    assert code == 1, out
    assert f"bad.csv, row {row}" in out and "<kind" not in out


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deep"),
    ('[{"participant": "1", "trial": "x", "kind": "text", "trial_index": 0, '
     '"response": NaN}]', "NaN is not a JSON number"),
    ('[{"participant": "1", "trial": "x", "kind": "blank", "trial_index": 0, '
     '"duration": ' + "[" * 500 + "]" * 500 + "}]", "nested more than 64 deep"),
])
def test_json_that_python_reads_but_data_cannot_hold(tmp_path: Path, text: str,
                                                     message: str) -> None:
    path = tmp_path / "d.json"
    path.write_text(text)
    code, out = sbl_cli("data", str(path))
    assert code == 1 and message in out and "d.json" in out, out
