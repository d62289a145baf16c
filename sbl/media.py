"""Media files: which files an experiment can show, and whether each is there.

A media parameter (type ``media`` in a kind's declaration) names a file by a path relative
to the ``.sbl`` file, also when the path comes from a CSV table or an expression. The checker
lists every path a stimulus can name (:mod:`sbl.listing` states the rule), so that
:func:`uses` knows every file before the run: ``sbl check`` and the page's compiler read them
(:func:`files`), the page preloads them, and a text run never needs them: it reads each
stimulus's ``description`` instead (DESIGN decision 12).
"""

from __future__ import annotations

import csv
import difflib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sbl import ir, kinds, listing, markup, types
from sbl.listing import Binding, Env, Unlistable
from sbl.source import Diagnostic, SblError, read_source
from sbl.values import Value, truthy

# File name endings the page can show, by class, with the MIME type of each.
TYPES: dict[str, tuple[str, str]] = {
    ".png": ("image", "image/png"), ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"), ".gif": ("image", "image/gif"),
    ".svg": ("image", "image/svg+xml"), ".webp": ("image", "image/webp"),
    ".bmp": ("image", "image/bmp"),
    ".wav": ("audio", "audio/wav"), ".mp3": ("audio", "audio/mpeg"),
    ".ogg": ("audio", "audio/ogg"), ".oga": ("audio", "audio/ogg"),
    ".m4a": ("audio", "audio/mp4"), ".flac": ("audio", "audio/flac"),
    ".mp4": ("video", "video/mp4"), ".m4v": ("video", "video/mp4"),
    ".webm": ("video", "video/webm"), ".ogv": ("video", "video/ogg"),
}
# The most rows (combinations of the open blocks' rows) the lister visits for one stimulus.
MAX_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class Use:
    """One file a stimulus can show: the path as written, its class (image, audio, video),
    and where it is named (the CSV cell it came from, else the parameter's value)."""

    path: str
    media: str
    span: ir.Span | None


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file found on disk: its path as written, class, MIME type and location."""

    path: str
    media: str
    mime: str
    file: Path

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return self.file.stat().st_size


def base_dir(experiment: ir.Experiment) -> Path:
    """The folder media paths are relative to: the .sbl file's."""
    return Path(experiment.span.path).parent if experiment.span else Path(".")


def uses(experiment: ir.Experiment) -> list[Use]:
    """Every media file the experiment can show, once each, in source order; an SblError
    lists each media value that cannot be listed or is no media file (no file is read)."""
    stims = [s for s in ir.stimuli(experiment.body) if _shows_media(s)]
    if not stims:
        return []
    lister = _Lister(experiment)
    lister.items(experiment.body, [_Row()])
    if lister.errors:
        raise SblError(lister.errors)
    first: dict[str, Use] = {}
    for use in lister.found:
        first.setdefault(use.path, use)  # reported where it is first named
    return list(first.values())


def files(experiment: ir.Experiment) -> list[MediaFile]:
    """The experiment's media files, each checked to be a readable file; an SblError names
    every one that is not, where it is named."""
    base = base_dir(experiment)
    errors: list[Diagnostic] = []
    found: list[MediaFile] = []
    for use in uses(experiment):
        path = base / use.path
        problem = _unreadable(path)
        if problem:
            errors.append(Diagnostic(f"{problem} the {use.media} file '{use.path}'", use.span,
                                     help=_nearby(use.path, path) or
                                     f"looked for {path.resolve()}"))
            continue
        found.append(MediaFile(use.path, use.media, TYPES[_suffix(use.path)][1], path))
    if errors:
        raise SblError(errors)
    return found


def _unreadable(path: Path) -> str | None:
    if not path.is_file():
        return "cannot find"
    if not os.access(path, os.R_OK):
        return "cannot read"
    return None


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "an image", "a video"."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _nearby(written: str, path: Path) -> str | None:
    """A did-you-mean for a missing file, from the media files of its folder, written as
    the path was."""
    folder = path.parent
    if not folder.is_dir():
        return None
    names = [p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in TYPES]
    close = difflib.get_close_matches(path.name, sorted(names), n=1, cutoff=0.6)
    return f"did you mean '{PurePosixPath(written).parent / close[0]}'?" if close else None


def _suffix(path: str) -> str:
    return PurePosixPath(path).suffix.lower()


def _media_params(stim: ir.Stimulus) -> list[tuple[ir.Expr, kinds.ParamDecl]]:
    """The expressions of ``stim`` that name media files: its media parameters' values, and
    the path of each ``image(path, description)`` in its parameters."""
    kind = kinds.get(stim.kind)
    if kind is None:
        return []
    declared = {p.name: p for p in kind.media_params}
    html = {p.name for p in kind.params if types.strip_optional(p.type) == types.HTML}
    images = [(path, IMAGE) for p in stim.params if p.name in html
              for path in markup.image_paths(p.value)]
    return [(p.value, declared[p.name]) for p in stim.params if p.name in declared] + images


def _shows_media(stim: ir.Stimulus) -> bool:
    return bool(_media_params(stim))


# image(path, description) in an html parameter: its path is listed and checked as an
# image parameter's (docs/language.md, Media)
IMAGE = kinds.ParamDecl("image()", types.MEDIA, True, None, "", media="image")


@dataclass(frozen=True, slots=True)
class _Row:
    """The columns the open blocks' current rows give, and the CSV cell of each column
    that came from a CSV table: (table, row index)."""

    columns: dict[str, Value] = field(default_factory=dict)
    cells: dict[str, tuple[ir.TableData, int]] = field(default_factory=dict)


class _Lister:
    """Walks the blocks, visiting every row a stimulus showing media can see."""

    def __init__(self, experiment: ir.Experiment) -> None:
        self.errors: list[Diagnostic] = []
        self.found: list[Use] = []
        self.csv: dict[str, ir.TableData] = {}
        self.env: dict[str, Binding] = {}
        # tables and constants written in the file: where a path from them was written
        self.written = tuple(d.value if isinstance(d, ir.Let) else d.rows
                             for d in experiment.decls if isinstance(d, ir.Let | ir.Table)
                             and not isinstance(getattr(d, "rows", None), ir.TableData))
        for decl in experiment.decls:
            self.env[decl.name] = self._declared(decl)

    def _declared(self, decl: ir.Shared | ir.Let | ir.Table | ir.Group) -> Binding:
        if isinstance(decl, ir.Shared):
            return Unlistable("is a shared variable: its value changes as the run goes",
                              decl.span)
        if isinstance(decl, ir.Table) and isinstance(decl.rows, ir.TableData):
            self.csv[decl.name] = decl.rows
            return [decl.rows.records()]  # type: ignore[list-item]
        try:
            if isinstance(decl, ir.Group):  # a participant's group: any one of them
                return listing.row_items(decl.groups, self.env)
            return listing.possible(decl.value if isinstance(decl, ir.Let) else decl.rows,
                                    self.env)
        except Unlistable as err:
            return Unlistable(f"cannot be listed: {err.reason}", err.span)

    def items(self, items: tuple[ir.Item, ...], rows: list[_Row]) -> None:
        for item in items:
            if isinstance(item, ir.Stimulus):
                self.stimulus(item, rows)
            elif any(_shows_media(s) for s in ir.stimuli(item.body)):
                self.block(item, rows)

    def block(self, block: ir.Block, rows: list[_Row]) -> None:
        rows = self._entered(block, rows)
        if block.over is None:
            return self.items(block.body, rows)
        inner: list[_Row] = []
        try:
            for row in rows:
                inner.extend(self._rows(block.over, row))
                if len(inner) > MAX_ROWS:
                    raise Unlistable(f"its rows and those of the blocks around it make more "
                                     f"than {MAX_ROWS:,} combinations", block.over.span)
        except Unlistable as err:
            self.errors.append(Diagnostic(
                f"cannot list the rows of block '{block.name}', whose stimuli show media: "
                f"{err.reason}", err.span, help=_RULE))
            return None
        return self.items(block.body, inner)

    def _entered(self, block: ir.Block, rows: list[_Row]) -> list[_Row]:
        """The rows under which ``block`` can run: its ``if`` is read at its start, with the
        enclosing rows' columns, so a row for which the test is surely false shows nothing
        below it. A test the run decides (a response, a shared variable) keeps the row."""
        if block.condition is None:
            return rows
        names = [n.name for n in ir.walk(block.condition) if isinstance(n, ir.Name)]
        verdict: dict[str, bool] = {}
        kept = []
        for row in rows:
            key = json.dumps([row.columns.get(n) for n in names], sort_keys=True)
            if key not in verdict:
                verdict[key] = self._may_hold(block.condition, row)
            if verdict[key]:
                kept.append(row)
        return kept

    def _may_hold(self, test: ir.Expr, row: _Row) -> bool:
        """Whether ``test`` can be true with ``row``'s columns (true when it cannot be
        listed: the run decides)."""
        try:
            return any(truthy(v) for v in listing.possible(test, self._env(row)))
        except Unlistable:
            return True

    def _rows(self, over: ir.Expr, row: _Row) -> Iterator[_Row]:
        """The rows a block ``over`` visits under an outer ``row``; a CSV table's keep their
        cells."""
        source = over
        while isinstance(source, ir.Call) and source.func in listing.REORDERING and source.args:
            source = source.args[0]
        table = self.csv.get(source.name) if isinstance(source, ir.Name) else None
        if table is not None and source.name not in row.columns:  # type: ignore[union-attr]
            for i, record in enumerate(table.records()):
                cells = {c: (table, i) for c in table.columns}
                yield _Row({**row.columns, **record}, {**row.cells, **cells})
            return
        for item in listing.row_items(over, self._env(row)):
            if isinstance(item, dict):
                yield _Row({**row.columns, **item},
                           {k: v for k, v in row.cells.items() if k not in item})

    def _env(self, row: _Row) -> Env:
        return {**self.env, **{k: [v] for k, v in row.columns.items()}}

    def stimulus(self, stim: ir.Stimulus, rows: list[_Row]) -> None:
        for expr, decl in _media_params(stim):
            names = [n.name for n in ir.walk(expr) if isinstance(n, ir.Name)]
            distinct = {json.dumps([r.columns.get(n) for n in names], sort_keys=True): r
                        for r in rows}
            try:
                for row in distinct.values():
                    for value in listing.possible(expr, self._env(row)):
                        self._value(value, decl, self._where(value, names, row, expr))
            except Unlistable as err:
                self.errors.append(Diagnostic(
                    f"cannot list the files {_named(decl)} can name: {err.reason}",
                    err.span, help=_RULE))

    def _where(self, value: Value, names: list[str], row: _Row, expr: ir.Expr
               ) -> ir.Span | None:
        """Where ``value`` was written: its CSV cell, a string literal in the expression or
        in a table or constant of the file, else the expression."""
        return (_cell(names, row) or _literal(expr, value)
                or next(filter(None, (_literal(w, value) for w in self.written)), None)
                or expr.span)

    def _value(self, value: Value, decl: kinds.ParamDecl, span: ir.Span | None) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                self._value(item, decl, span)
            return
        problem = _bad_path(value, decl)
        if problem:
            self.errors.append(Diagnostic(problem[0], span, help=problem[1]))
            return
        assert isinstance(value, str)
        self.found.append(Use(value, TYPES[_suffix(value)][0], span))


_RULE = ("a media path must be a literal, a table column, a constant, or built from these "
         "(if/else, templates, choice, shuffle, sample, randint), so that every file is "
         "known before the run: docs/language.md, Media")


def _bad_path(value: Value, decl: kinds.ParamDecl) -> tuple[str, str] | None:
    """What is wrong with ``value`` as a media path of parameter ``decl``, with a help."""
    if not isinstance(value, str):
        return (f"{_named(decl)} names a media file, so it must be a path, "
                f"not {json.dumps(value)}", "a string such as \"images/cat.png\"")
    if "://" in value or value.startswith("data:"):
        return (f"media must be files beside the experiment, not a URL: '{value}'",
                "a page that runs from disk cannot fetch it; download it and name the file")
    if value == "" or os.path.isabs(value):
        return (f"'{value}' is not a path relative to the .sbl file",
                "name media files relative to the folder of the .sbl file")
    known = TYPES.get(_suffix(value))
    if known is None:
        endings = ", ".join(e for e, (c, _) in TYPES.items() if decl.media in (None, c))
        return f"'{value}' is not a media file the page can show", f"use one of {endings}"
    if decl.media is not None and known[0] != decl.media:
        return (f"'{value}' is {_a(known[0])} file; {_named(decl)} takes "
                f"{_a(decl.media)} file", "use a file ending in one of " + ", ".join(
                    e for e, (c, _) in TYPES.items() if c == decl.media))
    return None


def _named(decl: kinds.ParamDecl) -> str:
    """How an error names what takes the path: a parameter, or image()'s first argument."""
    return "image()" if decl is IMAGE else f"parameter '{decl.name}'"


def _cell(names: list[str], row: _Row) -> ir.Span | None:
    """The CSV cell a value came from, when exactly one of the names it uses is a CSV
    column of the row."""
    from_csv = {n for n in names if n in row.cells}
    if len(from_csv) != 1:
        return None
    column = from_csv.pop()
    table, index = row.cells[column]
    return cell_span(table, index, column)


def _literal(expr: ir.Expr, value: Value) -> ir.Span | None:
    """The span of the string literal in ``expr`` that is ``value``, if one is."""
    return next((n.span for n in ir.walk(expr)
                 if isinstance(n, ir.Literal) and n.value == value), None)


def cell_span(table: ir.TableData, index: int, column: str) -> ir.Span | None:
    """The span of the cell in row ``index`` (0: the first after the header) and
    ``column`` of a CSV table, found by reading its file again (only for an error)."""
    if table.span is None:
        return None
    text = read_source(table.span.path)
    lines = text.split("\n")
    reader = csv.reader(lines)
    next(reader, None)
    seen, first = -1, reader.line_num + 1
    for cells in reader:
        if cells:
            seen += 1
        if seen == index:
            return _locate(table.span.path, text, lines, first,
                           table.columns.index(column), cells)
        first = reader.line_num + 1
    return table.span


def _locate(path: str, text: str, lines: list[str], line: int, column: int,
            cells: list[str]) -> ir.Span:
    """The span of cell ``column`` of the CSV row that starts on ``line``: after the
    column-th comma outside quotes (a quoted cell may hold commas and line breaks)."""
    quoted, commas, col = False, 0, 0
    while commas < column:
        if col >= len(lines[line - 1]):
            line, col = line + 1, 0
            continue
        char = lines[line - 1][col]
        quoted = not quoted if char == '"' else quoted
        commas += char == "," and not quoted
        col += 1
    width = len(cells[column]) if column < len(cells) else 1
    return ir.Span(path, line, col + 1, line, col + 1 + max(1, width), text)
