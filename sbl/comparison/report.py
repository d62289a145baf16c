"""Showing a comparison: rich tables in the terminal, and a self-contained HTML report.

The terminal and the report show the same cells. The report is one HTML file: its plots are
PNG data URIs, its style inline; it loads nothing and runs no script. Each plot is also
written next to it as a PNG file.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from sbl.comparison import plots
from sbl.comparison.registry import Headline, Table
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.comparison import Comparison

WIDTH = 100
NUMBER = re.compile(r"^(–|-?[0-9][0-9.]*( ± [0-9.]+)?( \(n=[0-9]+\))?)$")
FOOTNOTE = ("n counts participants; ± is one standard error of the mean over participants; "
            "bands and error bars in the plots show mean ± 1 SE.")


@dataclass(frozen=True)
class Shown:
    """A table as text cells: title, header, rows, and a note under it."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""

    @property
    def right(self) -> list[bool]:
        """Per column: whether it holds numbers, shown right-aligned."""
        return [numeric([row[i] for row in self.rows]) for i in range(len(self.header))]


def cell(mean: float, se: float, n: int, n_all: int, digits: int) -> str:
    """``mean ± se``, the SE left out for one participant, ``(n=k)`` when not everyone
    had a value, ``–`` when no one had."""
    if n == 0 or math.isnan(mean):
        return "–"
    text = f"{mean:.{digits}f}"
    if not math.isnan(se):
        text += f" ± {se:.{digits}f}"
    return text + (f" (n={n})" if n < n_all else "")


def shown_table(table: Table, labels: Sequence[str], counts: dict[str, int]) -> Shown:
    """One row per key, one column per dataset that has values."""
    frame = table.frame
    present = [g for g in labels if g in set(frame["dataset"])]
    header = [*table.keys, *(f"{g} (n={counts.get(g, 0)})" for g in present)]
    rows = []
    keys = list(dict.fromkeys(tuple(r[k] for k in table.keys) for _, r in frame.iterrows()))
    for key in keys:
        mask = (frame[list(table.keys)] == list(key)).all(axis=1)
        part = frame[mask].set_index("dataset")
        cells = [cell(float(part.loc[g, "mean"]), float(part.loc[g, "se"]),
                      int(part.loc[g, "n"]), counts.get(g, 0), table.digits_for(key[0]))
                 if g in part.index else "–" for g in present]
        rows.append([*(str(k) for k in key), *cells])
    return Shown(table.title, header, rows, table.note)


def headline_text(headline: Headline, labels: Sequence[str]) -> str:
    """``Score (total points per participant): people 53.0 ± 2.1 (n=3), model 41.0 (n=1)``."""
    frame = headline.frame.set_index("dataset")
    parts = []
    for g in labels:
        if g not in frame.index:
            continue
        mean, se, n = (float(frame.loc[g, "mean"]), float(frame.loc[g, "se"]),
                       int(frame.loc[g, "n"]))
        parts.append(f"{g} {cell(mean, se, n, n, headline.digits)} (n={n})")
    return f"Score ({headline.measure}): " + ", ".join(parts)


def overview(comparison: Comparison) -> Shown:
    """Which data each dataset is: file (unless each label is its file's stem), participants,
    trials, responses, sources."""
    frame = comparison.overview
    named = zip(frame["dataset"], frame["file"], strict=True)
    if all(not f or Path(f).stem == d for d, f in named):
        frame = frame.drop(columns="file")
    rows = [[str(v) for v in r] for r in frame.itertuples(index=False)]
    return Shown("Data compared", list(frame.columns), rows)


def headlines(comparison: Comparison) -> list[str]:
    """The first lines: each analysis's score, the first analysis first."""
    lines = [headline_text(s.headline, comparison.labels) for s in comparison.sections
             if s.headline is not None]
    if lines:
        return lines
    compared = "Compared: " + ", ".join(
        f"{g} ({n} participants)" for g, n in comparison.counts().items())
    if comparison.sections:
        return [compared]
    # without an analysis for the data's kinds, say what can still be compared
    return [compared, "No analysis reads these kinds of trials; --measure COLUMN compares "
                      "the mean of a data field (a custom data field, a condition column)."]


# ---------------------------------------------------------------- terminal


def print_summary(comparison: Comparison, console: Console) -> None:
    """The headline, the data overview and every section's tables and notes."""
    for line in headlines(comparison):
        console.print(Text(line, style="bold"))
    console.print()
    _print_table(console, overview(comparison))
    for section in comparison.sections:
        counts = comparison.counts(section.name)
        console.print()
        console.print(Text(section.title, style="bold underline"))
        for table in section.tables:
            _print_table(console, shown_table(table, comparison.labels, counts))
        for note in section.notes:
            console.print(Text(note, style="dim"))
    console.print()
    console.print(Text(FOOTNOTE, style="dim"))


def numeric(column: Sequence[str]) -> bool:
    """Whether a column holds numbers (``53.0 ± 2.1 (n=2)``, ``–``): shown right-aligned."""
    return all(NUMBER.match(c) for c in column)


def _print_table(console: Console, shown: Shown) -> None:
    table = RichTable(title=shown.title, title_justify="left", header_style="bold",
                      min_width=len(shown.title))
    for name, right in zip(shown.header, shown.right, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in shown.rows:
        table.add_row(*row)
    console.print(table)
    if shown.note:
        console.print(Text(shown.note, style="dim"))


def summary_text(comparison: Comparison, width: int = WIDTH) -> str:
    """The terminal summary as plain text (no colour), ``width`` columns wide."""
    console = Console(file=io.StringIO(), width=width, color_system=None, record=True,
                      force_terminal=False, legacy_windows=False)
    print_summary(comparison, console)
    # rich pads every line to the console's width; the padding carries nothing.
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


# ---------------------------------------------------------------- HTML


def write_report(comparison: Comparison, directory: str | Path) -> Path:
    """Write ``index.html`` and one PNG per plot into ``directory``; returns the HTML path."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SblError.at(None, f"cannot create the report folder '{folder}': "
                                f"{exc.strerror}") from None
    context = _context(comparison, folder)
    html = _template().render(**context)
    index = folder / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def _context(comparison: Comparison, folder: Path) -> dict[str, Any]:
    """Plain data for the template; writes the PNGs as it goes."""
    colours = plots.dataset_colors(comparison.labels)
    sections = []
    for section in comparison.sections:
        counts = comparison.counts(section.name)
        figures = []
        for plot in section.plots:
            png = plots.draw(plot, colours)
            name = f"{section.name}-{plot.name}.png"
            (folder / name).write_bytes(png)
            figures.append({"title": plot.title, "file": name, "caption": plot.caption,
                            "uri": "data:image/png;base64," + base64.b64encode(png).decode()})
        sections.append({
            "title": section.title, "notes": list(section.notes), "figures": figures,
            "tables": [shown_table(t, comparison.labels, counts) for t in section.tables]})
    from sbl import __version__

    return {"title": "sbl comparison: " + " vs ".join(comparison.labels),
            "headlines": headlines(comparison), "overview": overview(comparison),
            "sections": sections, "version": __version__, "footnote": FOOTNOTE}


def _template():  # type: ignore[no-untyped-def]
    from importlib import resources

    import jinja2

    text = resources.files("sbl.comparison").joinpath("report.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.from_string(text)
