"""Reading data into :class:`Rows`: jsPsych JSON or CSV from a compiled page, and sbl's own
CSV, JSON and JSONL rows. jsPsych rows that are not sbl trials (no ``trial`` field: preload,
fullscreen) are dropped; jsPsych's own fields are left out (see :mod:`sbl.data.schema`).
Every trial row is checked against the schema (:mod:`sbl.data.validate`): what does not fit
is an error naming the file, the row and the column."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sbl.data import schema, validate
from sbl.data.rows import Rows
from sbl.source import SblError


def read_data(path: str | Path) -> Rows:
    """Rows in the one schema from a data file (.json, .jsonl or .csv, from the page or sbl)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SblError.at(None, f"cannot read data file '{path}': {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SblError.at(None, f"the data file '{path}' is not UTF-8 text") from None
    return read_text(text, path)


def read_text(text: str, path: Path) -> Rows:
    """Rows from the text of a data file; ``path``'s suffix says the format."""
    suffix = path.suffix.lower()
    numbers = None
    if suffix == ".csv":
        numbers, records = _csv_records(text, path)
    elif suffix == ".jsonl":
        records = [_json(line, path, i + 1) for i, line in enumerate(text.splitlines())
                   if line.strip()]
    elif suffix == ".json":
        records = _json_records(text, path)
    else:
        raise SblError.at(None, f"cannot read data file '{path}': the name must end in "
                                ".json, .jsonl or .csv")
    return rows_from_records(records, origin=path.name, numbers=numbers)


def rows_from_records(records: list[Any], origin: str | None = None,
                      numbers: list[int] | None = None) -> Rows:
    """Rows from decoded records, jsPsych's or sbl's; remembers each one's record number
    (``numbers``, when given, are the records' numbers in the file)."""
    rows: list[dict[str, Any]] = []
    kept: list[int] = []
    seeds: dict[str, int] = {}
    seen = validate.Seen(origin)
    for number, record in zip(numbers or range(1, len(records) + 1), records, strict=True):
        row = _row(record, origin, number)
        if row is None:
            continue
        seen.add(row, number)
        seed = record.get("seed")
        if isinstance(seed, (int, float, str)) and str(seed).strip().isdigit():
            seeds.setdefault(row["participant"], int(str(seed).strip()) & 0xFFFFFFFF)
        rows.append(row)
        kept.append(number)
    if not rows:
        found = "no row has a 'trial'" if records else "it has no rows"
        raise SblError.at(None, f"{origin or 'the data'} holds no trials of an sbl experiment "
                                f"({found})")
    return Rows(rows, origin=origin, numbers=kept, seeds=seeds)


def _row(record: Any, origin: str | None, number: int) -> dict[str, Any] | None:
    """The checked sbl row of one record, or None for a jsPsych row that is not an sbl trial."""
    if not isinstance(record, Mapping):
        raise validate.fail(origin, number, f"expected an object with named fields, found "
                                            f"{type(record).__name__}")
    jspsych = schema.is_jspsych(record)
    if jspsych and not record.get("trial"):
        return None
    validate.check_present(record, origin, number)
    row = schema.from_jspsych(record) if jspsych else schema.normalise(record)
    assert row is not None
    validate.check_row(row, origin, number)
    return row


def _json(text: str, path: Path, line: int) -> Any:
    try:
        return schema.loads(text)
    except json.JSONDecodeError as exc:
        raise SblError.at(None, f"{path.name}, line {line}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise SblError.at(None, f"{path.name}, line {line}: not valid JSON ({exc})") from None


def _json_records(text: str, path: Path) -> list[Any]:
    """A JSON array of rows; also jsPsych's ``{"trials": [...]}`` and an array cut short."""
    try:
        data = schema.loads(text)
    except json.JSONDecodeError as exc:
        data = _repair(text)
        if data is None:
            raise SblError.at(None, f"{path.name}: not valid JSON ({exc.msg} at line "
                                    f"{exc.lineno})") from None
    except ValueError as exc:
        raise SblError.at(None, f"{path.name}: not valid JSON ({exc})") from None
    if isinstance(data, Mapping) and isinstance(data.get("trials"), list):
        data = data["trials"]
    if not isinstance(data, list):
        raise SblError.at(None, f"{path.name}: expected a JSON array of trial rows")
    return data


def _repair(text: str) -> list[Any] | None:
    """The rows of a JSON array whose writer stopped before the closing ``]``."""
    body = text.rstrip().rstrip(",")
    if not body.lstrip().startswith("["):
        return None
    try:
        data = schema.loads(body + "]")
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def _csv_records(text: str, path: Path) -> tuple[list[int], list[dict[str, Any]]]:
    """CSV rows with a header; cells typed by :func:`schema.decode_cell`. A row with more or
    fewer cells than the header is an error, never a row with columns guessed."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            return [], []
        _check_header(header, path)
        return _csv_body(reader, header, path)
    except csv.Error as exc:
        raise SblError.at(None, f"{path.name}, row {reader.line_num - 1}: not valid CSV "
                                f"({exc})") from None


def _check_header(header: list[str], path: Path) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise SblError.at(None, f"{path.name}: the column '{name}' appears twice in the "
                                    f"header")
        seen.add(name)


def _csv_body(reader: Any, header: list[str],
              path: Path) -> tuple[list[int], list[dict[str, Any]]]:
    """Each non-blank row's number (1 is the first after the header) and its typed cells."""
    # jsPsych's csv() writes null as the text "null"; sbl writes none as an empty cell.
    from_jspsych = "trial_type" in header
    numbers, out = [], []
    for number, cells in enumerate(reader, start=1):
        if not any(cells):
            continue
        if len(cells) != len(header):
            raise SblError.at(None, f"{path.name}, row {number}: this row has {len(cells)} "
                                    f"cell{'s' if len(cells) != 1 else ''} but the header "
                                    f"has {len(header)}")
        record = dict(zip(header, cells, strict=True))
        if from_jspsych:
            record = {k: "" if v == "null" else v for k, v in record.items()}
        declared = schema.declared_names(record.get("kind"))
        # Text columns stay text: a participant id "007" must not become the number 7. An
        # empty cell in a column this row's kind does not have is a column of other rows.
        numbers.append(number)
        out.append({name: cell if name in schema.TEXT_COLUMNS else schema.decode_cell(cell)
                    for name, cell in record.items() if cell != "" or name in declared})
    return numbers, out
