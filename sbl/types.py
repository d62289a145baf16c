"""Static types of sbl values, as the checker and the stimulus-kind declarations use them.

Types are written in declarations as ``number``, ``int``, ``str``, ``html``, ``bool``,
``any``, ``none``, ``list[T]``, ``record{a: T, b: U}`` and ``T?`` (T or none).
``html`` is a parameter whose literal text is shown as HTML; values computed into it are
escaped text (docs/language.md, Markup; sbl/markup.py). ``media`` is a string naming a media
file, relative to the .sbl file; the checker lists every value it can take (sbl/listing.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """A scalar type: number, int, str, html, media, bool, none or any."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListType:
    """A list whose items have one type."""

    item: Type | ListType | RecordType | Optional

    def __str__(self) -> str:
        return f"list[{self.item}]"


@dataclass(frozen=True, slots=True)
class RecordType:
    """A record with known fields; ``open`` records may have more fields than listed;
    ``recorded`` ones are recorded rows (``trials``, ``prev``), whose fields are the
    columns some trial records."""

    fields: tuple[tuple[str, SblType], ...]
    open: bool = False
    recorded: bool = False

    def field(self, name: str) -> SblType | None:
        """The type of field ``name``, or None when the record has no such field."""
        return next((t for n, t in self.fields if n == name), None)

    def __str__(self) -> str:
        inner = ", ".join(f"{n}: {t}" for n, t in self.fields)
        return "record{" + inner + (", ..." if self.open else "") + "}"


@dataclass(frozen=True, slots=True)
class Optional:
    """A type or none."""

    inner: Type | ListType | RecordType

    def __str__(self) -> str:
        return f"{self.inner}?"


SblType = Type | ListType | RecordType | Optional

NUMBER, INT, STR, HTML, MEDIA, BOOL, NONE, ANY = (
    Type(n) for n in ("number", "int", "str", "html", "media", "bool", "none", "any"))
_SCALARS = {t.name: t for t in (NUMBER, INT, STR, HTML, MEDIA, BOOL, NONE, ANY)}
# A recorded row (an item of `trials`, `prev`): its fields vary by kind.
ROW = RecordType((), open=True, recorded=True)
# Types whose values are strings: each may be used where another is expected.
_STRINGS = (STR, HTML, MEDIA)
_TOKEN = re.compile(r"\s*([A-Za-z_]\w*|[\[\]{}:,?])")


def parse_type(text: str) -> SblType:
    """Parse a type written in a kind declaration; raises ValueError on a malformed one."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise ValueError(f"malformed type {text!r}")
    parsed, rest = _parse(tokens)
    if rest:
        raise ValueError(f"malformed type {text!r}: unexpected {rest[0]!r}")
    return parsed


def _parse(tokens: list[str]) -> tuple[SblType, list[str]]:
    head, rest = tokens[0], tokens[1:]
    result: SblType
    if head == "list":
        if rest[:1] != ["["]:
            raise ValueError("expected '[' after list")
        item, rest = _parse(rest[1:])
        if rest[:1] != ["]"]:
            raise ValueError("expected ']'")
        result, rest = ListType(item), rest[1:]
    elif head == "record":
        result, rest = _parse_record(rest)
    elif head in _SCALARS:
        result = _SCALARS[head]
    else:
        raise ValueError(f"unknown type {head!r}")
    if rest[:1] == ["?"]:
        assert not isinstance(result, Optional)
        return Optional(result), rest[1:]
    return result, rest


def _parse_record(tokens: list[str]) -> tuple[RecordType, list[str]]:
    if tokens[:1] != ["{"]:
        raise ValueError("expected '{' after record")
    fields: list[tuple[str, SblType]] = []
    rest = tokens[1:]
    while rest[:1] != ["}"]:
        name, colon = rest[0], rest[1]
        if colon != ":":
            raise ValueError(f"expected ':' after field {name!r}")
        field_type, rest = _parse(rest[2:])
        fields.append((name, field_type))
        if rest[:1] == [","]:
            rest = rest[1:]
    return RecordType(tuple(fields)), rest[1:]


def a(t: SblType) -> str:
    """The type with its article, for messages: 'an int', 'a list[str]'."""
    if isinstance(t, Optional):
        return a(t.inner) + " or none"
    if t == MEDIA:
        return "a media file's path"
    text = str(t)
    return ("an " if text[0] in "aeiou" else "a ") + text


def strip_optional(t: SblType) -> SblType:
    """The type without its ``?``."""
    return t.inner if isinstance(t, Optional) else t


def is_optional(t: SblType) -> bool:
    """Whether none is a valid value of ``t``."""
    return isinstance(t, Optional) or t in (NONE, ANY)


def assignable(actual: SblType, expected: SblType) -> bool:
    """Whether a value of type ``actual`` may be used where ``expected`` is declared.

    The check is deliberately lenient where the checker cannot know (``any``), and strict
    where it can: a string is never a number, a list never a record.
    """
    if ANY in (actual, expected):
        return True
    if actual == NONE:
        return is_optional(expected)
    if isinstance(actual, Optional):
        # An optional value is allowed where the plain one is: none is a runtime error there.
        return assignable(actual.inner, expected)
    expected = strip_optional(expected)
    if expected == NUMBER:
        return actual in (NUMBER, INT)
    if expected in _STRINGS:
        return actual in _STRINGS
    if isinstance(expected, ListType):
        return isinstance(actual, ListType) and assignable(actual.item, expected.item)
    if isinstance(expected, RecordType):
        return isinstance(actual, RecordType) and all(
            actual.open or _field_fits(actual.field(n), t) for n, t in expected.fields)
    return actual == expected


def _field_fits(actual: SblType | None, expected: SblType) -> bool:
    if actual is None:  # a field left out is none: fine where none is
        return is_optional(expected)
    return assignable(actual, expected)


def join(a: SblType, b: SblType) -> SblType:
    """The least type holding values of both ``a`` and ``b`` (``any`` when they differ)."""
    if a == b:
        return a
    if NONE in (a, b):
        other = b if a == NONE else a
        return other if isinstance(other, Optional) or other == ANY else Optional(other)
    if isinstance(a, Optional) or isinstance(b, Optional):
        inner = join(strip_optional(a), strip_optional(b))
        return inner if inner == ANY or isinstance(inner, Optional) else Optional(inner)
    if {a, b} <= {NUMBER, INT}:
        return NUMBER
    if {a, b} <= set(_STRINGS):
        return STR
    if isinstance(a, ListType) and isinstance(b, ListType):
        return ListType(join(a.item, b.item))  # type: ignore[arg-type]
    if isinstance(a, RecordType) and isinstance(b, RecordType):
        names = [n for n, _ in a.fields] + [n for n, _ in b.fields if a.field(n) is None]
        fields = tuple((n, _join_field(a.field(n), b.field(n))) for n in names)
        return RecordType(fields, a.open or b.open, a.recorded and b.recorded)
    return ANY


def _join_field(a: SblType | None, b: SblType | None) -> SblType:
    if a is None or b is None:
        present = a if b is None else b
        assert present is not None
        return join(present, NONE)
    return join(a, b)


# Result types of builtins that follow their arguments' types (the table is in sbl/evaluate.py).
Rule = Callable[[list[SblType]], SblType]


def item_of(args: list[SblType]) -> SblType:
    """An item of the first argument, a list."""
    first = strip_optional(args[0]) if args else ANY
    return first.item if isinstance(first, ListType) else ANY


def same_list(args: list[SblType]) -> SblType:
    """The type of the first argument, a list."""
    return args[0] if args and isinstance(strip_optional(args[0]), ListType) else ListType(ANY)


def extreme(args: list[SblType]) -> SblType:
    """An item of the one list argument, or the first of several arguments (min, max)."""
    return item_of(args) if len(args) == 1 else (args[0] if args else ANY)
