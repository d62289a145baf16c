"""Drawing the analyses' plots as PNG with matplotlib's Agg canvas (no pyplot, no display).

Two styles cover every analysis: ``lines`` (y over x, one line per series, a shaded
mean ± SE band where the series has several participants; optionally one panel per dataset,
side by side) and ``bars`` (one bar per series at each x, ±SE error bars). Datasets keep one
colour in every plot of a report.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence

import pandas
from matplotlib import colors as mcolors
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sbl.comparison.registry import Plot

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
DPI = 100


def dataset_colors(labels: Sequence[str]) -> dict[str, str]:
    """A colour for each dataset, in order (the palette repeats past ten datasets)."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def draw(plot: Plot, datasets: dict[str, str]) -> bytes:
    """The plot as PNG bytes; ``datasets`` gives each dataset's colour."""
    figure = _lines(plot, datasets) if plot.style == "lines" else _bars(plot, datasets)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # No Software/date metadata: the same numbers give the same bytes.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _order(values: pandas.Series) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values))


def _palette(plot: Plot, series: list[str], datasets: dict[str, str]) -> dict[str, str]:
    """Series colours: the plot's own when they are colours, else the datasets', else the
    palette in order."""
    out = {}
    for i, name in enumerate(series):
        given = plot.colors.get(name)
        if given and mcolors.is_color_like(given):
            out[name] = given
        else:
            out[name] = datasets.get(name, PALETTE[i % len(PALETTE)])
    return out


def _lines(plot: Plot, datasets: dict[str, str]) -> Figure:
    frame = plot.frame
    panels = _order(frame[plot.panels]) if plot.panels else [""]
    series = _order(frame[plot.series])
    colours = _palette(plot, series, datasets)
    figure = Figure(figsize=(1.0 + 4.2 * len(panels), 3.6), layout="constrained")
    axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        part = frame[frame[plot.panels].astype(str) == panel] if plot.panels else frame
        for name in series:
            rows = part[part[plot.series].astype(str) == name]
            if len(rows):
                _line(ax, rows, plot, name, colours[name])
        if plot.ylim:
            ax.set_ylim(*plot.ylim)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(plot.xlabel)
        ax.grid(alpha=0.3)
        _integer_ticks(ax)
    axes[0].set_ylabel(plot.ylabel)
    axes[-1].legend(fontsize=8, loc="best", title=plot.series, title_fontsize=8)
    figure.suptitle(plot.title, fontsize=11)
    return figure


def _line(ax, rows: pandas.DataFrame, plot: Plot, name: str, colour: str) -> None:  # type: ignore[no-untyped-def]
    x = rows[plot.x].astype(float).to_numpy()
    y = rows[plot.y].astype(float).to_numpy()
    se = rows[plot.se].astype(float).to_numpy()
    ax.plot(x, y, marker="o", markersize=3, color=colour, label=name)
    if any(not math.isnan(v) for v in se):
        low, high = y - se, y + se
        if plot.ylim:  # a proportion's band stays within 0..1
            low, high = low.clip(*plot.ylim), high.clip(*plot.ylim)
        ax.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)


def _integer_ticks(ax) -> None:  # type: ignore[no-untyped-def]
    """Trial numbers are whole: no 2.5 ticks."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _bars(plot: Plot, datasets: dict[str, str]) -> Figure:
    frame = plot.frame
    categories = _order(frame[plot.x])
    series = _order(frame[plot.series])
    colours = _palette(plot, series, datasets)
    width = 0.8 / max(1, len(series))
    # Long labels (conditions, questions) wrap; many of them also slant.
    long = max((len(c) for c in categories), default=0) > 14
    slant = long and len(categories) > 4
    labels = [textwrap.fill(c, 28 if slant else 18) for c in categories]
    per = 0.9 * max(1, len(series)) ** 0.5
    per = max(per, 1.8) if long and not slant else per
    across = 2.2 + per * len(categories)  # 2.2: the axis and the legend
    figure = Figure(figsize=(max(3.5, across), 3.6 + (1.6 if slant else 0.6 if long else 0)),
                    layout="constrained")
    ax = figure.subplots()
    for i, name in enumerate(series):
        part = frame[frame[plot.series].astype(str) == name]
        rows = part.set_index(part[plot.x].astype(str))
        y = [_value(rows, c, plot.y) for c in categories]
        err = [_value(rows, c, plot.se) for c in categories]
        positions = [k - 0.4 + width * (i + 0.5) for k in range(len(categories))]
        ax.bar(positions, [0 if math.isnan(v) else v for v in y], width, color=colours[name],
               label=name, yerr=_clipped(y, err, plot.ylim), capsize=3,
               error_kw={"elinewidth": 1})
    ax.set_xticks(range(len(categories)), labels, rotation=25 if slant else 0,
                  ha="right" if slant else "center", fontsize=8 if long else 9)
    ax.set_xlabel(plot.xlabel)
    ax.set_ylabel(plot.ylabel)
    if plot.ylim:
        ax.set_ylim(*plot.ylim)
    ax.grid(axis="y", alpha=0.3)
    # Outside the axes, so it never hides a bar; titled, so a dataset is never taken for
    # a condition.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
              title=plot.series, title_fontsize=8, alignment="left")
    ax.set_title(plot.title, fontsize=11)
    return figure


def _clipped(y: list[float], err: list[float],
             ylim: tuple[float, float] | None) -> list[list[float]]:
    """Error bars (below, above) of mean ± SE, kept inside ``ylim`` (a proportion's bar
    never passes 1); none where the SE is undefined."""
    low, high = ylim if ylim else (-math.inf, math.inf)
    below, above = [], []
    for v, e in zip(y, err, strict=True):
        if math.isnan(v) or math.isnan(e):
            below.append(0.0)
            above.append(0.0)
            continue
        below.append(v - max(low, v - e))
        above.append(min(high, v + e) - v)
    return [below, above]


def _value(rows: pandas.DataFrame, category: str, column: str) -> float:
    if category not in rows.index:
        return math.nan
    value = rows.loc[category, column]
    if isinstance(value, pandas.Series):
        value = value.iloc[0]
    return math.nan if value is None else float(value)
