"""Static types of expressions, for the checker: lenient where a value is unknown (``any``),
strict where it is known, and every problem reported as a diagnostic at the node's span."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sbl import ir
from sbl import types as t
from sbl.evaluate import BUILTINS
from sbl.source import Diagnostic, did_you_mean
from sbl.types import SblType

Report = Callable[[Diagnostic], None]


@dataclass
class Scope:
    """The names visible to an expression and their static types."""

    names: Mapping[str, SblType]
    prev_fields: frozenset[str] = frozenset()
    prev_available: int = 0
    where: str = "here"
    parent: Scope | None = None
    extra: dict[str, SblType] = field(default_factory=dict)
    # names an author may expect here that are not visible, each with why (the help shown)
    hidden: Mapping[str, str] = field(default_factory=dict)
    # names visible here that could mean two things, each with the error and its help
    clashes: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def lookup(self, name: str) -> SblType | None:
        """The type of ``name``, or None when it is not defined."""
        if name in self.extra:
            return self.extra[name]
        if name in self.names:
            return self.names[name]
        return self.parent.lookup(name) if self.parent else None

    def visible(self) -> set[str]:
        """Every name in scope, for 'did you mean' suggestions."""
        above = self.parent.visible() if self.parent else set()
        return above | set(self.names) | set(self.extra)

    def why_hidden(self, name: str) -> str | None:
        """Why ``name`` is not visible here, when it is a name the author may expect."""
        if name in self.hidden:
            return self.hidden[name]
        return self.parent.why_hidden(name) if self.parent else None

    def clash(self, name: str) -> tuple[str, str] | None:
        """The error and help when ``name`` could mean two things here (None when a
        comprehension variable of that name decides it)."""
        if name in self.extra:
            return None
        if name in self.clashes:
            return self.clashes[name]
        return self.parent.clash(name) if self.parent else None

    def child(self, **names: SblType) -> Scope:
        """A scope with more names (a comprehension variable)."""
        return Scope({}, self.prev_fields, self.prev_available, self.where, self, dict(names))


def value_type(v: ir.Cell | None) -> SblType:
    """The static type of a constant."""
    if v is None:
        return t.NONE
    if isinstance(v, bool):
        return t.BOOL
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return t.INT
    return t.NUMBER if isinstance(v, float) else t.STR


def column_type(cells: tuple[ir.Cell, ...]) -> SblType:
    """The join of the types of a table column's cells (as if each were a literal), from the
    Python types present rather than cell by cell."""
    found: list[SblType] = []
    for kind in set(map(type, cells)):
        sample = next(v for v in cells if type(v) is kind)
        if kind is float and sample.is_integer():  # type: ignore[union-attr]
            whole = all(v.is_integer() for v in cells if type(v) is float)  # type: ignore
            found.append(t.INT if whole else t.NUMBER)
        else:
            found.append(value_type(sample))
    return functools.reduce(t.join, found)


class Inferrer:
    """Computes the static type of expressions, reporting the errors it finds."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def error(self, node: ir.Node, message: str, help: str | None = None) -> SblType:
        """Report an error at ``node`` and give up on its type."""
        self.report(Diagnostic(message, node.span, help=help))
        return t.ANY

    def infer(self, node: ir.Expr, scope: Scope) -> SblType:
        """The static type of ``node``."""
        method = getattr(self, "infer_" + type(node).__name__)
        return method(node, scope)  # type: ignore[no-any-return]

    def infer_Literal(self, node: ir.Literal, scope: Scope) -> SblType:
        return value_type(node.value)

    def infer_Name(self, node: ir.Name, scope: Scope) -> SblType:
        found = scope.lookup(node.name)
        if found is None:
            return self.error(node, f"unknown name '{node.name}' {scope.where}",
                              scope.why_hidden(node.name) or _builtin_help(node.name)
                              or did_you_mean(node.name, scope.visible()))
        clash = scope.clash(node.name)
        if clash is not None:
            self.error(node, *clash)
        return found

    def infer_Prev(self, node: ir.Prev, scope: Scope) -> SblType:
        if node.back > scope.prev_available:
            what = "'prev'" if node.back == 1 else f"'prev({node.back})'"
            if scope.prev_available == 0:
                return self.error(node, f"{what} is used on the first trial: no earlier trial "
                                        "exists")
            n = scope.prev_available
            return self.error(node, f"{what} reaches {node.back} trials back, but only {n} "
                                    f"trial{'s come' if n > 1 else ' comes'} before this one "
                                    "for sure")
        return t.ROW

    def infer_Attr(self, node: ir.Attr, scope: Scope) -> SblType:
        obj = t.strip_optional(self.infer(node.obj, scope))
        if isinstance(obj, t.RecordType) and obj.recorded:
            # a row reads a column it lacks as none, so only a name no row has is a mistake
            if node.name not in scope.prev_fields:
                return self.error(node, f"no trial in this experiment records '{node.name}'",
                                  did_you_mean(node.name, scope.prev_fields))
            return t.ANY
        if isinstance(obj, t.RecordType):
            found = obj.field(node.name)
            if found is None and not obj.open:
                names = [n for n, _ in obj.fields]
                return self.error(node, f"this record has no field '{node.name}' "
                                        f"(it has {', '.join(names) or 'none'})",
                                  did_you_mean(node.name, names))
            return found or t.ANY
        if obj != t.ANY:
            return self.error(node, f"'.{node.name}' needs a record, not {t.a(obj)}")
        return t.ANY

    def infer_Slice(self, node: ir.Slice, scope: Scope) -> SblType:
        obj = t.strip_optional(self.infer(node.obj, scope))
        for bound in (node.start, node.stop):
            found = t.INT if bound is None else self.infer(bound, scope)
            if bound is not None and not t.assignable(found, t.INT):
                self.error(bound, f"a slice bound must be a whole number, not {t.a(found)}")
        if isinstance(obj, t.ListType) or obj in (t.STR, t.HTML):
            return obj if isinstance(obj, t.ListType) else t.STR  # part of markup is not markup
        if obj != t.ANY:
            return self.error(node, f"cannot slice {t.a(obj)}")
        return t.ANY

    def infer_Index(self, node: ir.Index, scope: Scope) -> SblType:
        obj = t.strip_optional(self.infer(node.obj, scope))
        index = self.infer(node.index, scope)
        if isinstance(obj, t.ListType) or obj in (t.STR, t.HTML):
            if not t.assignable(index, t.INT):
                self.error(node.index, f"a position must be a whole number, not {t.a(index)}")
            return obj.item if isinstance(obj, t.ListType) else t.STR
        if isinstance(obj, t.RecordType):
            if isinstance(node.index, ir.Literal) and isinstance(node.index.value, str):
                return self.infer_Attr(ir.Attr(node.obj, node.index.value, span=node.span),
                                       scope)
            return t.ANY
        if obj != t.ANY:
            return self.error(node, f"cannot index {t.a(obj)}")
        return t.ANY

    def infer_Unary(self, node: ir.Unary, scope: Scope) -> SblType:
        operand = self.infer(node.operand, scope)
        if node.op is ir.UnaryOp.NOT:
            return t.BOOL
        if not t.assignable(operand, t.NUMBER):
            return self.error(node, f"'-' needs a number, not {t.a(operand)}")
        return operand

    def infer_Binary(self, node: ir.Binary, scope: Scope) -> SblType:
        left, right = self.infer(node.left, scope), self.infer(node.right, scope)
        op = node.op
        if op in (ir.BinaryOp.AND, ir.BinaryOp.OR, ir.BinaryOp.EQ, ir.BinaryOp.NE,
                  ir.BinaryOp.IN):
            return t.BOOL
        known = t.ANY not in (left, right)
        a, b = t.strip_optional(left), t.strip_optional(right)
        if op in (ir.BinaryOp.LT, ir.BinaryOp.LE, ir.BinaryOp.GT, ir.BinaryOp.GE):
            ok = (t.assignable(a, t.NUMBER) and t.assignable(b, t.NUMBER)) or (
                t.assignable(a, t.STR) and t.assignable(b, t.STR))
            if known and not ok:
                self.error(node, f"cannot compare {t.a(left)} with {t.a(right)} using '{op.value}'")
            return t.BOOL
        if op is ir.BinaryOp.ADD and known:
            if t.assignable(a, t.STR) and t.assignable(b, t.STR):
                return t.STR
            if isinstance(a, t.ListType) and isinstance(b, t.ListType):
                return t.join(a, b)
        if not known:
            return t.NUMBER if t.NUMBER in (a, b) or t.INT in (a, b) else t.ANY
        if not (t.assignable(a, t.NUMBER) and t.assignable(b, t.NUMBER)):
            help = "use a template such as \"Score: {score}\" to put numbers into text" \
                if t.STR in (a, b) else None
            return self.error(node, f"'{op.value}' cannot combine {t.a(left)} and "
                                    f"{t.a(right)}", help)
        whole = a == t.INT and b == t.INT and op in (
            ir.BinaryOp.ADD, ir.BinaryOp.SUB, ir.BinaryOp.MUL, ir.BinaryOp.FLOORDIV,
            ir.BinaryOp.MOD)
        return t.INT if whole else t.NUMBER

    def infer_Cond(self, node: ir.Cond, scope: Scope) -> SblType:
        self.infer(node.test, scope)
        return t.join(self.infer(node.then, scope), self.infer(node.otherwise, scope))

    def infer_Template(self, node: ir.Template, scope: Scope) -> SblType:
        for part in node.parts:
            if not isinstance(part, str):
                self.infer(part, scope)
        return t.STR

    def infer_ListExpr(self, node: ir.ListExpr, scope: Scope) -> SblType:
        item: SblType | None = None
        for element in node.items:
            found = self.infer(element, scope)
            item = found if item is None else t.join(item, found)
        return t.ListType(item or t.ANY)  # type: ignore[arg-type]

    def infer_TableData(self, node: ir.TableData, scope: Scope) -> SblType:
        if not len(node):
            return t.ListType(t.ANY)
        return t.ListType(t.RecordType(tuple(
            (name, column_type(cells)) for name, cells in zip(node.columns, node.cells,
                                                              strict=True))))

    def infer_RecordExpr(self, node: ir.RecordExpr, scope: Scope) -> SblType:
        return t.RecordType(tuple((f.name, self.infer(f.value, scope)) for f in node.fields))

    def infer_Range(self, node: ir.Range, scope: Scope) -> SblType:
        for bound in (node.start, node.stop):
            found = self.infer(bound, scope)
            if not t.assignable(found, t.INT) and found != t.NUMBER:
                self.error(bound, f"a range needs whole numbers, not {t.a(found)}")
        return t.ListType(t.INT)

    def infer_Comprehension(self, node: ir.Comprehension, scope: Scope) -> SblType:
        iterable = t.strip_optional(self.infer(node.iterable, scope))
        if iterable in (t.STR, t.HTML, t.MEDIA):
            iterable = t.ListType(t.STR)  # a string's characters
        if not isinstance(iterable, t.ListType) and iterable != t.ANY:
            self.error(node.iterable, f"'for' needs a list or a string to go over, not "
                                      f"{t.a(iterable)}")
        inner = scope.child(**{node.var: iterable.item if isinstance(iterable, t.ListType)
                               else t.ANY})
        if node.condition is not None:
            self.infer(node.condition, inner)
        return t.ListType(self.infer(node.body, inner))  # type: ignore[arg-type]

    def infer_Call(self, node: ir.Call, scope: Scope) -> SblType:
        sig = BUILTINS.get(node.func)
        if sig is None:
            for arg in node.args:
                self.infer(arg, scope)
            return self.error(node, f"unknown function '{node.func}'",
                              did_you_mean(node.func, BUILTINS))
        args = [self.infer(a, scope) for a in node.args]
        if node.func == "cross":
            return self._cross(node, scope)
        if node.kwargs:
            self.error(node.kwargs[0], f"'{node.func}' takes no named arguments")
        count = len(args)
        if count < sig.min_args or (sig.max_args is not None and count > sig.max_args):
            return self.error(node, f"'{node.func}' takes {sig.arity_text()}, not {count}")
        for arg, actual, expected in zip(node.args, args, sig.params, strict=False):
            if not t.assignable(actual, expected):
                self.error(arg, f"'{node.func}' needs {t.a(expected)} here, not {t.a(actual)}")
        return sig.result_type(args)

    def _cross(self, node: ir.Call, scope: Scope) -> SblType:
        if node.args or not node.kwargs:
            return self.error(node, "'cross' takes named lists: cross(color: [...], word: "
                                    "[...])")
        fields = []
        for kw in node.kwargs:
            found = t.strip_optional(self.infer(kw.value, scope))
            if not isinstance(found, t.ListType) and found != t.ANY:
                self.error(kw.value, f"'cross' needs a list for '{kw.name}', not {t.a(found)}")
            fields.append((kw.name, found.item if isinstance(found, t.ListType) else t.ANY))
        return t.ListType(t.RecordType(tuple(fields)))  # type: ignore[arg-type]


def _builtin_help(name: str) -> str | None:
    """Help for a builtin's name used as a value, as in ``pi / 2``: builtins are called."""
    b = BUILTINS.get(name)
    if b is None:
        return None
    call = f"{name}()" if b.max_args == 0 else f"{name}(...)"
    return f"'{name}' is a builtin function: call it, {call}"
