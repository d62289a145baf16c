"""Reading data into :class:`Rows`: jsPsych JSON or CSV from a compiled page, and sbl's own
CSV, JSON and JSONL rows. Rows that are not sbl trials (no ``trial`` field: preload,
fullscreen) are dropped; jsPsych's own fields are left out (see :mod:`sbl.data.schema`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sbl.data import schema
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
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _csv_records(text)
    elif suffix == ".jsonl":
        records = [_json(line, path, i + 1) for i, line in enumerate(text.splitlines())
                   if line.strip()]
    elif suffix == ".json":
        records = _json_records(text, path)
    else:
        raise SblError.at(None, f"cannot read data file '{path}': the name must end in "
                                ".json, .jsonl or .csv")
    return rows_from_records(records, origin=path.name)


def rows_from_records(records: list[Any], origin: str | None = None) -> Rows:
    """Rows from decoded records, jsPsych's or sbl's; remembers each one's record number."""
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    seeds: dict[str, int] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise SblError.at(None, f"{origin or 'data'}, row {number}: expected an object with "
                                    f"named fields, found {type(record).__name__}")
        row = schema.from_jspsych(record) if schema.is_jspsych(record) else (
            schema.normalise(record) if record.get("trial") else None)
        if row is None:
            continue
        seed = record.get("seed")
        if isinstance(seed, (int, float, str)) and str(seed).strip().isdigit():
            seeds.setdefault(row["participant"], int(str(seed).strip()) & 0xFFFFFFFF)
        rows.append(row)
        numbers.append(number)
    return Rows(rows, origin=origin, numbers=numbers, seeds=seeds)


def _json(text: str, path: Path, line: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SblError.at(None, f"{path.name}, line {line}: not valid JSON ({exc.msg})") from None


def _json_records(text: str, path: Path) -> list[Any]:
    """A JSON array of rows; also jsPsych's ``{"trials": [...]}`` and an array cut short."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        data = _repair(text)
        if data is None:
            raise SblError.at(None, f"{path.name}: not valid JSON ({exc.msg} at line "
                                    f"{exc.lineno})") from None
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
        data = json.loads(body + "]")
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def _csv_records(text: str) -> list[dict[str, Any]]:
    """CSV rows with a header; cells typed by :func:`schema.decode_cell`."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        return []
    # jsPsych's csv() writes null as the text "null"; sbl writes none as an empty cell.
    from_jspsych = "trial_type" in header
    out = []
    for cells in reader:
        if not any(cells):
            continue
        record = dict(zip(header, cells, strict=False))
        if from_jspsych:
            record = {k: "" if v == "null" else v for k, v in record.items()}
        declared = schema.declared_names(record.get("kind"))
        # Text columns stay text: a participant id "007" must not become the number 7. An
        # empty cell in a column this row's kind does not have is a column of other rows.
        out.append({name: cell if name in schema.TEXT_COLUMNS else schema.decode_cell(cell)
                    for name, cell in record.items() if cell != "" or name in declared})
    return out
