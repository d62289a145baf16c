"""CSV tables as plain data (sbl/passes/csv_table.py): the same rows and errors as reading the
file cell by cell with csv.reader, on either of the reader's two paths, and carried compactly
to the page."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sbl
from sbl import ir
from sbl import types as t
from sbl.backends.web import payload
from sbl.passes import csv_table
from sbl.passes.csv_table import read_csv
from sbl.passes.infer import column_type
from sbl.source import SblError

NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?\Z")


def reference(text: str) -> list[dict[str, object]] | str:
    """The rows as docs/language.md defines them, cell by cell with csv.reader: blank rows
    skipped, numbers and true/false typed, everything else text, and a column whose cells
    are not all numbers or all true/false kept as written; for a ragged row or a number too
    large, what the error says."""
    lines = list(csv.reader(io.StringIO(text, newline="")))
    header = [c.strip() for c in lines[0]]
    rows = []
    for cells in lines[1:]:
        if cells:
            if len(cells) != len(header):
                return "but the header has 2 cells"
            if any(typed(c) in (math.inf, -math.inf) for c in cells):
                return "is too large"
            rows.append(cells)
    columns = [[row[i] for row in rows] for i in range(len(header))]
    kept = [_one_group([typed(c) for c in column]) for column in columns]
    return [{name: typed(cells[i]) if kept[i] else cells[i] for i, name in enumerate(header)}
            for cells in rows]


def _one_group(values: list[object]) -> bool:
    """Whether typed cells are all numbers, all booleans or all text."""
    groups = {"bool" if isinstance(v, bool) else "number" if isinstance(v, int | float)
              else "text" for v in values}
    return len(groups) <= 1


def typed(cell: str) -> object:
    s = cell.strip()
    if NUMBER.match(s):
        v = float(s)
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return s == "true" if s in ("true", "false") else cell


CELL = st.text(alphabet=' ,"\r\nab-.e019', max_size=6) | st.sampled_from(
    ["true", "false", " 7", "-0", "2.50", "1e3", "RED", "9007199254740993"])


@settings(max_examples=500, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=2, max_size=2), max_size=8),
       crlf=st.booleans(), blank=st.booleans())
def test_rows_are_those_of_csv_reader(rows: list[list[str]], crlf: bool, blank: bool) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["a", "b"])
    writer.writerows(rows)
    # (writing with "\n", the writer leaves a cell's "\r" unquoted: a row breaks in two)
    text = out.getvalue() + ("\n" if blank else "")
    expected = reference(text)
    if isinstance(expected, str):
        with pytest.raises(SblError, match=expected):
            read_csv(text, "t.csv")
        return
    data, columns = read_csv(text, "t.csv")
    assert columns == ("a", "b")
    assert data.records() == expected


@pytest.mark.parametrize("quoted", [False, True])
def test_a_ragged_row_far_into_the_file_is_reported_at_its_line(quoted: bool) -> None:
    # More rows than one chunk of either path, so the bad row is in a later chunk.
    good = '"RED",red\n' if quoted else "RED,red\n"
    text = "word,color\n" + good * 300_000 + "GREEN\n" + good
    with pytest.raises(SblError) as caught:
        read_csv(text, "t.csv")
    diagnostic = caught.value.diagnostics[0]
    assert "this row has 1 cell but the header has 2" in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.line == 300_002


@pytest.mark.parametrize("quoted", [False, True])
def test_a_number_too_large_is_an_error_at_its_cell(quoted: bool) -> None:
    good = '"RED",1\n' if quoted else "RED,1\n"
    text = "word,n\n" + good * 200_000 + "GREEN,1e400\n"
    with pytest.raises(SblError) as caught:
        read_csv(text, "t.csv")
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.message == "the number 1e400 is too large (it is not finite)"
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.col) == (200_002, 7)


def test_both_paths_give_the_same_rows() -> None:
    plain = "w,n,x\n" + "".join(f"A{i % 5},{i},{i / 4}\n" for i in range(20_000))
    quoted = plain.replace("A1", '"A1"')  # a quote anywhere: the csv.reader path
    assert csv_table._plain(plain) is not None and csv_table._plain(quoted) is None
    fast, _ = read_csv(plain, "t.csv")
    careful, _ = read_csv(quoted, "t.csv")
    assert fast.records() == careful.records() == reference(plain)


def test_a_column_of_mixed_cells_is_text_as_written() -> None:
    """A column is numbers (or booleans) only when every cell is one: a word among numbers,
    or numbers among booleans, keep the whole column as written ("007" stays "007")."""
    text = "n,w,b,nb,e\n1,007,true,1,\n2.50,x,false,true,4\n"
    for body in (text, text.replace("x", '"x"')):  # both paths
        data, _ = read_csv(body, "t.csv")
        assert data.cells == ((1, 2.5), ("007", "x"), (True, False), ("1", "true"), ("", "4"))


def test_column_types_are_the_join_of_the_cells() -> None:
    assert column_type((1, 2, 3)) == t.INT
    assert column_type((1, 2.5)) == t.NUMBER
    assert column_type((1e21, 2.0**60)) == t.INT  # whole, as a literal 1e21 is
    assert column_type(("a", True)) == t.ANY
    assert column_type((True, False)) == t.BOOL


def test_the_page_carries_a_table_as_columns_of_values(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("word,n\nRED,1\nGREEN,2.5\n")
    (tmp_path / "x.sbl").write_text('experiment "x"\ntable t from "t.csv"\n'
                                    "block b over t {\n  text { text: word }\n}\n")
    experiment = sbl.load(tmp_path / "x.sbl").ir
    rows = payload.build(experiment, {})["experiment"]["decls"][0]["rows"]
    assert rows == {"node": "TableData", "columns": ["word", "n"],
                    "cells": [["RED", "GREEN"], [1, 2.5]],
                    "span": [str(tmp_path / "t.csv"), 1, 1, 1, 1]}
    assert ir.from_json(ir.to_json(experiment)) == experiment
    assert '"cells": [\n            ["RED", "GREEN"],\n            [1, 2.5]\n' in ir.to_json(
        experiment)  # a column on one line
    assert json.loads(ir.to_json(experiment)) == json.loads(ir.to_json(experiment, indent=None))
    assert [r["text"] for r in sbl.load(tmp_path / "x.sbl").run("random")] == ["RED", "GREEN"]
