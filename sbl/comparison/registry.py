"""What an analysis is, and the registry that picks analyses by the kinds in the data.

An analysis is one function registered for the stimulus kinds it understands
(``@analysis()``; a kind names its analysis in its declaration, ``compare = "bandit"``, and
the decorator may name more kinds). It gets every dataset's rows of those kinds and returns a
:class:`Section`: its numbers as DataFrames (``frames``), the summaries shown in the terminal
and the report (``tables``), the plots to draw (``plots``, drawn by
:mod:`sbl.comparison.plots`) and, optionally, the headline score of the comparison.
Analyses never draw and never print, so their numbers can be tested alone. A new kind's
analysis is one function with the decorator, in a module listed in ``MODULES``, and its name
in the kind's declaration.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas

from sbl.comparison import stats
from sbl.data.rows import Rows
from sbl.kinds import all_kinds

# The modules that register analyses, imported when the registry is first read.
MODULES: tuple[str, ...] = (
    "sbl.comparison.bandit", "sbl.comparison.keyboard", "sbl.comparison.survey")


@dataclass(frozen=True)
class Dataset:
    """One data file (or one Rows object) compared as a whole: its label and rows."""

    label: str
    rows: Rows
    origin: str = ""

    @property
    def frame(self) -> pandas.DataFrame:
        """The rows as a DataFrame."""
        return self.rows.to_pandas()


@dataclass(frozen=True)
class Table:
    """A summary shown as a table: ``frame`` is long, with the ``keys`` columns, then
    ``dataset``, ``n``, ``mean`` and ``se``; shown with one row per key and one column per
    dataset, each cell ``mean ± se``. ``digits`` per measure (the first key) or for all."""

    name: str
    title: str
    frame: pandas.DataFrame
    keys: tuple[str, ...] = ("measure",)
    digits: int | dict[str, int] = 2
    note: str = ""

    def digits_for(self, key: object) -> int:
        """How many decimals the row ``key`` is shown with."""
        if isinstance(self.digits, int):
            return self.digits
        return self.digits.get(str(key), 2)


@dataclass(frozen=True)
class Plot:
    """A plot to draw: ``lines`` (y over x, one line per series, a ±SE band when there are
    several participants) or ``bars`` (one bar per series at each x, ±SE error bars).
    ``panels`` names a column that splits the plot into side-by-side panels; ``colors``
    maps series values to colours."""

    name: str
    title: str
    style: str
    frame: pandas.DataFrame
    x: str
    y: str = "mean"
    se: str = "se"
    series: str = "dataset"
    panels: str | None = None
    xlabel: str = ""
    ylabel: str = ""
    ylim: tuple[float, float] | None = None
    colors: dict[str, str] = field(default_factory=dict)
    caption: str = ""


@dataclass(frozen=True)
class Headline:
    """The comparison's first line: one measure per participant (``participants``: dataset,
    participant, value), averaged per dataset (``frame``: dataset, n, mean, se)."""

    measure: str
    participants: pandas.DataFrame
    digits: int = 1
    ylim: tuple[float, float] | None = None  # the measure's range, for plots (a proportion)

    @property
    def frame(self) -> pandas.DataFrame:
        """Per dataset: the number of participants with a value, their mean and its SE."""
        return stats.summarise(self.participants, [])


@dataclass(frozen=True)
class Section:
    """What one analysis found."""

    name: str
    title: str
    frames: dict[str, pandas.DataFrame]
    tables: tuple[Table, ...] = ()
    plots: tuple[Plot, ...] = ()
    headline: Headline | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Options:
    """Choices the user can make about the analyses (``--by``, ``--win-above``,
    ``--measure``)."""

    by: tuple[str, ...] = ()
    win_above: float | None = None
    # columns never taken for a condition unless --by names them: those every row of the
    # data has a value in, whatever its kind (running state: shared variables), and the
    # participant's counterbalancing group (the same on all their rows)
    not_conditions: frozenset[str] = frozenset()
    measures: tuple[str, ...] = ()  # columns whose mean is compared by condition


Analysis = Callable[[Sequence[Dataset], Options], Section | None]


@dataclass(frozen=True)
class Registered:
    """An analysis and the kinds it reads."""

    name: str
    named: tuple[str, ...]  # kinds given to the decorator
    run: Analysis

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds whose declaration names this analysis (``compare = "keyboard"`` in
        ``stdlib/kinds/*.toml``), then any other kinds the decorator names."""
        declared = tuple(k.name for k in all_kinds().values() if k.compare == self.name)
        return declared + tuple(k for k in self.named if k not in declared)


ANALYSES: dict[str, Registered] = {}


def analysis(*kinds: str) -> Callable[[Analysis], Analysis]:
    """Register the decorated function as an analysis (its name is the function's name) of
    the kinds whose declaration names it and of ``kinds``."""
    def register(func: Analysis) -> Analysis:
        ANALYSES[func.__name__] = Registered(func.__name__, kinds, func)
        return func
    return register


def registered() -> dict[str, Registered]:
    """Every registered analysis, by name (importing the modules that register them)."""
    for module in MODULES:
        importlib.import_module(module)
    return ANALYSES


def chosen(datasets: Sequence[Dataset]) -> list[Registered]:
    """The analyses whose kinds occur in the data, in registration order."""
    present = {str(row.get("kind")) for d in datasets for row in d.rows}
    return [a for a in registered().values() if present & set(a.kinds)]


def only_kinds(datasets: Sequence[Dataset], kinds: Sequence[str]) -> list[Dataset]:
    """Each dataset with only its rows of ``kinds`` (datasets left empty are kept, empty)."""
    wanted = set(kinds)
    out = []
    for d in datasets:
        keep = [i for i, row in enumerate(d.rows) if row.get("kind") in wanted]
        out.append(Dataset(d.label, Rows([d.rows[i] for i in keep], origin=d.rows.origin),
                         d.origin))
    return out
