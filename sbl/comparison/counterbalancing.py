"""The participant's counterbalancing group: each analysis's score per dataset and group.

An experiment with groups (``group NAME in GROUPS``, docs/language.md) records the
participant's group number in the column ``group`` of every row (docs/data.md). When the
data compared has more than one group, each section with a headline score gets a table and a
plot of that score per group, one column (bar) per dataset, so a lab sees both whether the
groups differ (a key mapping or an order that matters) and how many participants each group
has (``n``). A ``group`` column that varies within a participant is not a participant's
group (in an experiment without groups ``group`` is an ordinary name) and is left alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sbl.comparison import stats
from sbl.comparison.registry import Dataset, Plot, Section, Table

COLUMN = "group"

Groups = dict[tuple[str, str], Any]


def participant_groups(datasets: Sequence[Dataset]) -> Groups:
    """Each participant's group, by (dataset, participant); empty unless the data records
    groups: a ``group`` column the same on all rows of each participant."""
    found: Groups = {}
    for d in datasets:
        for participant, rows in d.rows.by_participant().items():
            values = {_hashable(r.get(COLUMN)) for r in rows} - {None}
            if len(values) > 1:
                return {}
            if values:
                found[(d.label, participant)] = values.pop()
    return found


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def by_group(section: Section, groups: Groups) -> Section:
    """``section`` with its headline score per group added (frame ``by_group``, a table and
    a bar plot); unchanged without a headline or with fewer than two groups."""
    if section.headline is None or len(set(groups.values())) < 2:
        return section
    headline = section.headline
    values = headline.participants
    keys = zip(values["dataset"], values["participant"], strict=True)
    values = values.assign(group=[groups.get(k) for k in keys]).dropna(subset=[COLUMN])
    if not len(values):
        return section
    frame = stats.sort_by(stats.summarise(values, [COLUMN]), COLUMN)
    frame = frame.assign(group=frame[COLUMN].map(_shown))[[COLUMN, "dataset", *stats.SUMMARY]]
    title = f"{headline.measure.capitalize()}, by counterbalancing group"
    table = Table("by_group", title, frame, keys=(COLUMN,), digits=headline.digits,
                  note="group: the participant's counterbalancing group (the column "
                       "group); n counts each group's participants.")
    plot = Plot("by_group", title, "bars", frame, x=COLUMN, xlabel="counterbalancing group",
                ylabel=headline.measure, ylim=headline.ylim)
    return dataclasses.replace(section, frames={**section.frames, "by_group": frame},
                               tables=(*section.tables, table), plots=(*section.plots, plot))


def _shown(value: Any) -> str:
    """A group as the table shows it: ``3``, not ``3.0``."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
