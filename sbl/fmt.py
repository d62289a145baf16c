"""``sbl fmt``: print a parsed program in the one canonical layout, keeping its comments.

The formatter prints the IR as the parser built it (before any pass), so
``parse(format(p)) == parse(p)`` and formatting is idempotent. Comments are not in the IR:
they are found in the source text and put back before the item they preceded, or at the end
of the line they ended.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sbl import ir
from sbl.parse import parse

WIDTH = 100
INDENT = "  "
_COMMENT = re.compile(r'"""(?:.|\n)*?"""|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|(#[^\n]*)')

# Binding strength of each expression form: higher binds tighter.
_PREC = {ir.BinaryOp.OR: 1, ir.BinaryOp.AND: 2, ir.BinaryOp.EQ: 4, ir.BinaryOp.NE: 4,
         ir.BinaryOp.LT: 4, ir.BinaryOp.LE: 4, ir.BinaryOp.GT: 4, ir.BinaryOp.GE: 4,
         ir.BinaryOp.IN: 4, ir.BinaryOp.ADD: 6, ir.BinaryOp.SUB: 6, ir.BinaryOp.MUL: 7,
         ir.BinaryOp.DIV: 7, ir.BinaryOp.FLOORDIV: 7, ir.BinaryOp.MOD: 7, ir.BinaryOp.POW: 9}
_NON_ASSOC = 4


@dataclass
class _Comment:
    line: int
    text: str
    trailing: bool
    used: bool = False


def format_source(text: str, path: str = "<input>") -> str:
    """The canonical form of a .sbl program (raises SblError if it does not parse)."""
    return _Printer(parse(text, path), _comments(text)).program()


def format_ir(experiment: ir.Experiment) -> str:
    """The canonical text of a parsed experiment that has no source (and so no comments)."""
    return _Printer(experiment, []).program()


def _comments(text: str) -> list[_Comment]:
    found = []
    for match in _COMMENT.finditer(text):
        if match.group(1) is None:
            continue
        start = match.start(1)
        line_start = text.rfind("\n", 0, start) + 1
        trailing = bool(text[line_start:start].strip())
        found.append(_Comment(text.count("\n", 0, start) + 1, match.group(1).rstrip(), trailing))
    return found


class _Printer:
    def __init__(self, experiment: ir.Experiment, comments: list[_Comment]) -> None:
        self.experiment = experiment
        self.comments = comments
        self.out: list[str] = []
        self.in_template = False

    # -- comments
    def leading(self, node: ir.Node, depth: int) -> None:
        """Print the comments on lines before ``node`` that are not yet printed."""
        self.comments_before(node.span.line if node.span else 0, depth)

    def comments_before(self, line: int, depth: int) -> None:
        """Print the comments before source line ``line`` (or starting it) not yet printed."""
        for c in self.comments:
            if not c.used and (c.line < line or (c.line == line and not c.trailing)):
                c.used = True
                self.out.append(INDENT * depth + c.text)

    def trailing(self, line: int | None) -> str:
        """The comment that ends source line ``line``, if any, ready to append."""
        for c in self.comments:
            if not c.used and c.trailing and c.line == line:
                c.used = True
                return "  " + c.text
        return ""

    def has_trailing(self, line: int | None) -> bool:
        """Whether a comment not yet printed ends source line ``line``."""
        return any(not c.used and c.trailing and c.line == line for c in self.comments)

    def rest(self, depth: int) -> None:
        for c in self.comments:
            if not c.used:
                c.used = True
                self.out.append(INDENT * depth + c.text)

    # -- program structure
    def program(self) -> str:
        e = self.experiment
        self.leading(e, 0)
        head = f"experiment {_string(e.title, 0)}"
        first_line = e.span.line if e.span else None
        if e.settings:
            self.out.append(head + " {" + self.trailing(first_line))
            for param in e.settings:
                self.param(param, 1)
            self.out.append("}")
        else:
            self.out.append(head + self.trailing(first_line))
        for item in (*e.decls, *e.body):
            self.out.append("")
            self.item(item, 0)
        self.rest(0)
        return "\n".join(self.out).rstrip("\n") + "\n"

    def item(self, node: ir.Node, depth: int) -> None:
        self.leading(node, depth)
        pad = INDENT * depth
        line = node.span.line if node.span else None
        if isinstance(node, ir.Shared):
            self.emit(f"{pad}shared {node.name} = {self.expr(node.init, depth)}", line)
        elif isinstance(node, ir.Let):
            self.emit(f"{pad}let {node.name} = {self.expr(node.value, depth)}", line)
        elif isinstance(node, ir.Table):
            rhs = f"from {_string(node.source, depth)}" if node.source else \
                f"= {self.expr(node.rows, depth)}"
            self.emit(f"{pad}table {node.name} {rhs}", line)
        elif isinstance(node, ir.Group):
            self.emit(f"{pad}group {node.name} in {self.expr(node.groups, depth)}"
                      f"{_group_source(node, depth)}", line)
        elif isinstance(node, ir.Block):
            self.block(node, depth)
        elif isinstance(node, ir.Stimulus):
            self.stimulus(node, depth)

    def emit(self, text: str, line: int | None) -> None:
        """Add printed text; the comment that ended its first source line ends its first line."""
        first, newline, rest = text.partition("\n")
        self.out.append(first + self.trailing(line) + newline + rest)

    def block(self, block: ir.Block, depth: int) -> None:
        pad = INDENT * depth
        words = ["loop" if block.until is not None else "block", block.name]
        if block.over is not None:
            words.append(f"over {self.expr(block.over, depth)}")
        if block.order is ir.Order.SHUFFLE:
            words.append("shuffle")
        words += [_constraint(c) for c in block.constraints]
        if block.repeat != 1:
            words.append(f"repeat {block.repeat}")
        if block.sample is not None:
            words.append(f"sample {block.sample}")
        if block.condition is not None:
            words.append(f"if {self.expr(block.condition, depth)}")
        if block.until is not None:
            words.append(f"until {self.expr(block.until, depth)}")
        if block.max_loops is not None:
            words.append(f"max {block.max_loops}")
        self.out.append(pad + " ".join(words) + " {" + self.trailing(_line(block)))
        if block.header is not None:
            self.param(ir.Param("header", block.header, span=block.header.span), depth + 1)
        if block.gap is not None:
            self.param(ir.Param("gap", block.gap, span=block.gap.span), depth + 1)
        if block.style is not None:
            self.param(ir.Param("style", block.style, span=block.style.span), depth + 1)
        self.data_fields(block.data, depth + 1)
        for item in block.body:
            self.item(item, depth + 1)
        self.close(block, depth)

    def close(self, node: ir.Node, depth: int) -> None:
        """Print comments left inside ``node`` and its closing brace."""
        end = node.span.end_line if node.span else 0
        for c in self.comments:
            if not c.used and c.line < end:
                c.used = True
                self.out.append(INDENT * (depth + 1) + c.text)
        self.out.append(INDENT * depth + "}" + self.trailing(end))

    def stimulus(self, stim: ir.Stimulus, depth: int) -> None:
        pad = INDENT * depth
        head = stim.kind if stim.id == stim.kind else f"{stim.kind} {stim.id}"
        self.out.append(f"{pad}{head} {{" + self.trailing(_line(stim)))
        for param in stim.params:
            self.param(param, depth + 1)
        self.data_fields(stim.data, depth + 1)
        if stim.after:
            inner = INDENT * (depth + 1)
            self.out.append(f"{inner}after {{")
            self.statements(stim.after, depth + 2)
            self.out.append(f"{inner}}}")
        self.close(stim, depth)

    def statements(self, statements: tuple[ir.Statement, ...], depth: int) -> None:
        """The assignments and ``if`` statements of an ``after``, one a line."""
        pad = INDENT * depth
        for s in statements:
            self.leading(s, depth)
            if isinstance(s, ir.Branch):
                self.branch(s, depth)
            else:
                self.emit(f"{pad}{s.target} = {self.expr(s.value, depth)}", _line(s))

    def branch(self, top: ir.Branch, depth: int) -> None:
        """``if … { … } else if … { … } else { … }``: an else holding only an if is an else if."""
        pad = INDENT * depth
        node = top
        self.emit(f"{pad}if {self.expr(node.test, depth)} {{", _line(node))
        while True:
            self.statements(node.then, depth + 1)
            rest = node.otherwise
            if len(rest) == 1 and isinstance(rest[0], ir.Branch):
                node = rest[0]
                # comments after the last statement of the arm stay inside it
                self.comments_before(node.span.line if node.span else 0, depth + 1)
                self.emit(f"{pad}}} else if {self.expr(node.test, depth)} {{", _line(node))
                continue
            if rest:
                self.out.append(f"{pad}}} else {{")
                self.statements(rest, depth + 1)
            break
        self.close(top, depth)

    def data_fields(self, fields: tuple[ir.Param, ...], depth: int) -> None:
        """A ``data { ... }`` section, when there are custom data fields."""
        if not fields:
            return
        pad = INDENT * depth
        self.out.append(f"{pad}data {{")
        for f in fields:
            self.param(f, depth + 1)
        self.out.append(f"{pad}}}")

    def param(self, param: ir.Param, depth: int) -> None:
        self.leading(param, depth)
        value = self.expr(param.value, depth)
        self.emit(f"{INDENT * depth}{param.name}: {value}", _line(param))

    # -- expressions
    def expr(self, node: ir.Expr, depth: int, need: int = 0) -> str:
        """``node`` as text; parenthesised when it binds looser than ``need``."""
        text, prec = self._expr(node, depth)
        return f"({text})" if prec < need else text

    def _expr(self, node: ir.Expr, depth: int) -> tuple[str, int]:
        if isinstance(node, ir.Literal):
            if self.in_template and isinstance(node.value, str):
                return _quoted(node.value, "'"), 11
            return _literal(node.value, depth), 11
        if isinstance(node, ir.Name):
            return node.name, 11
        if isinstance(node, ir.Prev):
            return ("prev" if node.back == 1 else f"prev({node.back})"), 11
        if isinstance(node, ir.Attr):
            return f"{self.expr(node.obj, depth, 10)}.{node.name}", 10
        if isinstance(node, ir.Index):
            return f"{self.expr(node.obj, depth, 10)}[{self.expr(node.index, depth)}]", 10
        if isinstance(node, ir.Slice):
            start, stop = (self.expr(e, depth) if e else "" for e in (node.start, node.stop))
            return f"{self.expr(node.obj, depth, 10)}[{start}:{stop}]", 10
        if isinstance(node, ir.Unary):
            if node.op is ir.UnaryOp.NOT:
                return f"not {self.expr(node.operand, depth, 3)}", 3
            return f"-{self.expr(node.operand, depth, 8)}", 8
        if isinstance(node, ir.Binary):
            return self._binary(node, depth)
        if isinstance(node, ir.Cond):
            return (f"if {self.expr(node.test, depth)} then {self.expr(node.then, depth)} "
                    f"else {self.expr(node.otherwise, depth)}"), 0
        if isinstance(node, ir.Template):
            if self.in_template:  # a template inside a hole: the other quote
                return "'" + "".join(_quoted(p, "'")[1:-1] if isinstance(p, str) else
                                     _hole(self.expr(p, depth)) for p in node.parts) + "'", 11
            return _template(node, self, depth), 11
        if isinstance(node, ir.Range):
            return f"{self.expr(node.start, depth, 6)}..{self.expr(node.stop, depth, 6)}", 5
        if isinstance(node, ir.Call):
            args = [self.expr(a, depth) for a in node.args]
            args += [f"{k.name}: {self.expr(k.value, depth)}" for k in node.kwargs]
            return f"{node.func}({', '.join(args)})", 11
        if isinstance(node, ir.Comprehension):
            return self._comprehension(node, depth)
        if isinstance(node, ir.ListExpr):
            return self._sequence("[", [self.expr(i, depth + 1) for i in node.items], "]",
                                  depth, ",", node.items, node), 11
        assert isinstance(node, ir.RecordExpr)
        fields = [f"{f.name}: {self.expr(f.value, depth + 1)}" for f in node.fields]
        return self._sequence("{", fields, "}", depth, "", node.fields, node), 11

    def _binary(self, node: ir.Binary, depth: int) -> tuple[str, int]:
        prec = _PREC[node.op]
        if node.op is ir.BinaryOp.POW:  # right-associative
            left, right = prec + 1, prec - 1
        elif prec == _NON_ASSOC:
            left, right = prec + 1, prec + 1
        else:
            left, right = prec, prec + 1
        return (f"{self.expr(node.left, depth, left)} {node.op.value} "
                f"{self.expr(node.right, depth, right)}"), prec

    def _comprehension(self, node: ir.Comprehension, depth: int) -> tuple[str, int]:
        cond = f" if {self.expr(node.condition, depth)}" if node.condition is not None else ""
        head = f"for {node.var} in {self.expr(node.iterable, depth)}{cond}"
        if isinstance(node.body, ir.RecordExpr):
            return f"{head} {self.expr(node.body, depth)}", 0
        return f"[{self.expr(node.body, depth)} {head}]", 11

    def _sequence(self, open_: str, items: list[str], close: str, depth: int, sep: str,
                  nodes: tuple[ir.Node, ...], whole: ir.Node) -> str:
        """Items inline when they fit and carry no comment, else one a line, each followed
        by the comment that ended its source line (a comment after the closing bracket
        belongs to what encloses the sequence)."""
        last = whole.span.end_line if whole.span else None
        ends = [n.span.end_line if n.span and n.span.end_line != last else None
                for n in nodes]
        inline = open_ + ", ".join(items) + close
        fits = len(inline) + len(INDENT) * depth <= WIDTH - 20 and "\n" not in inline
        commented = any(self.has_trailing(end) for end in ends)
        if (fits and not commented) or self.in_template:  # a hole's string is one line
            return inline
        inner = INDENT * (depth + 1)
        body = "\n".join(f"{inner}{item}{sep}{self.trailing(end)}"
                         for item, end in zip(items, ends, strict=True))
        return f"{open_}\n{body}\n{INDENT * depth}{close}"


def _constraint(c: ir.Constraint) -> str:
    """A constraint on a shuffled order as written: ``max_run congruent 3``."""
    return " ".join(str(w) for w in (c.rule.value, c.column, c.count) if w is not None)


def _line(node: ir.Node) -> int | None:
    return node.span.line if node.span else None


def _literal(value: object, depth: int) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _string(str(value), depth)


def _escape(text: str, long: bool) -> str:
    """String text escaped for a literal: braces doubled; backslashes, quotes and control
    characters escaped (a long string keeps its newlines)."""
    text = text.replace("{", "{{").replace("}", "}}")
    if long:
        return "\n".join(json.dumps(line, ensure_ascii=False)[1:-1].replace('\\"', '"')
                         .replace('"""', '\\"""') for line in text.split("\n"))
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _group_source(group: ir.Group, depth: int) -> str:
    """`` by SOURCE`` of a group declaration; nothing for the default, the participant."""
    if group.source is ir.GroupSource.PARTICIPANT:
        return ""
    param = f" {_string(group.param, depth)}" if group.param is not None else ""
    return f" by {group.source.value}{param}"


def _string(text: str, depth: int) -> str:
    """A string literal that parses back to ``text``: triple-quoted when that survives the
    dedent of long strings (a line that starts without a space; no line of only spaces, no
    last blank line) and holds no three quotes (which end it), else on one line."""
    lines = text.split("\n")
    if len(lines) == 1 or any(line.isspace() for line in lines) or not lines[-1] or \
            not any(line and not line.startswith(" ") for line in lines) or '"""' in text:
        return f'"{_escape(text, long=False)}"'
    inner = INDENT * (depth + 1)
    lines = _escape(text, long=True).split("\n")
    body = "\n".join(inner + line if line else "" for line in lines)
    return f'"""\n{body}\n{INDENT * depth}"""'


def _quoted(text: str, quote: str) -> str:
    """A one-line string literal in ``quote`` quotes (inside a hole, only ' can be used)."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    body = body.replace("{", "{{").replace("}", "}}").replace(quote, "\\" + quote)
    return f"{quote}{body}{quote}"


def _hole(text: str) -> str:
    """``{text}``, spaced when the text starts or ends with a brace, which would otherwise
    read as an escaped ``{{`` or ``}}``."""
    if text.startswith("{") or text.endswith("}"):
        return "{ " + text + " }"
    return "{" + text + "}"


def _template(node: ir.Template, printer: _Printer, depth: int) -> str:
    long = any(isinstance(p, str) and "\n" in p for p in node.parts)
    printer.in_template = True
    try:
        text = "".join(_escape(p, long) if isinstance(p, str) else
                       _hole(printer.expr(p, depth)) for p in node.parts)
    finally:
        printer.in_template = False
    if not long:
        return f'"{text}"'
    inner = INDENT * (depth + 1)
    body = "\n".join(inner + line if line else "" for line in text.split("\n"))
    return f'"""\n{body}\n{INDENT * depth}"""'
