"""Source files and the diagnostics a person sees: ``path:line:col: error: message``.

Every error sbl reports about a user's input is an :class:`SblError` holding one or more
:class:`Diagnostic`; the CLI prints them and exits 1, never with a traceback.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sbl.ir import Span


class Severity(enum.Enum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message about one place in a file, with an optional help line."""

    message: str
    span: Span | None
    severity: Severity = Severity.ERROR
    help: str | None = None

    def sort_key(self) -> tuple[str, int, int]:
        """Order diagnostics by file and position."""
        s = self.span
        return (s.path, s.line, s.col) if s else ("", 0, 0)


@dataclass(eq=False)
class SblError(Exception):
    """An error in a user's input: one or more diagnostics, already sorted."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.diagnostics.sort(key=Diagnostic.sort_key)
        super().__init__(self.diagnostics[0].message if self.diagnostics else "error")

    @classmethod
    def at(cls, span: Span | None, message: str, help: str | None = None) -> SblError:
        """An error with a single diagnostic."""
        return cls([Diagnostic(message, span, help=help)])


def source_line(span: Span) -> str | None:
    """The line ``span`` starts on, from the text it carries; None when it carries none."""
    if span.text is None:
        return None
    lines = span.text.split("\n")  # not splitlines(): sbl counts only '\n' as a line break
    return lines[span.line - 1].rstrip("\r") if 0 < span.line <= len(lines) else ""


def read_source(path: str | Path) -> str:
    """Read a UTF-8 text file for parsing; unreadable or binary input is an SblError."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SblError.at(None, f"{name}: cannot read file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        shown = data.decode("utf-8", errors="replace")
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SblError.at(Span(name, line, col, line, col + 1, shown),
                          f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        col = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise SblError.at(Span(name, line, col, line, col + 1, text.replace("\0", "\ufffd")),
                          "the file contains a NUL byte; is it a binary file?")
    return text


def _width(text: str) -> int:
    """Display width of ``text`` in a terminal (wide East Asian characters count twice)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render(diagnostic: Diagnostic) -> str:
    """Format a diagnostic the way rustc and STYLE.md do: location, quoted line, carets."""
    d, s = diagnostic, diagnostic.span
    where = f"{s}: " if s else ""
    out = [f"{where}{d.severity.value}: {d.message}"]
    line = source_line(s) if s else None
    if s and line is not None:
        line, s = _window(line, s)
        gutter = " " * len(str(s.line))
        start = _width(line[: s.col - 1].expandtabs(1))
        end_col = s.end_col if s.end_line == s.line else len(line) + 1
        length = max(1, _width(line[s.col - 1: end_col - 1].expandtabs(1)))
        out += [f"{gutter} |", f"{s.line} | {line.expandtabs(1)}",
                f"{gutter} | {' ' * start}{'^' * length}"]
        if d.help:
            out.append(f"{gutter} = help: {d.help}")
    elif d.help:
        out.append(f"  = help: {d.help}")
    return "\n".join(out)


def _window(line: str, span: Span, width: int = 100) -> tuple[str, Span]:
    """Cut a long source line down to ``width`` characters around the span."""
    if len(line) <= width:
        return line, span
    start = max(0, span.col - 1 - width // 2)
    cut = line[start:start + width]
    prefix = "..." if start else ""
    suffix = "..." if start + width < len(line) else ""
    shift = start - len(prefix)
    end_col = min(span.end_col if span.end_line == span.line else len(line) + 1,
                  start + width + 1)
    return prefix + cut + suffix, Span(span.path, span.line, span.col - shift, span.line,
                                       end_col - shift, span.text)


MAX_SHOWN = 50


def render_all(error: SblError) -> str:
    """The diagnostics of ``error`` (the first ``MAX_SHOWN``), then a count of the errors."""
    blocks = [render(d) for d in error.diagnostics[:MAX_SHOWN]]
    errors = sum(d.severity is Severity.ERROR for d in error.diagnostics)
    if len(error.diagnostics) > MAX_SHOWN:
        blocks.append(f"... {len(error.diagnostics) - MAX_SHOWN} more not shown")
    if errors > 1:
        blocks.append(f"{errors} errors")
    return "\n\n".join(blocks)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` help line for the candidate closest to ``name``, if any is close."""
    import difflib

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1: ``counted(1, "response")`` is "1 response"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
