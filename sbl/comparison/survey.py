"""The survey analysis: the mean rating of each rating-scale question (``likert``, rated
1..k), the mean value of each slider (``slider``, the number recorded) and the proportion
choosing each option of each multiple-choice question (``multi_choice``). Free-text answers
(``text_survey``) are not summarised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas

from sbl.comparison import stats
from sbl.comparison.registry import Dataset, Options, Plot, Section, Table, analysis

WIDTH = 48


@analysis()
def survey(datasets: Sequence[Dataset], options: Options) -> Section | None:
    """Ratings and option proportions per question, per dataset."""
    ratings = [_rating(d.label, r) for d in datasets for r in d.rows if r.get("kind") == "likert"]
    picks = [_pick(d.label, r) for d in datasets for r in d.rows
             if r.get("kind") == "multi_choice"]
    sliders = [_slider(d.label, r) for d in datasets for r in d.rows if r.get("kind") == "slider"]
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
    if sliders:
        frame = _summary(sliders)
        frames["sliders"] = frame
        tables.append(Table("sliders", "Sliders (mean value set)", frame, keys=("item",),
                            digits=2))
        plots.append(Plot("sliders", "Mean value per slider", "bars", frame, x="item",
                          xlabel="slider (range)", ylabel="value"))
    pick_rows = [x for rows in picks for x in rows]
    if pick_rows:
        frame = _summary(pick_rows)
        frames["options"] = frame
        tables.append(Table("options", "Multiple choice (proportion choosing each option)",
                            frame, keys=("item",), digits=2))
        plots.append(Plot("options", "Proportion choosing each option", "bars", frame,
                          x="item", xlabel="question: option", ylabel="proportion",
                          ylim=(0, 1)))
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


def _slider(label: str, row: dict[str, Any]) -> list[Any]:
    """The slider's value; the item is its trial and range (the stimulus may be HTML)."""
    response = row.get("response")
    value = response if isinstance(response, (int, float)) else None
    item = _item(str(row.get("trial", "")), f" ({row.get('low')}-{row.get('high')})")
    return [label, row.get("participant"), item, value]


def _pick(label: str, row: dict[str, Any]) -> list[list[Any]]:
    """One 0/1 per option of each question: whether it was chosen."""
    out = []
    for _, answer, q in _questions(row):
        for option in q.get("options") or []:
            item = _item(str(q.get("prompt", "")), f": {option}")
            chosen = None if answer is None else float(answer == option)
            out.append([label, row.get("participant"), item, chosen])
    return out


def _item(prompt: str, suffix: str) -> str:
    """The question, shortened to fit WIDTH with its ``suffix`` (the option) kept whole."""
    room = max(8, WIDTH - len(suffix))
    return (prompt if len(prompt) <= room else prompt[:room - 1] + "…") + suffix
