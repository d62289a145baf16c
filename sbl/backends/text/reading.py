"""What a text participant has read: the transcript, line by line, and what it has told them.

The runtime decides what a trial shows; this keeps the rules of how it is written down
(docs/language.md, "What a model reads"): a kind's setting line (what stays the same across
its trials) only when it changes, the option labels introduced once, a blank line before
each block header, and where each trial's text ends, so a recording that stops early gives
exactly the text its participant read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sbl.backends.text import render


class Reading:
    """The lines a participant has read, and what they have been told."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ends: list[int] = []  # per trial, how many lines there were after it
        self.introduced = False  # whether the option labels have been introduced
        self._settings: dict[str, str] = {}  # per kind, the setting line last written

    @property
    def text(self) -> str:
        """Everything read so far (Psych-101 text, no trailing newline)."""
        return "\n".join(self.lines)

    def until(self, trials: int) -> str:
        """What had been read when the first ``trials`` trials were over."""
        end = self.ends[trials - 1] if 0 < trials <= len(self.ends) else 0
        return "\n".join(self.lines[:end]).rstrip("\n")

    def trial(self, line: str | None) -> None:
        """A trial is over: its line, unless it is left out of the transcript (None)."""
        if line is not None:
            self.lines.append(line)
        self.ends.append(len(self.lines))

    def setting(self, kind: str, view: Mapping[str, Any], options: bool) -> None:
        """The setting line of ``kind`` for a trial with this ``view``, when it differs from
        the one last written for the kind; the first one of a kind whose ``options`` are
        labels introduces the labels, unless some text already did."""
        state = render.render_setting(kind, {**view, "intro": False})
        intro = options and not self.introduced
        if not state or (state == self._settings.get(kind) and not intro):
            return
        self._settings[kind] = state
        if intro:
            self.introduced = True
            state = render.render_setting(kind, {**view, "intro": True})
        self.lines.append(state)

    def header(self, text: str) -> None:
        """A block header: a blank line (unless one ends the text already), then ``text``."""
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines.append("")
        if text:
            self.lines.append(text)
