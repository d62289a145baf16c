"""The survey analysis: the mean rating of each rating-scale question (``likert``, rated
1..k), the mean value of each slider (``slider``, the number recorded) by condition (as for
accuracy: :mod:`sbl.comparison.conditions`) and the proportion
choosing each option of each multiple-choice question (``multi_choice``; ``multi_select``:
whether each option was among those checked). Free-text answers
(``text_survey``) are not summarised."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas

from sbl import kinds
from sbl.comparison import stats
from sbl.comparison.conditions import MAX_LEVELS, labeller
from sbl.comparison.registry import Dataset, Options, Plot, Section, Table, analysis
from sbl.data.schema import declared_names, encode_cell

WIDTH = 48


@analysis()
def survey(datasets: Sequence[Dataset], options: Options) -> Section | None:
    """Ratings and option proportions per question, per dataset."""
    ratings = [_rating(d.label, r) for d in datasets for r in d.rows if r.get("kind") == "likert"]
    picks = [_pick(d.label, r) for d in datasets for r in d.rows
             if r.get("kind") == "multi_choice"]
    checks = [_pick(d.label, r) for d in datasets for r in d.rows
              if r.get("kind") == "multi_select"]
    sliders = _sliders(datasets, options)
    frames: dict[str, pandas.DataFrame] = {}
    tables, plots = [], []
    rating_rows = [x for rows in ratings for x in rows]
    if rating_rows:
        frame = _summary(rating_rows)
        frames["ratings"] = frame
        tables.append(Table("ratings", "Rating scales (mean rating, 1 = first label)", frame,
                            keys=("item",), digits=2))
        plots.append(Plot("ratings", "Mean rating per question", "bars", frame, x="item",
                          xlabel="question (scale)", ylabel="rating"))
    if sliders:  # by condition, in order (a shuffled block gives no order of its own)
        frame = stats.sort_by(_summary(sliders), "item")
        frames["sliders"] = frame
        tables.append(Table("sliders", "Sliders (mean value set)", frame, keys=("item",),
                            digits=2))
        plots.append(Plot("sliders", "Mean value per slider", "bars", frame, x="item",
                          xlabel="slider (range)", ylabel="value"))
    for name, title, plot, found in (
            ("options", "Multiple choice (proportion choosing each option)",
             "Proportion choosing each option", picks),
            ("checked", "Checklists (proportion checking each option)",
             "Proportion checking each option", checks)):
        option_rows = [x for rows in found for x in rows]
        if option_rows:
            frame = _summary(option_rows)
            frames[name] = frame
            tables.append(Table(name, title, frame, keys=("item",), digits=2))
            plots.append(Plot(name, plot, "bars", frame, x="item", xlabel="question: option",
                              ylabel="proportion", ylim=(0, 1)))
    if not frames:
        return None
    return Section("survey", "Questionnaires", frames, tables=tuple(tables), plots=tuple(plots))


def _summary(rows: list[list[Any]]) -> pandas.DataFrame:
    frame = pandas.DataFrame(rows, columns=["dataset", "participant", "item", "value"])
    return stats.summarise(frame, ["item"])[["item", "dataset", *stats.SUMMARY]]


def _questions(row: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(key, answer, question) for each question of a survey row."""
    qs = row.get("questions")
    qs = qs if isinstance(qs, list) else []
    answers = row.get("response")
    answers = answers if isinstance(answers, dict) else {}
    return [(f"Q{i}", answers.get(f"Q{i}"), q if isinstance(q, dict) else {})
            for i, q in enumerate(qs)]


def _rating(label: str, row: dict[str, Any]) -> list[list[Any]]:
    """One rating per question: the label's index + 1."""
    out = []
    for _, answer, q in _questions(row):
        k = len(q.get("labels") or [])
        item = _item(str(q.get("prompt", "")), f" (1-{k})")
        value = answer + 1 if isinstance(answer, (int, float)) else None
        out.append([label, row.get("participant"), item, value])
    return out


def _sliders(datasets: Sequence[Dataset], options: Options) -> list[list[Any]]:
    """Each slider answer's value; the item is the slider's condition (its trial when there
    are several sliders; the stimulus may be HTML) and range. The same question asked a
    participant several times is told apart by its order (``#1``, ``#2``: a rating after
    each pass of a repeated block), up to MAX_LEVELS times."""
    answers = [(d.label, dict(r)) for d in datasets for r in d.rows if r.get("kind") == "slider"]
    if not answers:
        return []
    label_of = labeller([r for _, r in answers], options.by, options.not_conditions)
    items = [label_of(r) for _, r in answers]
    numbers = _numbered([(label, r.get("participant"), item)
                         for (label, r), item in zip(answers, items, strict=True)])
    most: dict[str, int] = {}
    for item, k in zip(items, numbers, strict=True):
        most[item] = max(most.get(item, 0), k)
    again = {item for item in most if 1 < most[item] <= MAX_LEVELS and _same_question(
        [r for (_, r), i in zip(answers, items, strict=True) if i == item],
        options.not_conditions)}
    out = []
    for (label, row), item, k in zip(answers, items, numbers, strict=True):
        name = f"{item} #{k}" if item in again else item
        response = row.get("response")
        value = response if isinstance(response, (int, float)) else None
        out.append([label, row.get("participant"),
                    _item(name, f" ({row.get('low')}-{row.get('high')})"), value])
    return out


def _same_question(rows: list[dict[str, Any]], skip: frozenset[str]) -> bool:
    """Whether the rows are one question: equal in every column but the core ones (the
    answer, its position), the kind's data fields and ``skip`` (running state)."""
    kind = kinds.get(str(rows[0].get("kind")))
    ignore = declared_names(None) | {d.name for d in (kind.data if kind else ())} | skip
    return len({tuple((k, encode_cell(v)) for k, v in sorted(r.items()) if k not in ignore)
                for r in rows}) == 1


def _numbered(keys: list[tuple[Any, ...]]) -> list[int]:
    """Each key's number among the keys equal to it so far: 1, 2, ..."""
    seen: Counter[tuple[Any, ...]] = Counter()
    out = []
    for key in keys:
        seen[key] += 1
        out.append(seen[key])
    return out


def _pick(label: str, row: dict[str, Any]) -> list[list[Any]]:
    """One 0/1 per option of each question: whether it was chosen (one of those chosen, for
    a question answered with several)."""
    out = []
    for _, answer, q in _questions(row):
        for option in q.get("options") or []:
            item = _item(str(q.get("prompt", "")), f": {option}")
            picked = option in answer if isinstance(answer, list) else answer == option
            chosen = None if answer is None else float(picked)
            out.append([label, row.get("participant"), item, chosen])
    return out


def _item(prompt: str, suffix: str) -> str:
    """The question, shortened to fit WIDTH with its ``suffix`` (the option) kept whole."""
    room = max(8, WIDTH - len(suffix))
    return (prompt if len(prompt) <= room else prompt[:room - 1] + "…") + suffix
