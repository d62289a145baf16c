"""Compare datasets of participants (people, models) on the same experiment: numbers and plots.

    import sbl
    c = sbl.compare(["bandit.json", "sim.csv"], output="report/")
    c.score                 # the tutorial's comparison: total points per dataset
    c["bandit.choice"]      # every number as a DataFrame

Each data file (or Rows object) is one **dataset**, labelled by its file stem unless labels are
given. The analyses are chosen by the stimulus kinds in the data (:mod:`sbl.comparison.registry`);
every measure is computed per participant, then averaged per dataset (mean ± SE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas

from sbl.comparison.conditions import not_conditions
from sbl.comparison.counterbalancing import COLUMN as GROUP
from sbl.comparison.counterbalancing import by_group, participant_groups
from sbl.comparison.measure import check_measures, measure_section
from sbl.comparison.registry import Dataset, Options, Section, chosen, only_kinds
from sbl.data.rows import Rows
from sbl.source import SblError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Comparison", "Dataset", "compare"]

DataLike = str | Path | Rows


@dataclass
class Comparison:
    """What :func:`compare` found: the datasets, each analysis's section, and where the report
    went. Every number is a DataFrame: ``comparison["bandit.summary"]``, ``.score``."""

    datasets: list[Dataset]
    sections: list[Section]
    options: Options = field(default_factory=Options)
    output: Path | None = None

    @property
    def labels(self) -> list[str]:
        """The dataset labels, in the order given."""
        return [d.label for d in self.datasets]

    @property
    def score(self) -> pandas.DataFrame:
        """The headline score (the first analysis's): measure, dataset, n, mean, se."""
        for section in self.sections:
            if section.headline is not None:
                return section.headline.frame.assign(measure=section.headline.measure)[
                    ["measure", "dataset", "n", "mean", "se"]]
        return pandas.DataFrame(columns=["measure", "dataset", "n", "mean", "se"])

    @property
    def overview(self) -> pandas.DataFrame:
        """One row per dataset: file, participants, trials, free responses, sources."""
        rows = [[d.label, Path(d.origin).name, len(d.rows.participants), len(d.rows),
                 d.rows.n_responses, ", ".join(dict.fromkeys(str(r.get("source")) for r in d.rows))]
                for d in self.datasets]
        return pandas.DataFrame(rows, columns=["dataset", "file", "participants", "trials",
                                               "responses", "source"])

    @property
    def frames(self) -> dict[str, pandas.DataFrame]:
        """Every DataFrame, named ``section.frame`` (and ``overview``)."""
        out = {"overview": self.overview}
        for section in self.sections:
            out.update({f"{section.name}.{k}": v for k, v in section.frames.items()})
        return out

    def __getitem__(self, name: str) -> pandas.DataFrame:
        frames = self.frames
        if name not in frames:
            raise KeyError(f"{name!r}; the comparison has {', '.join(frames)}")
        return frames[name]

    def section(self, name: str) -> Section | None:
        """The section of the analysis called ``name``, or None when it did not run."""
        return next((s for s in self.sections if s.name == name), None)

    def counts(self, section: str | None = None) -> dict[str, int]:
        """Participants per dataset (in one section: those with rows of its kinds)."""
        found = self.section(section) if section else None
        if found is not None:
            for name in ("participants", "trials"):
                if name in found.frames and "participant" in found.frames[name]:
                    frame = found.frames[name]
                    return {d: frame[frame["dataset"] == d]["participant"].nunique()
                            for d in self.labels}
        return {d.label: len(d.rows.participants) for d in self.datasets}

    def summary(self, width: int = 100) -> str:
        """The terminal summary as plain text."""
        from sbl.comparison.report import summary_text

        return summary_text(self, width)

    def print(self, console: Console | None = None) -> None:
        """Print the summary with rich tables."""
        from rich.console import Console

        from sbl.comparison.report import print_summary

        print_summary(self, console or Console())

    def write(self, directory: str | Path) -> Path:
        """Write the HTML report and the PNGs into ``directory``; returns index.html."""
        from sbl.comparison.report import write_report

        index = write_report(self, directory)
        self.output = index
        return index


def compare(data: Sequence[DataLike] | DataLike, output: str | Path | None = None, *,
            labels: Sequence[str] | None = None, by: Sequence[str] = (),
            win_above: float | None = None, measures: Sequence[str] = ()) -> Comparison:
    """Compare the datasets in ``data`` (paths to anything ``sbl data`` reads, or Rows);
    writes the report to ``output`` (a folder) when given.

    ``by`` names the columns that make a condition (default: what varies between trials);
    ``win_above`` sets the points above which a bandit choice is a win; ``measures`` names
    columns (data fields) whose mean is compared by condition (:mod:`sbl.comparison.measure`)."""
    items = [data] if isinstance(data, (str, Path, Rows)) else list(data)
    datasets = load_datasets(items, labels)
    _check_columns(datasets, by)
    check_measures(datasets, measures)
    groups = participant_groups(datasets)
    # the participant's group is a condition only when --by names it (docs/data.md)
    between = frozenset({GROUP} if groups else ())
    running = _running(datasets)
    runs = [list(run) for d in datasets for run in d.rows.by_participant().values()]
    options = Options(tuple(by), win_above,
                      running | not_conditions(runs, running) | between, tuple(measures))
    sections = []
    for entry in chosen(datasets):
        section = entry.run(only_kinds(datasets, entry.kinds), options)
        if section is not None:
            sections.append(by_group(section, groups))
    measured = measure_section(datasets, options) if measures else None
    if measured is not None:
        sections.append(by_group(measured, groups))
    result = Comparison(datasets, sections, options)
    if output is not None:
        result.write(output)
    return result


def load_datasets(items: Sequence[DataLike], labels: Sequence[str] | None = None) -> list[Dataset]:
    """One dataset per item, labelled by ``labels`` or the file stem (made unique)."""
    from sbl.data import read_data

    if not items:
        raise SblError.at(None, "nothing to compare: give at least one data file")
    if labels is not None and len(labels) != len(items):
        raise SblError.at(None, f"{len(labels)} labels for {len(items)} data files",
                          help="give one --label per data file, in the same order")
    datasets: list[Dataset] = []
    for i, item in enumerate(items):
        rows = item if isinstance(item, Rows) else read_data(item)
        origin = str(item) if not isinstance(item, Rows) else (rows.origin or "")
        if not len(rows):
            raise SblError.at(None, f"{origin or 'the data'} holds no trials of an sbl "
                                    f"experiment")
        label = labels[i] if labels is not None else _stem(origin, i)
        datasets.append(Dataset(_unique(label, [d.label for d in datasets]), rows, origin))
    return datasets


def _running(datasets: Sequence[Dataset]) -> frozenset[str]:
    """The columns with a value on every row of every dataset (running state: see
    ``Options.not_conditions``)."""
    rows = [r for d in datasets for r in d.rows]
    names = set(rows[0]) if rows else set()
    for row in rows:
        names &= {k for k, v in row.items() if v is not None}
    return frozenset(names)


def _check_columns(datasets: Sequence[Dataset], by: Sequence[str]) -> None:
    """Every ``by`` column is a column of the data: a typo is an error, not one condition."""
    columns = {c for d in datasets for c in d.rows.columns}
    for name in by:
        if name not in columns:
            raise SblError.at(None, f"--by names the column '{name}', which the data does "
                                    f"not have", help=_missing_help(name, columns))


def _missing_help(name: str, columns: set[str]) -> str:
    """What to do about a ``--by`` column the data lacks."""
    from sbl.source import did_you_mean

    if name == GROUP:  # the one column documented for --by that only some experiments have
        return ("only an experiment that declares groups (`group NAME in ...`) records the "
                "participant's counterbalancing group, in the column group")
    return did_you_mean(name, columns) or "columns: " + ", ".join(sorted(columns))


def _stem(origin: str, i: int) -> str:
    return Path(origin).stem if origin else f"dataset {i + 1}"


def _unique(label: str, taken: list[str]) -> str:
    """``label``, or ``label (2)``, ``label (3)`` ... when another dataset has it."""
    out, k = label, 2
    while out in taken:
        out, k = f"{label} ({k})", k + 1
    return out
