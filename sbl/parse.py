"""Parse .sbl text into IR: Lark builds the tree, :class:`Builder` turns it into IR nodes.

Spans are attached in one place (``_span``) from Lark's propagated positions; string
interpolation holes are parsed by the same grammar at their true position in the file, so
an error inside ``"Score: {scroe}"`` points at ``scroe``. Lark's errors are translated into
the user's words by :mod:`sbl.syntax_errors`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from importlib import resources
from typing import Any

import lark
from lark import Token, Transformer, v_args

from sbl import ir
from sbl.limits import check_depth, check_syntax_depth
from sbl.source import SblError, did_you_mean
from sbl.syntax_errors import QUOTED, translate

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"',
            "'": "'", "0": "\0"}
# A surrogate pair (\ud83d\ude00) is one escape: it stands for one character, as in JSON.
_ESCAPE = re.compile(r"\\(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                     r"|u[0-9a-fA-F]{4}|.)", re.S)
MAX_NESTING = 200


@functools.cache
def _parser() -> lark.Lark:
    """One parser for both start symbols: loading it (from Lark's cache file, written on first
    use) and the lexer states it builds are shared by whole files and string holes."""
    grammar = resources.files("sbl.grammar").joinpath("sbl.lark").read_text(encoding="utf-8")
    return lark.Lark(grammar, start=["start", "expr"], parser="lalr", lexer="contextual",
                     propagate_positions=True, maybe_placeholders=True, cache=True)


def parse(text: str, path: str = "<input>") -> ir.Experiment:
    """Parse a whole .sbl program; raises SblError at the first syntax error."""
    experiment = _build(_parse_tree(text, path, "start"), path, text)
    check_depth(experiment)  # before any pass recurses on it
    return experiment  # type: ignore[no-any-return]


def parse_expr(text: str, path: str = "<expr>") -> ir.Expr:
    """Parse a single expression (used for kind declarations and tests)."""
    expr = _build(_parse_tree(text, path, "expr"), path, text)
    check_depth(expr)
    return expr  # type: ignore[no-any-return]


def _build(tree: lark.Tree, path: str, text: str) -> Any:
    try:
        return Builder(path, text).transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, SblError):
            raise exc.orig_exc from None
        raise


def _parse_tree(text: str, path: str, start: str) -> lark.Tree:
    _check_nesting(text, path)
    try:
        tree = _parser().parse(text, start=start)
    except lark.exceptions.LarkError as exc:
        raise translate(exc, text, path) from None
    check_syntax_depth(tree, path, text)
    return tree


def _check_nesting(text: str, path: str) -> None:
    """Refuse absurdly deep nesting before Lark's recursion does (a clear error, no crash)."""
    depth = 0
    for offset, char in enumerate(text):
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, offset) + 1
                col = offset - (text.rfind("\n", 0, offset) + 1) + 1
                raise SblError.at(ir.Span(path, line, col, line, col + 1, text),
                                  f"brackets are nested more than {MAX_NESTING} deep")
        elif char in ")]}":
            depth = max(0, depth - 1)


def unescape(raw: str, span: ir.Span) -> str:
    """Resolve backslash escapes in the body of a string literal (``span`` covers ``raw``)."""
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u") and len(code) == 11:  # a surrogate pair: one character
            high, low = int(code[1:5], 16), int(code[7:], 16)
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        if code.startswith("u") and len(code) == 5 and not 0xD800 <= int(code[1:], 16) < 0xE000:
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        where = span
        if span.line == span.end_line and "\n" not in raw[:match.start()]:
            col = span.col + match.start()
            where = dataclasses.replace(span, col=col, end_line=span.line,
                                        end_col=col + 1 + len(code))
        if code.startswith("u") and len(code) == 5:
            raise SblError.at(where, f"'\\{code}' is half of a surrogate pair, not a "
                                     f"character",
                              help="write the character itself, or both halves of the pair "
                                   "('\\ud83d\\ude00' is one emoji)")
        raise SblError.at(where, f"unknown escape '\\{code}' in a string",
                          help="write '\\\\' for a backslash")
    return _ESCAPE.sub(one, raw)


@v_args(meta=True, inline=True)
class Builder(Transformer[Token, Any]):
    """Turns the Lark tree of one file into IR nodes, one method per grammar rule."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__()
        self.path, self.text = path, text

    def _span(self, meta: Any) -> ir.Span | None:
        if getattr(meta, "empty", True):
            return None
        return ir.Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column,
                       self.text)

    def _tok_span(self, tok: Token) -> ir.Span:
        return ir.Span(self.path, tok.line or 0, tok.column or 0, tok.end_line or 0,
                       tok.end_column or 0, self.text)

    # -- program
    def start(self, meta: Any, header: tuple[str, tuple[ir.Param, ...]], *items: Any) -> Any:
        title, settings = header
        return ir.Experiment(title, settings, tuple(i for i in items if not _is_item(i)),
                             tuple(i for i in items if _is_item(i)), span=self._span(meta))

    def header(self, meta: Any, _kw: Token, title: ir.Expr, settings: Any) -> Any:
        if not isinstance(title, ir.Literal):
            raise SblError.at(title.span, "the experiment's title cannot contain '{...}'")
        return str(title.value), settings or ()

    def settings(self, meta: Any, *params: ir.Param) -> tuple[ir.Param, ...]:
        return params

    def shared(self, meta: Any, _kw: Token, name: Token, value: ir.Expr) -> ir.Shared:
        return ir.Shared(str(name), value, span=self._span(meta))

    def let(self, meta: Any, _kw: Token, name: Token, value: ir.Expr) -> ir.Let:
        return ir.Let(str(name), value, span=self._span(meta))

    def table_expr(self, meta: Any, _kw: Token, name: Token, rows: ir.Expr) -> ir.Table:
        return ir.Table(str(name), rows, span=self._span(meta))

    def table_csv(self, meta: Any, _kw: Token, name: Token, _from: Token,
                  file: ir.Expr) -> ir.Table:
        if not isinstance(file, ir.Literal):
            raise SblError.at(file.span, "the CSV file name cannot contain '{...}'")
        return ir.Table(str(name), ir.ListExpr((), span=file.span), source=str(file.value),
                        span=self._span(meta))

    def group(self, meta: Any, _kw: Token, name: Token, _in: Token, groups: ir.Expr,
              _by: Token | None, source: Token | None, param: ir.Expr | None) -> ir.Group:
        where = self._tok_span(source) if source is not None else None
        how = _group_source(source, where)
        if how is ir.GroupSource.URL and param is None:
            raise SblError.at(where, "'by url' needs the URL parameter's name",
                              help="write e.g. 'by url \"group\"'")
        if param is not None and how is not ir.GroupSource.URL:
            raise SblError.at(param.span, f"'by {source}' takes no parameter name",
                              help="only 'by url \"NAME\"' names one")
        if param is not None and not isinstance(param, ir.Literal):
            raise SblError.at(param.span, "the URL parameter's name cannot contain '{...}'")
        if param is not None and not str(param.value).strip():
            raise SblError.at(param.span, "the URL parameter's name is empty",
                              help="write e.g. 'by url \"group\"' and give the study link "
                                   "?group=1, ?group=2, ...")
        return ir.Group(str(name), groups, how, None if param is None else str(param.value),
                        span=self._span(meta))

    # -- blocks and stimuli
    def block(self, meta: Any, _kw: Token, name: Token, *rest: Any) -> ir.Block:
        return self._block(meta, name, rest, loop=False)

    def loop(self, meta: Any, _kw: Token, name: Token, *rest: Any) -> ir.Block:
        return self._block(meta, name, rest, loop=True)

    def _block(self, meta: Any, name: Token, rest: tuple[Any, ...], loop: bool) -> ir.Block:
        mods: dict[str, Any] = {}
        body: list[ir.Item] = []
        for part in rest:
            if isinstance(part, ir.Constraint):
                self._constraint(part, name, mods)
            elif isinstance(part, tuple) and part and part[0] == "mod":
                _, key, value, span = part
                if key in mods:
                    raise SblError.at(span, f"'{_MOD_WORDS[key]}' is given twice for block "
                                            f"'{name}'")
                mods[key] = value
            elif isinstance(part, _DataFields):
                if "data" in mods:
                    raise SblError.at(part.span, f"block '{name}' has at most one 'data' section")
                mods["data"] = part.fields
            elif isinstance(part, ir.Param):
                self._block_param(part, name, mods)
            else:
                body.append(part)
        if loop and "until" not in mods:
            raise SblError.at(self._tok_span(name), f"loop '{name}' needs 'until <condition>'",
                              help="write e.g. 'loop practice until mean(correct) >= 0.8 max 5'")
        if not loop and "until" in mods:
            raise SblError.at(self._span(meta), f"'until' belongs to a loop: write 'loop {name}'")
        return ir.Block(str(name), tuple(body), span=self._span(meta), **mods)

    def _block_param(self, param: ir.Param, name: Token, mods: dict[str, Any]) -> None:
        """A ``name: value`` entry in a block's body: ``header``, ``gap`` or ``style``."""
        if param.name not in ("header", "gap", "style"):
            raise SblError.at(param.span, f"block '{name}' has no parameter '{param.name}'",
                              help="a block's body holds stimuli, blocks, 'header: \"...\"', "
                                   "'gap: MS' and 'style: {...}'")
        if param.name in mods:
            raise SblError.at(param.span, f"'{param.name}' is given twice for block '{name}'")
        mods[param.name] = param.value

    def _constraint(self, constraint: ir.Constraint, name: Token, mods: dict[str, Any]) -> None:
        """A constraint on the shuffled order; several combine, one per rule and column."""
        given = mods.setdefault("constraints", ())
        if any((c.rule, c.column) == (constraint.rule, constraint.column) for c in given):
            on = f" on '{constraint.column}'" if constraint.column else ""
            raise SblError.at(constraint.span, f"'{constraint.rule.value}'{on} is given twice "
                                               f"for block '{name}'")
        mods["constraints"] = (*given, constraint)

    def mod_max_run(self, meta: Any, _kw: Token, column: Token | None, count: Token) -> Any:
        return ir.Constraint(ir.Rule.MAX_RUN, _opt(column), self._count(count, "max_run"),
                             span=self._span(meta))

    def mod_min_distance(self, meta: Any, _kw: Token, column: Token | None,
                         count: Token) -> Any:
        if int(count) < 2:
            raise SblError.at(self._tok_span(count), "'min_distance' needs a distance of at "
                              "least 2", help="adjacent rows are 1 apart: 'min_distance 2' "
                                              "means no two in a row")
        return ir.Constraint(ir.Rule.MIN_DISTANCE, _opt(column), int(count),
                             span=self._span(meta))

    def mod_no_repeat(self, meta: Any, _kw: Token, column: Token | None) -> Any:
        return ir.Constraint(ir.Rule.NO_REPEAT, _opt(column), span=self._span(meta))

    def mod_over(self, meta: Any, _kw: Token, value: ir.Expr) -> Any:
        return ("mod", "over", value, self._span(meta))

    def mod_shuffle(self, meta: Any, _kw: Token) -> Any:
        return ("mod", "order", ir.Order.SHUFFLE, self._span(meta))

    def mod_repeat(self, meta: Any, _kw: Token, count: Token) -> Any:
        return ("mod", "repeat", self._count(count, "repeat"), self._span(meta))

    def mod_sample(self, meta: Any, _kw: Token, count: Token) -> Any:
        return ("mod", "sample", self._count(count, "sample"), self._span(meta))

    def mod_if(self, meta: Any, _kw: Token, value: ir.Expr) -> Any:
        return ("mod", "condition", value, self._span(meta))

    def mod_until(self, meta: Any, _kw: Token, value: ir.Expr) -> Any:
        return ("mod", "until", value, self._span(meta))

    def mod_max(self, meta: Any, _kw: Token, count: Token) -> Any:
        return ("mod", "max_loops", self._count(count, "max"), self._span(meta))

    def _count(self, tok: Token, word: str) -> int:
        value = int(tok)
        if value < 1:
            raise SblError.at(self._tok_span(tok), f"'{word}' needs a count of at least 1")
        return value

    def stimulus(self, meta: Any, kind: Token, name: Token | None, *entries: Any) -> Any:
        params = tuple(e for e in entries if isinstance(e, ir.Param))
        afters = [e for e in entries if isinstance(e, tuple)]
        if len(afters) > 1:
            raise SblError.at(afters[1][1], "a stimulus has at most one 'after' section")
        after = afters[0][0] if afters else ()
        datas = [e for e in entries if isinstance(e, _DataFields)]
        if len(datas) > 1:
            raise SblError.at(datas[1].span, "a stimulus has at most one 'data' section")
        return ir.Stimulus(str(name) if name else str(kind), str(kind), params, after,
                           datas[0].fields if datas else (), span=self._span(meta))

    def param(self, meta: Any, name: Token, value: ir.Expr) -> ir.Param:
        return ir.Param(str(name), value, span=self._span(meta))

    def after(self, meta: Any, _kw: Token, *statements: ir.Statement) -> Any:
        return (statements, self._span(meta))

    def branch(self, meta: Any, _if: Token, test: ir.Expr, then: tuple[ir.Statement, ...],
               *rest: Any) -> ir.Branch:
        otherwise = rest[-1] if rest and rest[-1] is not None else ()
        if isinstance(otherwise, ir.Branch):
            otherwise = (otherwise,)  # else if
        return ir.Branch(test, then, otherwise, span=self._span(meta))

    def statements(self, _meta: Any, *statements: ir.Statement) -> tuple[ir.Statement, ...]:
        return statements

    def assign(self, meta: Any, name: Token, value: ir.Expr) -> ir.Assign:
        return ir.Assign(str(name), value, span=self._span(meta))

    def data_fields(self, meta: Any, _kw: Token, *fields: ir.Param) -> Any:
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                raise SblError.at(f.span, f"data field '{f.name}' is given twice")
            seen.add(f.name)
        return _DataFields(fields, self._span(meta))

    # -- expressions
    def cond(self, meta: Any, _if: Token, test: Any, _then: Token, then: Any, _else: Token,
             otherwise: Any) -> ir.Cond:
        return ir.Cond(test, then, otherwise, span=self._span(meta))

    def comprehension(self, meta: Any, _for: Token, var: Token, _in: Token, iterable: Any,
                      _if: Token | None, condition: Any, body: ir.Expr) -> ir.Comprehension:
        return ir.Comprehension(body, str(var), iterable, condition, span=self._span(meta))

    def list_comp(self, meta: Any, body: Any, _for: Token, var: Token, _in: Token,
                  iterable: Any, _if: Token | None, condition: Any) -> ir.Comprehension:
        return ir.Comprehension(body, str(var), iterable, condition, span=self._span(meta))

    def logic(self, meta: Any, left: Any, op: Token, right: Any) -> ir.Binary:
        return ir.Binary(ir.BinaryOp(str(op)), left, right, span=self._span(meta))

    binary = logic

    def unary(self, meta: Any, op: Token, operand: Any) -> ir.Unary:
        return ir.Unary(ir.UnaryOp(str(op)), operand, span=self._span(meta))

    def range(self, meta: Any, start: Any, _dots: Token, stop: Any) -> ir.Range:
        return ir.Range(start, stop, span=self._span(meta))

    def attr(self, meta: Any, obj: Any, name: Token) -> ir.Attr:
        return ir.Attr(obj, str(name), span=self._span(meta))

    def index(self, meta: Any, obj: Any, index: Any) -> ir.Index:
        return ir.Index(obj, index, span=self._span(meta))

    def slice(self, meta: Any, obj: Any, start: Any, stop: Any) -> ir.Slice:
        return ir.Slice(obj, start, stop, span=self._span(meta))

    def number(self, meta: Any, tok: Token) -> ir.Literal:
        text = str(tok)
        value: int | float = int(text) if text.isdigit() else float(text)
        if isinstance(value, int) and value >= 2**53:
            raise SblError.at(self._tok_span(tok), f"the number {text} is too large to be exact")
        return ir.Literal(value, span=self._span(meta))

    def true(self, meta: Any, _tok: Token) -> ir.Literal:
        return ir.Literal(True, span=self._span(meta))

    def false(self, meta: Any, _tok: Token) -> ir.Literal:
        return ir.Literal(False, span=self._span(meta))

    def none(self, meta: Any, _tok: Token) -> ir.Literal:
        return ir.Literal(None, span=self._span(meta))

    def name(self, meta: Any, tok: Token) -> ir.Name:
        return ir.Name(str(tok), span=self._span(meta))

    def prev(self, meta: Any, _tok: Token, back: Token | None = None) -> ir.Prev:
        if back is not None and int(back) < 1:
            raise SblError.at(self._tok_span(back), "prev(n) needs n of at least 1")
        return ir.Prev(int(back) if back is not None else 1, span=self._span(meta))

    def call(self, meta: Any, name: Token, arguments: Any) -> ir.Call:
        args = tuple(a for a in arguments or () if not isinstance(a, ir.Field))
        kwargs = tuple(a for a in arguments or () if isinstance(a, ir.Field))
        return ir.Call(str(name), args, kwargs, span=self._span(meta))

    def arguments(self, meta: Any, *args: Any) -> tuple[Any, ...]:
        return args

    def kwarg(self, meta: Any, name: Token, value: Any) -> ir.Field:
        return ir.Field(str(name), value, span=self._span(meta))

    def list(self, meta: Any, *items: Any) -> ir.ListExpr:
        return ir.ListExpr(tuple(i for i in items if i is not None), span=self._span(meta))

    def record(self, meta: Any, *fields: ir.Field) -> ir.RecordExpr:
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                raise SblError.at(f.span, f"field '{f.name}' is given twice in this record")
            seen.add(f.name)
        return ir.RecordExpr(fields, span=self._span(meta))

    def field(self, meta: Any, name: Token, value: Any) -> ir.Field:
        return ir.Field(str(name), value, span=self._span(meta))

    def string(self, meta: Any, tok: Token) -> ir.Expr:
        return _string(tok, self.path, self._tok_span(tok))


def _group_source(source: Token | None, span: ir.Span | None) -> ir.GroupSource:
    """The source ``by NAME`` names (participant when there is no ``by``)."""
    if source is None:
        return ir.GroupSource.PARTICIPANT
    known = [s.value for s in ir.GroupSource]
    if str(source) not in known:
        raise SblError.at(span, f"unknown group source '{source}'",
                          help=did_you_mean(str(source), known)
                          or f"the sources are {', '.join(known)}")
    return ir.GroupSource(str(source))


_MOD_WORDS = {"over": "over", "order": "shuffle", "repeat": "repeat", "sample": "sample",
              "condition": "if", "until": "until", "max_loops": "max"}


@dataclasses.dataclass(frozen=True)
class _DataFields:
    """A parsed ``data { ... }`` section, before it joins its stimulus or block."""

    fields: tuple[ir.Param, ...]
    span: ir.Span | None


def _opt(tok: Token | None) -> str | None:
    return None if tok is None else str(tok)


def _is_item(node: Any) -> bool:
    return isinstance(node, ir.Block | ir.Stimulus)


def _string(tok: Token, path: str, span: ir.Span) -> ir.Expr:
    """Split a string literal into text and ``{expr}`` holes; ``{{`` and ``}}`` are braces."""
    raw = str(tok)
    quote = 3 if raw.startswith('"""') else 1
    body = raw[quote:-quote]

    def at(i: int, length: int = 1) -> ir.Span:
        """The span of ``length`` characters at body offset ``i`` (from the token alone:
        counting lines in the whole file for every string would be quadratic)."""
        offset = quote + i
        newlines = raw.count("\n", 0, offset)
        if newlines == 0:
            line, col = span.line, span.col + offset
        else:
            line, col = span.line + newlines, offset - raw.rfind("\n", 0, offset)
        return dataclasses.replace(span, line=line, col=col, end_line=line, end_col=col + length)

    parts: list[str | ir.Expr] = []
    chunks: list[str] = []
    i = chunk_start = 0
    for match in _BRACE.finditer(body):
        if match.start() < i:  # inside a hole already consumed
            continue
        j = match.start()
        if match.group() in ("{{", "}}"):
            chunks.append(body[i:j] + match.group()[0])
            i = j + 2
            continue
        if match.group() == "}":
            raise SblError.at(at(j), "a '}' in a string must be written '}}'")
        end = _closing_brace(body, j, at(j))
        chunks.append(body[i:j])
        text = "".join(chunks)
        if text:
            parts.append(unescape(text, at(chunk_start, j - chunk_start)))
        parts.append(_hole(body[j + 1:end], at(j + 1), path))
        chunks, i = [], end + 1
        chunk_start = i
    chunks.append(body[i:])
    text = "".join(chunks)
    if text or not parts:
        parts.append(unescape(text, at(chunk_start, max(1, len(body) - chunk_start))))
    if quote == 3:
        parts = _dedent(parts, body)
    if len(parts) == 1 and isinstance(parts[0], str):
        return ir.Literal(parts[0], span=span)
    return ir.Template(tuple(parts), span=span)


_BRACE = re.compile(r"\{\{|\}\}|\{|\}")


def _dedent(parts: list[str | ir.Expr], body: str) -> list[str | ir.Expr]:
    """Triple-quoted text loses its first newline, its last blank line and the indentation
    its lines share, so it can be indented with the code around it."""
    lines = [line for line in body.split("\n")[1:] if line.strip()]
    indent = min((len(line) - len(line.lstrip(" ")) for line in lines), default=0)
    out = [p.replace("\n" + " " * indent, "\n") if isinstance(p, str) else p for p in parts]
    if isinstance(out[0], str) and out[0].startswith("\n"):
        out[0] = out[0][1:]
    if isinstance(out[-1], str):
        last = out[-1]
        cut = last.rfind("\n")
        if cut >= 0 and not last[cut:].strip():
            out[-1] = last[:cut]
    return [p for p in out if p != ""] or [""]


def _closing_brace(body: str, start: int, span: ir.Span) -> int:
    """The index of the '}' that closes the hole opened at ``start``; quoted strings inside
    the hole are skipped, so their braces do not count."""
    depth, j = 0, start
    while j < len(body):
        quoted = QUOTED.match(body, j) if body[j] in "'\"" else None
        if quoted:
            j = quoted.end()
            continue
        depth += {"{": 1, "}": -1}.get(body[j], 0)
        if depth == 0:
            return j
        j += 1
    raise SblError.at(span, "'{' in a string was never closed",
                      help="write '{{' for a literal brace")


def _hole(source: str, where: ir.Span, path: str) -> ir.Expr:
    """Parse an interpolation hole on its own, then move its spans to where it is in the file."""
    hole_span = dataclasses.replace(where, end_line=where.line, end_col=where.col + len(source))
    if not source.strip():
        raise SblError.at(hole_span, "empty '{}' in a string",
                          help="write '{{}}' for literal braces")
    try:
        tree = _parse_tree(source, path, "expr")
        return _shift(_build(tree, path, source), where)  # type: ignore
    except SblError as exc:
        first = exc.diagnostics[0]
        message = first.message.replace("the file ends too early", "'{...}' ends too early")
        span = _shift(first.span, where) if first.span else hole_span
        raise SblError.at(span, message, first.help) from None


def _shift(node: Any, where: ir.Span) -> Any:
    """``node``, parsed from a hole alone, with every span moved to where the hole starts in
    the file (``where``): down ``where.line - 1`` lines, and spans on the hole's first line
    right ``where.col - 1`` columns; they quote the file's text, not the hole's."""
    if isinstance(node, ir.Span):
        lines, cols = where.line - 1, where.col - 1
        col = node.col + cols if node.line == 1 else node.col
        end_col = node.end_col + cols if node.end_line == 1 else node.end_col
        return ir.Span(node.path, node.line + lines, col, node.end_line + lines, end_col,
                       where.text)
    if isinstance(node, tuple):
        return tuple(_shift(item, where) for item in node)
    if isinstance(node, ir.Node):
        changes = {f.name: _shift(getattr(node, f.name), where)
                   for f in dataclasses.fields(node)}  # type: ignore[arg-type]
        return dataclasses.replace(node, **changes)  # type: ignore[type-var]
    return node
