"""The checked intermediate representation: the contract between the front end and both runtimes.

Every node is a frozen dataclass. Children are fields; the source position is the ``span``
attribute, which is kept out of ``==``, ``hash`` and ``repr`` so that two programs that differ
only in layout compare equal. The IR imports nothing else from ``sbl``.

The IR serialises to JSON (``to_json``/``from_json``) with a version key, ``"sbl-ir": 4``;
that JSON is what the browser runtime reads. Version 2 added custom data fields
(``Stimulus.data``, ``Block.data``), the condition columns rows record (``Block.columns``),
block headers for text participants (``Block.header``) and a CSV table's rows as plain data
(:class:`TableData`); version 3 between-participant groups (:class:`Group`) and
constraints on shuffled orders (``Block.constraints``); version 4 ``if`` statements in an
``after`` (:class:`Branch`). Earlier versions still read (they have none of these).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from dataclasses import dataclass, field
from typing import Any

IR_VERSION = 4
# IR versions from_json reads: each later one only added fields with defaults or nodes (3:
# the Group declaration; 4: Branch, an `if` in an `after`).
READABLE_VERSIONS = (1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file: 1-based line and column, end exclusive."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    # The whole text of the file, for quoting the line in a diagnostic; None when unknown
    # (IR read back from JSON). Not part of the span's identity, and not written to JSON.
    text: str | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def _span() -> Any:
    return field(default=None, compare=False, repr=False, hash=False, kw_only=True)


class Node:
    """Base of every IR node; gives them a common type for visitors."""

    __slots__ = ()
    span: Span | None


# ---------------------------------------------------------------- expressions


class UnaryOp(enum.Enum):
    """Prefix operators."""

    NEG = "-"
    NOT = "not"


class BinaryOp(enum.Enum):
    """Infix operators; ``AND`` and ``OR`` short-circuit."""

    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    FLOORDIV = "//"
    MOD = "%"
    POW = "^"
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    AND = "and"
    OR = "or"


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: a number, a string, ``true``/``false`` or ``none``."""

    value: int | float | str | bool | None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A reference to a column, shared variable, constant, loop variable or data field."""

    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Prev(Node):
    """The recorded data of the trial ``back`` trials before this one (``prev``, ``prev(2)``)."""

    back: int
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Attr(Node):
    """Field access on a record: ``obj.name``."""

    obj: Expr
    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Index(Node):
    """Indexing a list or string by position, or a record by field name: ``obj[index]``."""

    obj: Expr
    index: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Slice(Node):
    """Part of a list or string: ``obj[start:stop]``, either bound optional, as in Python."""

    obj: Expr
    start: Expr | None
    stop: Expr | None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """A prefix operator applied to one operand."""

    op: UnaryOp
    operand: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """An infix operator applied to two operands."""

    op: BinaryOp
    left: Expr
    right: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Cond(Node):
    """``if test then then else otherwise``."""

    test: Expr
    then: Expr
    otherwise: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Template(Node):
    """An interpolated string: literal text and ``{expr}`` holes, in order."""

    parts: tuple[str | Expr, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    """A list display: ``[a, b, c]``."""

    items: tuple[Expr, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Field(Node):
    """One ``name: value`` pair of a record display."""

    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class RecordExpr(Node):
    """A record display: ``{color: "blue", value: 3}``."""

    fields: tuple[Field, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Range(Node):
    """An inclusive integer range: ``start..stop``."""

    start: Expr
    stop: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Comprehension(Node):
    """``for var in iterable [if condition] body``: a list with one item per kept element."""

    body: Expr
    var: str
    iterable: Expr
    condition: Expr | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of a builtin function, with positional and named arguments."""

    func: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[Field, ...] = ()
    span: Span | None = _span()


Cell = int | float | str | bool


@dataclass(frozen=True, slots=True)
class TableData(Node):
    """A table's rows as plain data (a CSV file's cells, typed): it evaluates to a list of
    records with the fields ``columns``, one per row.

    ``cells`` is column-major, one tuple of values per column, all of the same length: a
    table of millions of cells costs a pointer per cell, with no node or span per cell.
    """

    columns: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    span: Span | None = _span()

    def __len__(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    def records(self) -> list[dict[str, Cell]]:
        """The rows as records, in order."""
        return [dict(zip(self.columns, row, strict=True)) for row in zip(*self.cells, strict=True)]


Expr = (Literal | Name | Prev | Attr | Index | Slice | Unary | Binary | Cond | Template | ListExpr
        | RecordExpr | Range | Comprehension | Call | TableData)

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Param(Node):
    """A stimulus or experiment parameter: ``name: value``."""

    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Assign(Node):
    """A side effect: ``target = value``, run after the trial's response, in order."""

    target: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Branch(Node):
    """``if test { then } else { otherwise }`` in an ``after``: runs one list of statements.

    ``else if`` is an ``otherwise`` of one ``Branch``; no ``else`` is an empty one."""

    test: Expr
    then: tuple[Statement, ...]
    otherwise: tuple[Statement, ...] = ()
    span: Span | None = _span()


Statement = Assign | Branch


def assigns(statements: tuple[Statement, ...]) -> typing.Iterator[Assign]:
    """Every assignment in ``statements``, in both arms of each ``if``, in source order."""
    for s in statements:
        if isinstance(s, Branch):
            yield from assigns(s.then)
            yield from assigns(s.otherwise)
        else:
            yield s


@dataclass(frozen=True, slots=True)
class Stimulus(Node):
    """One trial of a given kind; ``id`` is stable and unique in the experiment.

    ``data`` are custom data fields: named expressions recorded in the trial's row."""

    id: str
    kind: str
    params: tuple[Param, ...] = ()
    after: tuple[Statement, ...] = ()
    data: tuple[Param, ...] = ()
    span: Span | None = _span()


class Order(enum.Enum):
    """How a block visits its rows."""

    SEQUENTIAL = "sequential"
    SHUFFLE = "shuffle"


class Rule(enum.Enum):
    """What a constraint on a shuffled order limits."""

    MAX_RUN = "max_run"
    MIN_DISTANCE = "min_distance"
    NO_REPEAT = "no_repeat"


@dataclass(frozen=True, slots=True)
class Constraint(Node):
    """A constraint on a block's shuffled order, on the values of ``column`` (whole rows when
    None): at most ``count`` in a row (``max_run``), equal ones at least ``count`` positions
    apart (``min_distance``), or no two in a row (``no_repeat``, ``count`` None)."""

    rule: Rule
    column: str | None
    count: int | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Block(Node):
    """A timeline node: its body runs once per row of ``over`` (once if there is none).

    ``over`` is evaluated at the start of each repetition. ``sample`` takes that many rows
    without replacement after ordering; ``condition`` skips the block when false at its start;
    ``until`` makes it a loop, run again (at most ``max_loops`` times) until the condition holds.
    ``data`` are custom data fields every trial below it records (a trial's own come after).
    ``columns`` are the condition columns each trial below it records: the fields of its
    ``over`` rows, as the check pass found them (empty before that pass).
    ``header`` is text only a text participant reads, before each pass (``header:`` in its body).
    ``gap`` is the blank screen after each of its trials that gives none (``gap:`` in its body).
    ``style`` is how the page looks during its trials (``style:`` in its body, a record
    written there); the ``inherit`` pass merges it into each trial's own ``style``.
    ``constraints`` limit the shuffled order (``max_run``, ``min_distance``, ``no_repeat``).
    """

    name: str
    body: tuple[Block | Stimulus, ...]
    over: Expr | None = None
    order: Order = Order.SEQUENTIAL
    repeat: int = 1
    sample: int | None = None
    condition: Expr | None = None
    until: Expr | None = None
    max_loops: int | None = None
    data: tuple[Param, ...] = ()
    columns: tuple[str, ...] = ()
    header: Expr | None = None
    gap: Expr | None = None
    style: Expr | None = None
    constraints: tuple[Constraint, ...] = ()
    span: Span | None = _span()


Item = Block | Stimulus


@dataclass(frozen=True, slots=True)
class Shared(Node):
    """A variable shared by all trials, changed only by side effects."""

    name: str
    init: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Let(Node):
    """A named constant, evaluated once per participant before the first trial."""

    name: str
    value: Expr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Table(Node):
    """A trial table: an expression giving a list of records; ``columns`` are their fields.

    A table read from a CSV file keeps the file name in ``source`` and its rows as
    :class:`TableData`.
    """

    name: str
    rows: Expr
    columns: tuple[str, ...] = ()
    source: str | None = None
    span: Span | None = _span()


class GroupSource(enum.Enum):
    """Where a participant's group comes from (``by ...``): see :mod:`sbl.groups`."""

    PARTICIPANT = "participant"
    URL = "url"
    JATOS = "jatos"


@dataclass(frozen=True, slots=True)
class Group(Node):
    """Between-participant groups: ``group name in groups by source``.

    ``groups`` is a list of records; each participant is assigned one (:mod:`sbl.groups`),
    bound to ``name`` and recorded by number (from 1) in every row's ``group`` column.
    ``param`` is the URL parameter of ``by url "NAME"``.
    """

    name: str
    groups: Expr
    source: GroupSource = GroupSource.PARTICIPANT
    param: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Experiment(Node):
    """A whole checked program. Declarations are evaluated in the order of ``decls``."""

    title: str
    settings: tuple[Param, ...] = ()
    decls: tuple[Shared | Let | Table | Group, ...] = ()
    body: tuple[Item, ...] = ()
    span: Span | None = _span()

    @property
    def group(self) -> Group | None:
        """The group declaration, if the experiment has between-participant groups."""
        return next((d for d in self.decls if isinstance(d, Group)), None)

    @property
    def shared(self) -> tuple[Shared, ...]:
        """The shared variables, in declaration order."""
        return tuple(d for d in self.decls if isinstance(d, Shared))

    @property
    def tables(self) -> tuple[Table, ...]:
        """The tables, in declaration order."""
        return tuple(d for d in self.decls if isinstance(d, Table))

    def setting(self, name: str) -> Expr | None:
        """The value of an experiment setting, or None when it is not given."""
        return next((p.value for p in self.settings if p.name == name), None)


NODE_CLASSES: tuple[type[Node], ...] = (
    Literal, Name, Prev, Attr, Index, Slice, Unary, Binary, Cond, Template, ListExpr, Field,
    RecordExpr, Range, Comprehension, Call, TableData, Param, Assign, Branch, Stimulus, Constraint,
    Block, Shared, Let, Table, Group, Experiment,
)
EXPR_CLASSES: tuple[type[Node], ...] = typing.get_args(Expr)


def walk(node: Any) -> typing.Iterator[Node]:
    """Yield ``node`` and every node below it, depth first, in field order."""
    if isinstance(node, Node):
        yield node
        if isinstance(node, TableData):
            return  # plain data: no node below it
        for f in dataclasses.fields(node):  # type: ignore[arg-type]
            yield from walk(getattr(node, f.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from walk(item)


def stimuli(items: typing.Iterable[Item]) -> typing.Iterator[Stimulus]:
    """Every stimulus below ``items``, in source order."""
    for item in items:
        if isinstance(item, Stimulus):
            yield item
        else:
            yield from stimuli(item.body)


# ---------------------------------------------------------------- JSON

_BY_NAME: dict[str, type[Node]] = {cls.__name__: cls for cls in NODE_CLASSES}


def to_data(node: Any) -> Any:
    """Turn IR into plain JSON data: each node a dict with ``"node"`` naming its class."""
    if isinstance(node, Node):
        out: dict[str, Any] = {"node": type(node).__name__}
        if isinstance(node, TableData):  # plain data: json writes the tuples as they are
            out.update(columns=node.columns, cells=node.cells)
            if node.span is not None:
                out["span"] = _span_data(node.span)
            return out
        for f in dataclasses.fields(node):  # type: ignore[arg-type]
            value = getattr(node, f.name)
            if f.name == "span":
                if value is not None:
                    out["span"] = _span_data(value)
            else:
                out[f.name] = to_data(value)
        return out
    if isinstance(node, enum.Enum):
        return node.value
    if isinstance(node, tuple):
        return [to_data(item) for item in node]
    return node


def _span_data(span: Span) -> list[Any]:
    return [span.path, span.line, span.col, span.end_line, span.end_col]


def from_data(data: Any) -> Any:
    """Inverse of :func:`to_data`."""
    if isinstance(data, list):
        return tuple(from_data(item) for item in data)
    if not isinstance(data, dict):
        return data
    cls = _BY_NAME[data["node"]]
    if cls is TableData:
        span = Span(*data["span"]) if "span" in data else None
        return TableData(tuple(data["columns"]), tuple(map(tuple, data["cells"])), span=span)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        raw = data[f.name]
        if f.name == "span":
            kwargs["span"] = Span(*raw)
        elif f.name == "op":
            kwargs["op"] = (UnaryOp if cls is Unary else BinaryOp)(raw)
        elif f.name == "order":
            kwargs["order"] = Order(raw)
        elif f.name == "rule":
            kwargs["rule"] = Rule(raw)
        elif f.name == "source" and cls is Group:
            kwargs["source"] = GroupSource(raw)
        else:
            kwargs[f.name] = from_data(raw)
    return cls(**kwargs)


def to_json(experiment: Experiment, *, indent: int | None = 2) -> str:
    """The versioned JSON form of an experiment; indented, a table's column is one line (and
    written by json's fast encoder, which does not indent)."""
    data = {"sbl-ir": IR_VERSION, "experiment": to_data(experiment)}
    if indent is None:
        return json.dumps(data, ensure_ascii=False)
    pieces = dumps_cells_apart(data, lambda d: json.dumps(d, indent=indent, ensure_ascii=False),
                               lambda column: json.dumps(column, ensure_ascii=False))
    return "".join(pieces)


CELLS_STAND_IN = "\0cells\0"  # a table column's place while the rest is written


def dumps_cells_apart(data: Any, dumps: typing.Callable[[Any], str],
                      dumps_column: typing.Callable[[Any], str]) -> list[str]:
    """JSON text of ``data`` (from :func:`to_data`) in pieces, each table column written
    apart by ``dumps_column`` and the rest by ``dumps``: a table of millions of cells is
    written by the fast encoder, one column at a time."""
    columns: list[Any] = []
    rest = _cells_apart(data, columns)
    text = dumps(rest)
    stand_in = dumps(CELLS_STAND_IN)
    parts = text.split(stand_in)
    if len(parts) != len(columns) + 1:  # a string of the program's own looks like a stand-in
        return [dumps(data)]
    pieces = [parts[0]]
    for column, after in zip(columns, parts[1:], strict=True):
        pieces += [dumps_column(column), after]
    return pieces


def _cells_apart(data: Any, columns: list[Any]) -> Any:
    """``data`` with each table column replaced by the stand-in, the columns appended to
    ``columns`` in the order they will be written."""
    if isinstance(data, list):
        return [_cells_apart(item, columns) for item in data]
    if not isinstance(data, dict):
        return data
    if data.get("node") == "TableData":
        columns.extend(data["cells"])
        return {**data, "cells": [CELLS_STAND_IN] * len(data["cells"])}
    return {key: _cells_apart(value, columns) for key, value in data.items()}


def from_json(text: str) -> Experiment:
    """Read the JSON written by :func:`to_json` (or by an earlier version); rejects others."""
    data = json.loads(text)
    if data.get("sbl-ir") not in READABLE_VERSIONS:
        raise ValueError(f"unsupported IR version {data.get('sbl-ir')!r}; expected one of "
                         f"{', '.join(map(str, READABLE_VERSIONS))}")
    experiment = from_data(data["experiment"])
    assert isinstance(experiment, Experiment)
    return experiment
