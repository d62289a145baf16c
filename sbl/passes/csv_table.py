"""Reading a CSV table into typed plain data (:class:`sbl.ir.TableData`), in time and memory
linear in the file.

The file is read a chunk of rows at a time, each chunk turned into one list of cell texts per
column and typed through a per-column cache of the texts seen (tables repeat their values), so
no node, span or per-row object outlives its chunk. A file without quotes or bare carriage
returns is split with ``str.split`` (what the ``csv`` module would do with it, only faster);
any other file goes through ``csv.reader``. A problem found (a ragged row, a number too large)
is reported at the CSV row's line, and column for a cell.

A column is numbers only when every cell is a number, booleans only when every cell is true
or false; any other column is text, every cell as written (``007`` stays ``007``): a file with
such a column is read a second time, keeping those columns' texts.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat

from sbl import ir
from sbl.source import SblError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?\Z")
_CHUNK_ROWS = 4096  # rows at a time through csv.reader
_CHUNK_CHARS = 1 << 20  # characters at a time through str.split
_CACHED = 4096  # distinct texts a column's cache keeps before it starts afresh


def read_csv(text: str, path: str) -> tuple[ir.TableData, tuple[str, ...]]:
    """The rows of a CSV file with a header row, as typed plain data, and its column names."""
    first = next(csv.reader(_lines(text)), None)
    if first is None or not any(cell.strip() for cell in first):
        raise SblError.at(ir.Span(path, 1, 1, 1, 1, text), "the CSV file is empty: it needs a "
                          "header row naming the columns")
    header = [cell.strip() for cell in first]
    _check_header(header, path, text)
    columns = _typed_columns(text, header, path, frozenset())
    mixed = frozenset(i for i, cache in enumerate(columns.caches) if _mixed(cache.types))
    if mixed:  # read again, keeping every cell of those columns as written
        columns.cells.clear()  # (the first reading's cells go first: one copy at a time)
        columns = _typed_columns(text, header, path, mixed)
    cells = columns.cells
    for index, column in enumerate(cells):  # one column at a time: never two copies of all
        cells[index] = tuple(column)  # type: ignore[call-overload]
    first_line = text[:text.find("\n")] if "\n" in text else text
    data = ir.TableData(tuple(header), tuple(cells),  # type: ignore[arg-type]
                        span=ir.Span(path, 1, 1, 1, 1, first_line))
    return data, tuple(header)


def _typed_columns(text: str, header: list[str], path: str,
                   as_text: frozenset[int]) -> _Columns:
    """The cells below the header, by column, typed except in the columns ``as_text``."""
    columns = _Columns(header, path, text, as_text)
    plain = _plain(text)
    if plain is None or not columns.fill(_split_chunks(plain, plain.find("\n") + 1,
                                                       len(header))):
        columns = _Columns(header, path, text, as_text)  # start again, the careful way
        columns.fill(_csv_chunks(_rows_after_header(text), len(header), path, text))
    return columns


def _rows_after_header(text: str) -> Iterator[list[str]]:
    reader = csv.reader(_lines(text))
    next(reader, None)
    return reader


# The groups of cell types a column's cells must keep to, one group a column, to be typed:
# numbers, or booleans; a column with a text cell, or with numbers and booleans, is text.
_GROUPS = ({int, float}, {bool})


def _mixed(found: set[type]) -> bool:
    """Whether a column whose cells have the types ``found`` mixes groups (numbers,
    booleans, text)."""
    return len(found) > 1 and not any(found <= group for group in _GROUPS)


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, as ``io.StringIO(text, newline="")`` gives them
    to csv.reader, without the copy of the whole text, four bytes a character, it makes."""
    return (match.group() for match in _LINE.finditer(text))


@dataclass
class _Chunk:
    """Some consecutive rows: their cell texts by column, each row's cells and start line."""

    texts: list[list[str]]
    row: Callable[[int], list[str]]
    line: Callable[[int], int]


class _Columns:
    """Typed columns, filled a chunk at a time."""

    def __init__(self, header: list[str], path: str, text: str,
                 as_text: frozenset[int] = frozenset()) -> None:
        self.path, self.text = path, text
        self.cells: list[list[ir.Cell]] = [[] for _ in header]
        self.caches = [_Text() if i in as_text else _Typed() for i in range(len(header))]

    def fill(self, chunks: Iterator[_Chunk | None]) -> bool:
        """Add every chunk; False when one is None (the fast path gave up on the file)."""
        for chunk in chunks:
            if chunk is None:
                return False
            for index, (column, cache) in enumerate(zip(self.cells, self.caches, strict=True)):
                try:
                    column.extend(map(cache.__getitem__, chunk.texts[index]))
                except _NotFinite as exc:
                    self._too_large(chunk, index, exc.text)
        return True

    def _too_large(self, chunk: _Chunk, index: int, cell: str) -> None:
        row = chunk.texts[index].index(cell)
        line = chunk.line(row)
        col = len(",".join(chunk.row(row)[:index])) + 1 + (index > 0)
        raise SblError.at(ir.Span(self.path, line, col, line, col + len(cell), self.text),
                          f"the number {cell.strip()} is too large (it is not finite)",
                          help="numbers in sbl stay below about 1.8e308") from None


def _plain(text: str) -> str | None:
    """The file when it can be split on commas and newlines exactly as csv.reader reads it (no
    quotes, no bare carriage returns; CRLF made LF); None otherwise."""
    if '"' in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    return text


def _split_chunks(body: str, start: int, width: int) -> Iterator[_Chunk | None]:
    """Chunks of a plain file's rows from offset ``start`` (line 2); None for a blank or
    ragged row, which csv.reader (skipping or reporting it) handles instead."""
    line = 2
    if start == 0:  # the header is the only line
        return
    while start < len(body):
        end = body.find("\n", start + _CHUNK_CHARS)
        end = len(body) if end < 0 else end + 1
        piece = body[start:end].removesuffix("\n")
        rows = piece.split("\n")
        if "" in rows or set(map(str.count, rows, repeat(","))) != {width - 1}:
            yield None
            return
        yield _flat_chunk(piece.replace("\n", ",").split(","), width, line)
        start, line = end, line + len(rows)


def _flat_chunk(flat: list[str], width: int, first: int) -> _Chunk:
    """The chunk of rows whose cells are ``flat``, row after row, starting on line ``first``."""
    return _Chunk([flat[c::width] for c in range(width)],
                  lambda i: flat[i * width:(i + 1) * width], lambda i: first + i)


def _csv_chunks(reader: Iterator[list[str]], width: int, path: str,
                text: str) -> Iterator[_Chunk]:
    """Chunks of rows from csv.reader (whose ``line_num`` gives each row's line), blank rows
    skipped; a ragged row is an error at its line, once the rows before it are typed."""
    rows: list[list[str]] = []
    lines: list[int] = []
    line = reader.line_num + 1  # type: ignore[attr-defined]
    for cells in reader:
        if cells:
            if len(cells) != width:
                yield _rows_chunk(rows, lines, width)  # a problem above it is reported first
                span = ir.Span(path, line, 1, line, len(",".join(cells)) + 1, text)
                raise SblError.at(span, f"this row has {_cells(len(cells))} but the header "
                                  f"has {_cells(width)}", help="every row needs one cell per "
                                  "column")
            rows.append(cells)
            lines.append(line)
        line = reader.line_num + 1  # type: ignore[attr-defined]
        if len(rows) >= _CHUNK_ROWS:
            yield _rows_chunk(rows, lines, width)
            rows, lines = [], []
    yield _rows_chunk(rows, lines, width)


def _rows_chunk(rows: list[list[str]], lines: list[int], width: int) -> _Chunk:
    return _Chunk([[cells[c] for cells in rows] for c in range(width)], rows.__getitem__,
                  lines.__getitem__)


class _Typed(dict[str, ir.Cell]):
    """Cell text -> value, computed on first sight: columns repeat their values. ``types``:
    the Python types of the values computed (so of every cell), kept across clearings."""

    def __init__(self) -> None:
        super().__init__()
        self.types: set[type] = set()

    def __missing__(self, text: str) -> ir.Cell:
        if len(self) >= _CACHED:
            self.clear()  # a column of distinct values: bounded memory, not a growing cache
        value = self[text] = _cell(text)
        self.types.add(type(value))
        return value


class _Text(_Typed):
    """Cell text -> itself: a text column keeps every cell as written."""

    def __missing__(self, text: str) -> ir.Cell:
        return text


class _NotFinite(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _cell(text: str) -> ir.Cell:
    """A CSV cell as a value: numbers and true/false are typed, everything else is text."""
    stripped = text.strip()
    if _NUMBER.match(stripped):
        value = float(stripped)
        if not math.isfinite(value):
            raise _NotFinite(text)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if stripped in ("true", "false"):
        return stripped == "true"
    return text


def looks_typed(text: ir.Cell) -> str:
    """What a cell kept as text would be typed as alone: "a number", "true or false", or
    "text" (for errors about a column that its other cells made text)."""
    stripped = str(text).strip()
    return "a number" if _NUMBER.match(stripped) else \
        "true or false" if stripped in ("true", "false") else "text"


def _check_header(header: list[str], path: str, text: str) -> None:
    col = 1
    for name in header:
        span = ir.Span(path, 1, col, 1, col + max(1, len(name)), text)
        if not _IDENT.match(name):
            raise SblError.at(span, f"the column name {name!r} is not a name sbl can use",
                              help="use letters, digits and '_', not starting with a digit")
        if header.count(name) > 1:
            raise SblError.at(span, f"the column '{name}' appears twice in the header")
        col += len(name) + 1


def _cells(n: int) -> str:
    return f"{n} cell{'s' if n != 1 else ''}"
