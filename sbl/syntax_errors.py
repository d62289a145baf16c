"""Lark's parse errors, said in the user's words (STYLE.md, "Errors a person sees").

Terminal names become the text a person types (``RBRACE`` → ``'}'``); a missing token is
reported just after the token it should follow; at the end of the file the innermost block,
stimulus or bracket that is still open is named, at the place where it was opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from sbl.evaluate import BUILTINS
from sbl.ir import Span
from sbl.source import SblError

_PUNCT = {
    "LBRACE": "{", "RBRACE": "}", "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]",
    "COLON": ":", "COMMA": ",", "EQUAL": "=", "DOT": ".", "DOTDOT": "..", "MINUS": "-",
    "POW": "^", "ADD_OP": "+", "MUL_OP": "*", "COMP_OP": "==",
}
_WORDS = {"NAME": "a name", "NUMBER": "a number", "INT": "a whole number",
          "STRING": "a string", "LONG_STRING": "a string", "$END": "the end of the file"}
_EXPR_START = {"NAME", "NUMBER", "STRING", "LONG_STRING", "LSQB", "LBRACE", "LPAR", "MINUS",
               "NOT", "IF", "FOR", "TRUE", "FALSE", "NONE", "PREV"}
_OPERATORS = {"ADD_OP", "MINUS", "MUL_OP", "POW", "COMP_OP", "IN", "AND", "OR", "DOTDOT",
              "DOT", "LSQB"}
# Tokens whose absence is best reported right after the token before.
_FOLLOWERS = {"COLON", "EQUAL", "RPAR", "RSQB", "RBRACE", "COMMA", "LBRACE", "THEN", "ELSE",
              "IN"}
_ORDER = ["COLON", "EQUAL", "LBRACE", "RBRACE", "RPAR", "RSQB", "COMMA", "expression", "NAME"]


@dataclass(frozen=True, slots=True)
class _Open:
    char: str
    offset: int
    context: str


def translate(exc: lark.exceptions.LarkError, text: str, path: str) -> SblError:
    """Turn a Lark exception into an SblError with one diagnostic in the user's words."""
    reused = _reused_quote(exc, text, path)
    if reused is not None:
        return reused
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, text, path)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        return _unexpected(exc, text, path)
    if isinstance(exc, UnexpectedInput):
        return _end_of_file(text, path, getattr(exc, "expected", set()))
    return SblError.at(None, f"{path}: cannot parse: {exc}")


# A string on one line (what STRING lexes), and what the lexer skips or reads as one token.
_ONE_LINE = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
_STRINGS_AND_COMMENTS = r'"""(?:.|\n)*?"""|' + _ONE_LINE + r"|#[^\n]*"
QUOTED = re.compile(_ONE_LINE)
_LINE_RUNS = re.compile(_STRINGS_AND_COMMENTS)


def _reused_quote(exc: lark.exceptions.LarkError, text: str, path: str) -> SblError | None:
    """The error when a string on the failing line ends inside one of its own ``{…}`` holes:
    a string in the hole used the outer quote, which closed the outer string early."""
    token = getattr(exc, "token", None)
    offset = getattr(exc, "pos_in_stream", None) if token is None else token.start_pos
    if offset is None or (token is not None and token.type == "$END"):
        return None
    line_start = text.rfind("\n", 0, offset) + 1
    for m in _LINE_RUNS.finditer(text, line_start, offset):
        quote = m.group()[0]
        if quote == "#" or m.group().startswith('"""'):
            continue
        hole = open_hole(m.group()[1:-1])
        if hole is not None:
            other = "'" if quote == '"' else '"'
            span = _span_at(text, path, m.end() - 1, m.end())
            opened = _span_at(text, path, m.start() + 1 + hole, m.start() + 2 + hole)
            return SblError.at(span, f"this {quote} ends the string, but its '{{' at column "
                                     f"{opened.col} is still open",
                               help=f"a string inside '{{…}}' uses the other quote: write "
                                    f"{other}…{other} inside {quote}…{quote}")
    return None


def open_hole(body: str) -> int | None:
    """Where the ``{`` of an interpolation hole that is never closed starts in a string's
    ``body`` (``{{`` is a brace, strings inside holes are skipped), or None."""
    depth, start, j = 0, 0, 0
    while j < len(body):
        char = body[j]
        if depth == 0 and body.startswith(("{{", "}}"), j):
            j += 2
            continue
        quoted = QUOTED.match(body, j) if depth and char in "'\"" else None
        if quoted:
            j = quoted.end()
            continue
        if char == "{":
            start = j if depth == 0 else start
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        j += 1
    return start if depth else None



def _span_at(text: str, path: str, start: int, end: int) -> Span:
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = text.count("\n", 0, end) + 1
    end_col = end - (text.rfind("\n", 0, end) + 1) + 1
    return Span(path, line, col, end_line, end_col, text)


def _bad_character(exc: UnexpectedCharacters, text: str, path: str) -> SblError:
    pos = exc.pos_in_stream or 0
    char = text[pos] if pos < len(text) else ""
    span = _span_at(text, path, pos, pos + 1)
    if char in "\"'":
        return SblError.at(span, "this string is never closed on its line",
                           help='close it with a matching quote, or use """ for text '
                                "over several lines")
    shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
    if char == "&" or char == "|":
        return SblError.at(span, f"unexpected character {shown}",
                           help="write 'and' / 'or' for logic")
    if char == "!":
        return SblError.at(span, "unexpected character '!'", help="write 'not' for negation")
    return SblError.at(span, f"unexpected character {shown}")


def _describe_token(token: lark.Token) -> str:
    if token.type in ("STRING", "LONG_STRING"):
        return "a string"
    if token.type in ("NUMBER", "INT"):
        return f"the number {token}"
    if token.type == "NAME":
        return f"the name '{token}'"
    return f"'{token}'"


def _expected_words(expected: set[str]) -> list[str]:
    names = set(expected)
    words: list[str] = []
    if len(names & _EXPR_START) >= 3:
        names -= _EXPR_START
        words.append("an expression")
    if names & _OPERATORS and len(names & _OPERATORS) >= 3:
        names -= _OPERATORS
        words.append("an operator")

    def word(name: str) -> str:
        if name in _PUNCT:
            return f"'{_PUNCT[name]}'"
        return _WORDS.get(name) or f"'{name.lower()}'"

    ranked = sorted(names, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    words += [word(n) for n in ranked]
    unique = list(dict.fromkeys(words))
    return unique[:4] + (["..."] if len(unique) > 4 else [])


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _unexpected(exc: UnexpectedToken, text: str, path: str) -> SblError:
    token = exc.token
    start = token.start_pos or 0
    method = _METHOD.search(text, 0, start) if token.type == "LPAR" else None
    if method is not None:
        return _method_call(method, text, path)
    expected = set(exc.expected) | set(getattr(exc, "accepts", set()) or set())
    words = _expected_words(expected)
    found = _describe_token(token)
    prev = _previous_token_end(text, start)
    only_followers = expected and expected <= _FOLLOWERS | _OPERATORS | {"NAME"}
    if prev is not None and only_followers and expected & _FOLLOWERS:
        before = text[_token_start(text, prev):prev].strip()
        span = _span_at(text, path, prev, prev + 1)
        return SblError.at(span, f"expected {_join(words)} after '{before}', found {found}",
                           help=_hint(text[:start], expected))
    span = _span_at(text, path, start, token.end_pos or start + len(token))
    help = _hint(text[:start], expected)
    if help is None and token.type == "NAME" and "COLON" in expected:
        help = "each parameter is written 'name: value'"
    return SblError.at(span, f"expected {_join(words)}, found {found}", help=help)


# `value.name(` just before the '(': a method call, as in Python or JavaScript.
_METHOD = re.compile(r"\.\s*([A-Za-z_]\w*)\s*$")
# Methods of Python and JavaScript without a builtin of their name: the sbl way, as help.
_METHODS = {
    "append": "add a list: xs + [x]", "push": "add a list: xs + [x]",
    "extend": "add lists: xs + ys", "concat": "add lists: xs + ys", "strip": "write trim(s)",
    "includes": "write contains(xs, x) or x in xs", "startsWith": "write startswith(s, p)",
    "endsWith": "write endswith(s, p)", "toUpperCase": "write upper(s)",
    "toLowerCase": "write lower(s)", "format": "write a template: \"{x} and {y}\"",
    "indexOf": "write index(xs, x)",
    "get": "write r.name (a recorded row's missing column reads as none)",
}
# Builtins named in the help when the method has no counterpart.
_SOME_BUILTINS = ("len", "contains", "count", "split", "join", "replace", "upper", "sorted")


def _method_call(method: re.Match[str], text: str, path: str) -> SblError:
    """``xs.index(3)``: sbl has functions (builtins) that take the value first, no methods."""
    name = method.group(1)
    span = _span_at(text, path, method.start(), method.end())
    if name in BUILTINS:
        help = f"write {name}(x, ...) for x.{name}(...): a builtin takes the value first"
    elif name in _METHODS:
        help = _METHODS[name]
    else:
        help = (f"builtins take the value as their first argument: {', '.join(_SOME_BUILTINS)}"
                f", ... (docs/language.md, Builtins)")
    return SblError.at(span, f"'.{name}(...)' is a method call, and sbl has no methods",
                       help=help)


def _hint(before: str, expected: set[str]) -> str | None:
    """Help for a mistake the parser's own words would hide: a glued keyword, or a trial's
    'after' section written where a trial belongs."""
    return _glued_keyword(before) or _misplaced_section(before, expected) or _elif(before)


def _elif(before: str) -> str | None:
    """Help for ``} elif c {`` (or ``elsif``, ``elseif``) in an ``after``: sbl's is two words."""
    if re.search(r"\}\s*(elif|elsif|elseif)\s*$", before):
        return "write 'else if': } else if condition { ... }"
    return None


def _misplaced_section(before: str, expected: set[str]) -> str | None:
    """Help for ``after { x = 1 }`` outside a trial: there it reads as a trial of a kind
    named ``after``, which wants 'name: value' parameters."""
    opened = _open_brackets(before)
    if not opened or opened[-1].context != "after" or "COLON" not in expected:
        return None
    return "'after { ... }' goes inside a trial's braces, after its parameters: " \
           "text { text: \"a\" after { ... } }"


def _glued_keyword(before: str) -> str | None:
    """Help for ``blockmain {``: a keyword glued to a name reads as one unknown name."""
    for opened in reversed(_open_brackets(before)):
        match = re.fullmatch(r"(block|loop|table|shared|let)([A-Za-z_]\w*)", opened.context)
        if match:
            return f"did you mean '{match.group(1)} {match.group(2)}'? a keyword needs a " \
                   "space after it"
    return None


def _significant(text: str) -> list[tuple[int, int]]:
    """Start and end offsets of every run of text that is not blank or a comment."""
    runs = []
    for m in re.finditer(_STRINGS_AND_COMMENTS + r"|\S+?(?=\s|#|$|\"|')|\S", text):
        if not m.group().startswith("#"):
            runs.append((m.start(), m.end()))
    return runs


def _previous_token_end(text: str, offset: int) -> int | None:
    ends = [end for start, end in _significant(text[:offset])]
    return ends[-1] if ends else None


def _token_start(text: str, end: int) -> int:
    starts = [start for start, e in _significant(text[:end]) if e == end]
    return starts[-1] if starts else end


def _open_brackets(text: str) -> list[_Open]:
    """The brackets still open at the end of ``text``, outermost first."""
    stack: list[_Open] = []
    for m in re.finditer(_STRINGS_AND_COMMENTS + r"|[\[\](){}]", text):
        char = m.group()
        if char in "([{":
            line_start = text.rfind("\n", 0, m.start()) + 1
            stack.append(_Open(char, m.start(), text[line_start:m.start()].strip()))
        elif char in ")]}" and stack:
            stack.pop()
    return stack


def _describe_open(opened: _Open) -> str:
    words = opened.context.split()
    if opened.char == "{" and words:
        if words[0] in ("block", "loop") and len(words) > 1:
            return f"{words[0]} '{words[1]}'"
        if words[0] == "after":
            return "the 'after' section"
        if words[0] == "experiment":
            return "the experiment's settings"
        if re.fullmatch(r"[A-Za-z_]\w*( [A-Za-z_]\w*)?", opened.context):
            return f"stimulus '{words[-1]}'"
        return "this record"
    return {"(": "this '('", "[": "this '['"}.get(opened.char, "this '{'")


def _end_of_file(text: str, path: str, expected: set[str]) -> SblError:
    still_open = _open_brackets(text)
    if still_open:
        inner = still_open[-1]
        span = _span_at(text, path, inner.offset, inner.offset + 1)
        closer = {"{": "}", "(": ")", "[": "]"}[inner.char]
        return SblError.at(span, f"'{inner.char}' of {_describe_open(inner)} was never closed",
                           help=f"add '{closer}' where it ends; the file ended first")
    end = len(text.rstrip())
    span = _span_at(text, path, max(0, end - 1), max(1, end))
    words = _expected_words(set(expected)) or ["more"]
    if not text.strip():
        return SblError.at(Span(path, 1, 1, 1, 1, text), "the file is empty",
                           help='start with: experiment "Title"')
    return SblError.at(span, f"the file ends too early: expected {_join(words)}")
