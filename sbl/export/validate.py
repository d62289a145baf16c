"""Check a folder against Psych-DS's required rules (the ones whose violation is an error in
``psych-ds/psych-DS``'s rules and conventions), so an export is known to be valid without the
official (JavaScript) validator:

- ``dataset_description.json`` at the root: JSON-LD with ``@context`` schema.org,
  ``@type`` Dataset, and ``name``, ``description`` and ``variableMeasured``;
- a ``data/`` folder holding at least one data file (``data/raw/`` is not looked at);
- data files named ``key-value`` keywords joined by ``_`` ending in ``_data.csv`` (key
  ``[a-z]+``, value ``[a-zA-Z0-9]+``);
- each CSV UTF-8, with a header row and the same number of cells in every row, its
  ``row_id`` (if any) unique;
- every column header of every data file listed in ``variableMeasured``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sbl.export.psych_ds import KEY, VALUE

CONTEXTS = ("https://schema.org", "https://schema.org/", "http://schema.org",
            "http://schema.org/")


def validate_psych_ds(directory: str | Path) -> list[str]:
    """Every way ``directory`` breaks a required Psych-DS rule; empty when it is valid."""
    folder = Path(directory)
    if not folder.is_dir():
        return [f"{folder}: not a folder"]
    errors, measured = _check_description(folder / "dataset_description.json")
    files = _data_files(folder / "data", errors)
    for path in files:
        header = _check_csv(path, errors)
        missing = [c for c in header if measured is not None and c not in measured]
        if missing:
            errors.append(f"{_rel(path, folder)}: columns not in variableMeasured: "
                          f"{', '.join(missing)}")
    return errors


def _rel(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


def _check_description(path: Path) -> tuple[list[str], set[str] | None]:
    """Problems of dataset_description.json, and the variable names it lists."""
    if not path.is_file():
        return ["dataset_description.json is missing"], None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"dataset_description.json is not valid JSON ({exc})"], None
    if not isinstance(meta, dict):
        return ["dataset_description.json must hold a JSON object"], None
    errors = []
    context = meta.get("@context")
    vocab = context.get("@vocab") if isinstance(context, dict) else context
    if vocab not in CONTEXTS:
        errors.append(f"dataset_description.json: @context must be \"https://schema.org\", "
                      f"found {json.dumps(context)}")
    if meta.get("@type") != "Dataset":
        errors.append(f"dataset_description.json: @type must be \"Dataset\", found "
                      f"{json.dumps(meta.get('@type'))}")
    for field in ("name", "description"):
        if not isinstance(meta.get(field), str) or not meta[field].strip():
            errors.append(f"dataset_description.json: '{field}' is required (a text)")
    names = _variables(meta.get("variableMeasured"), errors)
    return errors, names


def _variables(value: Any, errors: list[str]) -> set[str] | None:
    """The names in variableMeasured: texts, or PropertyValue objects with a name."""
    if not isinstance(value, list) or not value:
        errors.append("dataset_description.json: 'variableMeasured' is required (a list of "
                      "the column names)")
        return None
    names = set()
    for i, item in enumerate(value):
        if isinstance(item, str):
            names.add(item)
        elif (isinstance(item, dict) and item.get("@type") == "PropertyValue"
              and isinstance(item.get("name"), str)):
            names.add(item["name"])
        else:
            errors.append(f"dataset_description.json: variableMeasured[{i}] must be a text "
                          f"or a PropertyValue with a name")
    return names


def _data_files(data: Path, errors: list[str]) -> list[Path]:
    """The CSV files under data/ (outside data/raw), each name checked."""
    if not data.is_dir():
        errors.append("the data/ folder is missing")
        return []
    files = sorted(p for p in data.rglob("*.csv")
                   if "raw" not in p.relative_to(data).parts[:1])
    good = [p for p in files if _check_name(p, data, errors)]
    if not good:
        errors.append("data/ holds no data file (a CSV named like "
                      "study-x_subject-1_data.csv)")
    return good


def _check_name(path: Path, data: Path, errors: list[str]) -> bool:
    """Whether a data file's name is keywords followed by ``_data.csv``."""
    where = f"data/{path.relative_to(data)}"
    if not path.name.endswith("_data.csv"):
        errors.append(f"{where}: a data file's name must end in _data.csv")
        return False
    bad = [k for k in path.name.removesuffix("_data.csv").split("_") if not _keyword(k)]
    if bad:
        errors.append(f"{where}: {', '.join(repr(k) for k in bad)} is not a keyword "
                      f"(key-value, key [a-z]+, value [a-zA-Z0-9]+)")
    return True


def _keyword(text: str) -> bool:
    key, dash, value = text.partition("-")
    return bool(dash) and bool(KEY.match(key)) and bool(VALUE.match(value))


def _check_csv(path: Path, errors: list[str]) -> list[str]:
    """Problems of one CSV file (UTF-8, header, cells per row, unique row_id); its header."""
    where = f"data/{path.name}"
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        errors.append(f"{where}: not UTF-8")
        return []
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or not any(rows[0]):
        errors.append(f"{where}: no header row")
        return []
    header = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            errors.append(f"{where}, line {number}: {len(row)} cells, but the header has "
                          f"{len(header)}")
    if "row_id" in header:
        ids = [r[header.index("row_id")] for r in rows[1:] if len(r) == len(header)]
        if len(set(ids)) != len(ids):
            errors.append(f"{where}: row_id values are not unique")
    return header
