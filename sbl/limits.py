"""How large an experiment may be: limits that turn would-be crashes into positioned errors.

- **Depth.** An expression nests at most :data:`MAX_DEPTH` levels: each operator, call, index,
  field access, list, record, range, ``if`` and comprehension is one level (a record's fields
  and a call's arguments are one level below it; brackets alone are none). It is checked on
  the IR before any pass recurses on it, here and in the browser (``expr.js``, the same
  number). The parser also refuses a file whose syntax tree is deeper than
  :data:`MAX_SYNTAX_DEPTH` (blocks in blocks, say) before turning it into IR.
- **Size.** A list holds at most :data:`sbl.values.MAX_ITEMS` items and a string at most
  :data:`sbl.values.MAX_CHARS` characters: ``+``, ranges, ``repeat``, ``cross``, ``join``
  and interpolation stop there with an error at the expression.

``docs/language.md`` documents them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import lark

from sbl import ir
from sbl.source import SblError
from sbl.values import MAX_CHARS, MAX_ITEMS

__all__ = ["MAX_CHARS", "MAX_DEPTH", "MAX_ITEMS", "MAX_SYNTAX_DEPTH", "check_depth",
           "check_syntax_depth"]

MAX_DEPTH = 100
# A level of IR is at most two of Lark's tree (a call and its arguments), plus statements.
MAX_SYNTAX_DEPTH = 2 * MAX_DEPTH + 50
_EXPRS = frozenset(ir.EXPR_CLASSES)


def check_depth(root: Any) -> None:
    """Refuse an expression anywhere below ``root`` (IR) nested deeper than MAX_DEPTH; walks
    the tree without recursion, so it is safe on any input."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, tuple):
            stack.extend((item, depth) for item in node)
            continue
        if not isinstance(node, ir.Node):
            continue
        level = depth + (type(node) in _EXPRS)
        if level > MAX_DEPTH:
            raise SblError.at(node.span, f"expressions nest at most {MAX_DEPTH} deep; this "
                                         f"one is deeper", help="split it with let")
        if isinstance(node, ir.TableData):
            continue  # plain data, no nodes below
        stack.extend((getattr(node, f.name), level)
                     for f in dataclasses.fields(node)  # type: ignore[arg-type]
                     if f.name != "span")


def check_syntax_depth(tree: lark.Tree, path: str, text: str) -> None:
    """Refuse a syntax tree deeper than MAX_SYNTAX_DEPTH before it is turned into IR (the
    transformer recurses once per level)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_SYNTAX_DEPTH:
            meta = node.meta
            line, col = getattr(meta, "line", 1), getattr(meta, "column", 1)
            raise SblError.at(ir.Span(path, line, col, line, col + 1, text),
                              f"this is nested more than {MAX_SYNTAX_DEPTH} levels deep "
                              f"(expressions nest at most {MAX_DEPTH} deep)",
                              help="split it with let, or flatten the blocks")
        stack.extend((child, depth + 1) for child in node.children
                     if isinstance(child, lark.Tree))
