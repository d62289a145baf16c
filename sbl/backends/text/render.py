"""Rendering trials as Psych-101 text: one Jinja2 template per kind (``stdlib/templates``).

A template lays out the trial's evaluated parameters, its option ``labels`` (or readable
``keys``), its data fields and ``response``, and marks where each answer goes with
``{{ answer }}`` (``{{ answers[i] }}`` for one answer per survey question). Everything before
the last answer must not depend on the answers: a template is rendered once before asking,
with the response-dependent values *pending*, and using a pending value before the answer
is an error naming the template; after the answers it is rendered again with the real
values, and the text before the answers must come out the same.

The text is then assembled: a free answer becomes `` <<X>>`` (one space before, the space
the template had there dropped), a forced answer (a single valid option) is written bare.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import jinja2
import jinja2.meta

from sbl import kinds
from sbl.source import SblError
from sbl.values import show

MARK, CLOSE = " <<", ">>"
_SLOT = re.compile("\x00([0-9]+)\x00")
# jsPsych key names as a text participant reads them.
_KEY_NAMES = {" ": "SPACE", "arrowleft": "LEFT", "arrowright": "RIGHT", "arrowup": "UP",
              "arrowdown": "DOWN", "enter": "ENTER", "escape": "ESCAPE", "tab": "TAB",
              "backspace": "BACKSPACE", "shift": "SHIFT", "control": "CONTROL", "alt": "ALT"}


def key_name(key: str) -> str:
    """The readable name of a jsPsych key: ``"f"`` → ``F``, ``" "`` → ``SPACE``."""
    return _KEY_NAMES.get(key.lower(), key.upper())


# ``<<`` and ``>>`` mark answers only. Elsewhere each angle bracket of a run of two or more
# becomes the single angle quotation mark of the same shape, so a flanker row ``<<<<<`` still
# reads as five arrows (‹‹‹‹‹), and a lone ``<`` or ``>`` ("5 > 3") stays as it is.
ANGLES = str.maketrans({"<": "\u2039", ">": "\u203a"})
_RUNS = re.compile("<{2,}|>{2,}")
# A line that ends one of these ends a sentence: the line break after it is the author's.
_SENTENCE_END = re.compile(r"[.!?:;]['\"\u2019\u201d)\]]*$")


def clean(text: str) -> str:
    """Text safe inside a transcript: each run of two or more ``<`` or ``>`` becomes as many
    ``‹`` or ``›``, so ``<<`` and ``>>`` appear only around answers."""
    return _RUNS.sub(lambda m: m.group().translate(ANGLES), text)


def reflow(text: str) -> str:
    """Instruction text as a model reads it: a line break inside a sentence becomes a space
    (a hard-wrapped paragraph reads as the author wrote it, not broken mid-sentence). A break
    after a line that ends a sentence, or before a line that starts with a capital letter, is
    kept (Psych-101 writes one instruction sentence a line); blank lines separate paragraphs."""
    paragraphs = re.split(r"\n[ \t]*\n\s*", text.strip())
    return "\n\n".join(_reflow_paragraph(p) for p in paragraphs if p.strip())


def _reflow_paragraph(paragraph: str) -> str:
    out: list[str] = []
    for line in (one_line(line) for line in paragraph.split("\n")):
        if not line:
            continue
        if out and not _SENTENCE_END.search(out[-1]) and not line[0].isupper():
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def one_line(text: str) -> str:
    """Text on one line: runs of whitespace (newlines included) become one space."""
    return " ".join(text.split())


class _TagStripper(HTMLParser):
    """Collects the text of an HTML fragment; block-level tags become spaces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"):
            self.parts.append(" ")


def strip_html(fragment: str) -> str:
    """The text of an HTML fragment, tags removed and entities decoded, on one line."""
    parser = _TagStripper()
    parser.feed(fragment)
    parser.close()
    # convert_charrefs decoded the entities once; decoding again would turn a shown
    # "&#97;" into "a" (the page shows "&#97;").
    return one_line("".join(parser.parts))


def display(value: Any, *, is_html: bool = False) -> Any:
    """A parameter value prepared for a template: HTML stripped, strings on one line, and
    answer markers removed, inside lists and records too."""
    if isinstance(value, str):
        return clean(strip_html(value) if is_html else one_line(value))
    if isinstance(value, list):
        return [display(v, is_html=is_html) for v in value]
    if isinstance(value, dict):
        return {k: display(v, is_html=is_html) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- pending values


class Tracker:
    """Counts the answer slots a render has shown, and which pending values it used early."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.shown = 0
        self.early: list[str] = []

    def used(self, name: str) -> None:
        """Note that ``name`` was used; an error unless every slot came before it."""
        if self.shown < self.slots and name not in self.early:
            self.early.append(name)


class Slot:
    """Where answer ``index`` goes; renders as a sentinel the assembler splits on."""

    def __init__(self, index: int, tracker: Tracker | None) -> None:
        self.index, self.tracker = index, tracker

    def __str__(self) -> str:
        if self.tracker is not None:
            self.tracker.shown = max(self.tracker.shown, self.index + 1)
        return f"\x00{self.index}\x00"


class Pending:
    """A value known only after the answer (a data field, the response). Any use of it is
    recorded; it shows as ``shown`` (``…`` in the open transcript)."""

    def __init__(self, name: str, tracker: Tracker | None, shown: str = "…") -> None:
        self._name, self._tracker, self._shown = name, tracker, shown

    def _use(self) -> Pending:
        if self._tracker is not None:
            self._tracker.used(self._name)
        return self

    def __str__(self) -> str:
        self._use()
        return self._shown

    def __bool__(self) -> bool:
        self._use()
        return True

    def __iter__(self) -> Any:
        self._use()
        return iter(())

    def __len__(self) -> int:
        self._use()
        return 0

    def __getattr__(self, name: str) -> Pending:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._use()

    def __getitem__(self, key: Any) -> Pending:
        return self._use()

    def __eq__(self, other: object) -> bool:
        self._use()
        return False

    __hash__ = object.__hash__

    def _op(self, *other: Any) -> Pending:
        return self._use()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
    __truediv__ = __rtruediv__ = __mod__ = __lt__ = __le__ = __gt__ = __ge__ = _op  # type: ignore


# ---------------------------------------------------------------- templates


def _finalize(value: Any) -> str:
    """How ``{{ x }}`` shows a value: as sbl's ``str`` does (numbers as JavaScript shows them)."""
    if isinstance(value, (Slot, Pending)):
        return str(value)
    return show(value)


def _listing(items: Sequence[Any], word: str) -> str:
    """``A``, ``A or B``, ``A, B or C``."""
    parts = [_finalize(i) for i in items]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {word} " + parts[-1]


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment every kind template renders in."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, finalize=_finalize,
                             autoescape=False, keep_trailing_newline=False)
    env.filters["or_list"] = lambda items: _listing(items, "or")
    env.filters["and_list"] = lambda items: _listing(items, "and")
    env.filters["words"] = number_word
    env.filters["ordinal"] = ordinal
    env.filters["stop"] = full_stop
    env.filters["options"] = options
    env.filters["plural"] = plural
    # a noun's last word names one of them: "slot machine" → "machine T"
    env.filters["head"] = lambda noun: (_finalize(noun).split() or [""])[-1]
    env.filters["first_upper"] = lambda text: _finalize(text)[:1].upper() + _finalize(text)[1:]
    return env


def plural(noun: Any) -> str:
    """An English noun's regular plural: ``deck`` → ``decks``, ``box`` → ``boxes``, ``key``
    → ``keys``, ``lottery`` → ``lotteries``; an irregular one is given by the author."""
    word = _finalize(noun)
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def options(choices: Sequence[Any], labels: Sequence[Any]) -> str:
    """Options as a model reads them, a sentence: ``Option T is "a", option P is "b" and
    option X is "c".``; options an open transcript does not know: ``The options are …``."""
    if isinstance(choices, Pending):
        return "The options are …"
    said = [f'option {_finalize(label)} is "{_finalize(c)}"'
            for c, label in zip(choices, labels, strict=False)]
    text = _listing(said, "and") if said else ""
    # with ``withhold`` the labels end with one more answer, "nothing", which no button has
    extra = [_finalize(label) for label in labels[len(choices):]]
    if extra and said:
        text += f"; you can also choose {_listing(extra, 'or')}"
    return text[:1].upper() + text[1:] + "."


def full_stop(text: Any, quoted: bool = False) -> str:
    """The full stop after a sentence's last words: none when they end the sentence
    themselves; unquoted, an ellipsis (an open value ``…``) ends it too ("You see …", not
    "You see …."), while after a closing quote the full stop stays ("You see "Score: …".")."""
    return "" if re.search(r"[.!?]$" if quoted else r"[.!?…]$", str(text)) else "."


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve")


def number_word(n: int) -> str:
    """A count as instructions write it: ``2`` → ``two``; beyond twelve, digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth", "eleventh", "twelfth")


def ordinal(n: int) -> str:
    """A position counted from 1 in words: ``3`` → ``third``; beyond twelfth, ``13th``."""
    if 1 <= n <= len(_ORDINALS):
        return _ORDINALS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@functools.cache
def template(kind: str) -> jinja2.Template:
    """The template of ``kind``, from ``stdlib/templates/<kind>.txt``."""
    found = _load(f"{kind}.txt")
    if found is None:
        raise SblError.at(None, f"the kind '{kind}' has no text template",
                          help=f"add stdlib/templates/{kind}.txt")
    return found


@functools.cache
def setting_template(kind: str) -> jinja2.Template | None:
    """The optional template of what stays the same across trials of ``kind``, from
    ``stdlib/templates/<kind>.setting.txt`` (e.g. the slot machines' colours)."""
    return _load(f"{kind}.setting.txt")


def _load(name: str) -> jinja2.Template | None:
    source = _source(name)
    return None if source is None else environment().from_string(source)


def _source(name: str) -> str | None:
    entry = kinds.stdlib_file("templates", name)
    return None if entry is None else entry.read_text(encoding="utf-8").rstrip("\n")


@functools.cache
def reads(kind: str, name: str) -> bool:
    """Whether the template of ``kind`` reads the variable ``name``: a template that places
    ``setting`` writes its kind's setting in the trial's line, not on a line of its own; one
    that reads ``continued`` may continue the line of the answered trial before it."""
    source = _source(f"{kind}.txt")
    if source is None:
        return False
    return name in jinja2.meta.find_undeclared_variables(environment().parse(source))


def render_setting(kind: str, context: Mapping[str, Any]) -> str:
    """The setting line of a trial of ``kind`` (empty when the kind has no setting template)."""
    source = setting_template(kind)
    if source is None:
        return ""
    try:
        return one_line(source.render(context))
    except jinja2.TemplateError as exc:
        raise SblError.at(None, f"the setting template of '{kind}' failed: {exc}",
                          help=f"see stdlib/templates/{kind}.setting.txt") from None


@dataclass(frozen=True, slots=True)
class Layout:
    """A rendered trial: ``segments[i]`` is the text before answer slot ``i``; the last
    segment follows the last slot (one segment and no slots for trials without an answer)."""

    segments: tuple[str, ...]

    @property
    def slots(self) -> int:
        """How many answers the text holds."""
        return len(self.segments) - 1


def render(name: str, context: Mapping[str, Any], slots: int,
           tracker: Tracker | None = None, source: jinja2.Template | None = None) -> Layout:
    """Render the template of kind ``name`` (or ``source``) and split it at its answer slots,
    which must appear once each and in order; a pending value used before the last slot is
    an error naming the template."""
    try:
        text = (source or template(name)).render(context)
    except jinja2.TemplateError as exc:
        raise SblError.at(None, f"the text template of '{name}' failed: {exc}",
                          help=f"see stdlib/templates/{name}.txt") from None
    if tracker is not None and tracker.early:
        names = ", ".join(repr(n) for n in tracker.early)
        raise SblError.at(None, f"the text template of '{name}' shows {names} before the "
                                f"answer, but it is known only after the answer",
                          help=f"see stdlib/templates/{name}.txt")
    return split(text, slots, f"the text template of '{name}'")


def split(text: str, slots: int, what: str) -> Layout:
    """Cut ``text`` at its slot sentinels, checking there are ``slots`` of them, in order."""
    pieces = _SLOT.split(text)
    found = [int(i) for i in pieces[1::2]]
    if found != list(range(slots)):
        raise SblError.at(None, f"{what} must show each answer once, in order; "
                                f"expected {slots}, found {len(found)}")
    return Layout(tuple(pieces[0::2]))


def assemble(layout: Layout, answers: Sequence[str], free: Sequence[bool]) -> str:
    """The trial's text with its answers: free ones as `` <<X>>``, forced ones bare."""
    out = layout.segments[0]
    for i, answer in enumerate(answers):
        out = (out.rstrip(" ") + MARK + answer + CLOSE) if free[i] else out + answer
        out += layout.segments[i + 1]
    return out


def ask_text(layout: Layout, answers: Sequence[str], free: Sequence[bool]) -> str:
    """The trial's text up to its next answer (answer ``len(answers)``), ending in `` <<``."""
    done = Layout(layout.segments[:len(answers) + 1])
    return assemble(done, answers, free).rstrip(" ") + MARK
