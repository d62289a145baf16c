"""What a text participant has read: the transcript, line by line, and what it has told them.

The runtime decides what a trial shows; this keeps the rules of how it is written down
(docs/language.md, "What a model reads"): a kind's setting (what stays the same across its
trials) only when it changes, on a line of its own or in the trial's line; the option labels
introduced once; a blank line before each block header; an outcome (a feedback trial)
continuing the line of the answered trial it follows; and where each trial's text ends, so a
recording that stops early gives exactly the text its participant read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sbl.backends.text import render


class Reading:
    """The lines a participant has read, and what they have been told."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ends: list[int] = []  # per trial, how many characters had been read after it
        self.introduced = False  # whether the option labels have been introduced
        self.open = False  # whether the last line written is an answered trial's, unfinished
        self._settings: dict[str, str] = {}  # per kind, the setting last written
        self._size = 0  # len(self.text), kept as lines are written
        # an open transcript's settings with an open value ("…") may have changed: restated
        self.restate_open = False

    @property
    def text(self) -> str:
        """Everything read so far (Psych-101 text, no trailing newline)."""
        return "\n".join(self.lines)

    def until(self, trials: int) -> str:
        """What had been read when the first ``trials`` trials were over."""
        end = self.ends[trials - 1] if 0 < trials <= len(self.ends) else 0
        return self.text[:end].rstrip("\n")

    def trial(self, line: str | None, *, answered: bool = False, continued: bool = False
              ) -> None:
        """A trial is over: its line, unless it is left out of the transcript (None), or,
        ``continued``, the rest of the line before it. A trial left out changes nothing else:
        the line before stays open to an outcome."""
        if line is not None and continued and self.open:
            self.lines[-1] += " " + line
            self._size += 1 + len(line)
            self.open = False
        elif line is not None:
            self._write(line)
            self.open = answered and not line.endswith("\n")  # not a page of instructions
        self.ends.append(self._size)

    def _write(self, line: str) -> None:
        """A new line."""
        self._size += len(line) + (1 if self.lines else 0)
        self.lines.append(line)
        self.open = False

    def setting(self, kind: str, view: Mapping[str, Any], options: bool, *,
                inline: bool = False) -> str:
        """The setting of ``kind`` for a trial with this ``view``, when it differs from the
        one last written for the kind (else ""); the first one of a kind whose ``options``
        are labels introduces the labels, unless some text already did. It is written on a
        line of its own, unless ``inline`` (the trial's line holds it: it is returned)."""
        state = render.render_setting(kind, {**view, "intro": False})
        intro = options and not self.introduced
        same = state == self._settings.get(kind) and not (self.restate_open and "…" in state)
        if not state or (same and not intro):
            return ""
        self._settings[kind] = state
        if intro:
            self.introduced = True
            state = render.render_setting(kind, {**view, "intro": True})
        if not inline:
            self._write(state)
        return state

    def header(self, text: str) -> None:
        """A block header: a blank line (unless one ends the text already), then ``text``."""
        if self.lines and not self.lines[-1].endswith("\n"):
            self._write("")
        if text:
            self._write(text)
        self.open = False
