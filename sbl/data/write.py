"""Writing rows as they are produced (DESIGN decision 10): each row is flushed when its trial
ends, so a crash loses nothing that was finished.

Formats by suffix: ``.csv`` (a header row, then one line per trial; cells as
:func:`schema.encode_cell` writes them), ``.jsonl`` (one JSON object per line) and ``.json``
(a JSON array; a run cut short leaves it without its closing ``]``, which
:func:`sbl.data.read_data` accepts).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from sbl.data import schema
from sbl.source import SblError

FORMATS = ("csv", "json", "jsonl")


def format_of(path: str | Path) -> str:
    """The format a file name asks for; an unknown suffix is an SblError."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise SblError.at(None, f"cannot write rows to '{path}': the name must end in "
                                f"{', '.join('.' + f for f in FORMATS)}")
    return suffix


class RowWriter:
    """Appends rows to a file (or an open text stream), one flush per row; use as a context
    manager."""

    def __init__(self, path: str | Path | IO[str], columns: Sequence[str],
                 fmt: str | None = None) -> None:
        self.columns = list(columns)
        self.count = 0
        self._owned = not hasattr(path, "write")
        if self._owned:
            self.format = fmt or format_of(path)  # type: ignore[arg-type]
            try:
                # Kept open across write() calls; close() (or the with-block) closes it.
                self._file: IO[str] = Path(path).open(  # type: ignore[arg-type]  # noqa: SIM115
                    "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise SblError.at(None, f"cannot write '{path}': {exc.strerror}") from None
        else:
            self.format = fmt or "csv"
            self._file = path  # type: ignore[assignment]
        self._csv = csv.writer(self._file, lineterminator="\n")
        if self.format == "csv":
            self._csv.writerow(self.columns)
        elif self.format == "json":
            self._file.write("[")
        self._file.flush()

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row and flush it to the operating system."""
        extra = set(row) - set(self.columns)
        if extra and self.format == "csv":
            raise ValueError(f"row has columns the header lacks: {sorted(extra)}")
        if self.format == "csv":
            self._csv.writerow([schema.encode_cell(row.get(c)) for c in self.columns])
        else:
            text = _json_object(row, self.columns)
            lead = ("\n" if self.count == 0 else ",\n") if self.format == "json" else ""
            self._file.write(lead + text + ("\n" if self.format == "jsonl" else ""))
        self.count += 1
        self._file.flush()

    def close(self) -> None:
        """Finish the file (a JSON array gets its closing bracket)."""
        if self._file.closed:
            return
        if self.format == "json":
            self._file.write("\n]\n")
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_object(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    """The row as one line of JSON, its keys in column order."""
    ordered = {c: row.get(c) for c in columns if c in row}
    ordered.update((k, v) for k, v in row.items() if k not in ordered)
    return json.dumps(ordered, ensure_ascii=False, allow_nan=False)


def write_rows(rows: Iterable[Mapping[str, Any]], path: str | Path,
               fmt: str | None = None) -> int:
    """Write all ``rows`` to ``path``; returns how many were written."""
    rows = list(rows)
    with RowWriter(path, schema.union_columns(rows), fmt) as writer:
        for row in rows:
            writer.write(row)
    return writer.count
