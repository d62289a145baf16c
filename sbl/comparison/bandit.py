"""The bandit analysis: score, choice proportions over trials, cumulative score, switch rate,
win-stay and lose-shift (the generative statistics the Centaur critiques ask for).

Per participant, the bandit rows in order are choices 1, 2, ...: ``response`` is the arm's
index and ``value`` its points. A choice is a **win** when it paid more than a threshold:
``--win-above`` when given, else the midpoint of the lowest and highest points any machine
offered in all the data compared (the same threshold for every dataset, so the datasets stay
comparable; with 0/1 payoffs it is 0.5, so a win is a payout).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas

from sbl.comparison import stats
from sbl.comparison.registry import Dataset, Headline, Options, Plot, Section, Table, analysis

MEASURES = ("total points", "best-arm rate", "switch rate", "win-stay", "lose-shift")
DIGITS = {"total points": 1}


@analysis()
def bandit(datasets: Sequence[Dataset], options: Options) -> Section | None:
    """Score, choices over trials, switching and win-stay/lose-shift of every dataset."""
    runs = [(d.label, p, _choices(part)) for d in datasets
            for p, part in d.rows.by_participant().items()]
    if not runs:
        return None
    threshold = options.win_above if options.win_above is not None else _midpoint(runs)
    people = pandas.DataFrame([_measures(label, p, seq, threshold) for label, p, seq in runs])
    summary = stats.summarise(stats.long_measures(people, MEASURES), ["measure"])
    summary = summary[["measure", "dataset", *stats.SUMMARY]]
    chosen = [c["choice"] for _, _, seq in runs for c in seq if c["choice"] is not None]
    arms = _arm_names(datasets, max(chosen, default=-1) + 1)
    choice = _choice_curve(runs, len(arms))
    choice["arm"] = choice["arm"].map(lambda i: arms[i][0])
    curve = _cumulative_curve(runs)
    headline = Headline("total points per participant", people[
        ["dataset", "participant", "total points"]].rename(columns={"total points": "value"}))
    frames = {"participants": people, "summary": summary, "score": headline.frame,
              "choice": choice, "cumulative": curve}
    length = max(len(seq) for _, _, seq in runs)
    return Section(
        "bandit", f"Bandit: {length} choices, {len(arms)} machines", frames,
        tables=(Table("summary", "Bandit measures (per participant)", summary,
                      digits={**DIGITS, **{m: 2 for m in MEASURES[1:]}}),),
        plots=_plots(frames, arms),
        headline=headline,
        notes=(_win_note(threshold, options.win_above is not None),))


def _win_note(threshold: float, given: bool) -> str:
    why = "set with --win-above" if given else "the midpoint of the points the machines offered"
    return (f"A win is a choice that paid more than {threshold:g} points ({why}). Best-arm "
            f"rate: choices of a machine paying the most on that trial, among trials whose "
            f"machines paid differently.")


def _choices(rows: Any) -> list[dict[str, Any]]:
    """A participant's choices: arm index (none: no choice), points, and every arm's points."""
    out = []
    for row in rows:
        response = row.get("response")
        arms = _as_list(row.get("arms"))
        offered = [a.get("value") if isinstance(a, dict) else None for a in arms]
        out.append({"choice": int(response) if isinstance(response, (int, float)) else None,
                    "value": row.get("value"), "offered": offered, "arms": arms})
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _midpoint(runs: Sequence[tuple[str, str, list[dict[str, Any]]]]) -> float:
    """Halfway between the lowest and highest points offered (or paid) in all the data."""
    points = [v for _, _, seq in runs for c in seq
              for v in (c["offered"] or [c["value"]]) if isinstance(v, (int, float))]
    return (min(points) + max(points)) / 2 if points else 0.0


def _measures(label: str, participant: str, seq: list[dict[str, Any]],
              threshold: float) -> dict[str, Any]:
    """One participant's row: choices made and each measure."""
    choices = [c["choice"] for c in seq]
    wins = [None if c["value"] is None else c["value"] > threshold for c in seq]
    win_stay, lose_shift = stats.win_stay_lose_shift(choices, wins)
    return {"dataset": label, "participant": participant,
            "choices": sum(c is not None for c in choices),
            "total points": sum(c["value"] or 0 for c in seq),
            "best-arm rate": _best_rate(seq), "switch rate": stats.switch_rate(choices),
            "win-stay": win_stay, "lose-shift": lose_shift}


def _best_rate(seq: list[dict[str, Any]]) -> float | None:
    """The fraction of choices of a best-paying machine, among trials where machines differ."""
    hits = []
    for c in seq:
        offered = [v for v in c["offered"] if isinstance(v, (int, float))]
        if c["choice"] is None or len(set(offered)) < 2 or c["choice"] >= len(c["offered"]):
            continue
        hits.append(c["offered"][c["choice"]] == max(offered))
    return sum(hits) / len(hits) if hits else None


def _arm_names(datasets: Sequence[Dataset], least: int = 0) -> list[tuple[str, str | None]]:
    """Each arm's name and colour: ``arm 1 (orange)`` when its colour never changes; at
    least ``least`` arms (every arm chosen, even where the data lacks ``arms``)."""
    colours: dict[int, set[str]] = {i: set() for i in range(least)}
    for d in datasets:
        for row in d.rows:
            for i, arm in enumerate(_as_list(row.get("arms"))):
                colours.setdefault(i, set()).add(str(arm.get("color")) if isinstance(
                    arm, dict) else "")
    out = []
    for i in range(max(colours, default=-1) + 1):
        only = colours.get(i, set())
        colour = next(iter(only)) if len(only) == 1 and "" not in only else None
        colour = colour if colour != "None" else None
        out.append((f"arm {i + 1} ({colour})" if colour else f"arm {i + 1}", colour))
    return out


def _choice_curve(runs: Sequence[tuple[str, str, list[dict[str, Any]]]],
                  n_arms: int) -> pandas.DataFrame:
    """Per dataset, trial and arm: the proportion of participants who chose that arm."""
    rows = [[label, p, t + 1, arm, float(c["choice"] == arm)]
            for label, p, seq in runs for t, c in enumerate(seq) if c["choice"] is not None
            for arm in range(n_arms)]
    frame = pandas.DataFrame(rows, columns=["dataset", "participant", "trial", "arm", "value"])
    return stats.summarise(frame, ["trial", "arm"])


def _cumulative_curve(runs: Sequence[tuple[str, str, list[dict[str, Any]]]]) -> pandas.DataFrame:
    """Per dataset and trial: the mean points so far."""
    rows = [[label, p, t + 1, total] for label, p, seq in runs
            for t, total in enumerate(stats.cumulative([c["value"] for c in seq]))]
    frame = pandas.DataFrame(rows, columns=["dataset", "participant", "trial", "value"])
    return stats.summarise(frame, ["trial"])


def _plots(frames: dict[str, pandas.DataFrame],
           arms: list[tuple[str, str | None]]) -> tuple[Plot, ...]:
    colours = {name: colour for name, colour in arms if colour}
    rates = frames["summary"][frames["summary"]["measure"] != "total points"]
    return (
        Plot("choices", "Choice proportion per machine over trials", "lines", frames["choice"],
             x="trial", series="arm", panels="dataset", xlabel="trial",
             ylabel="proportion of participants", ylim=(0, 1), colors=colours),
        Plot("cumulative", "Cumulative score", "lines", frames["cumulative"], x="trial",
             xlabel="trial", ylabel="points so far (mean)"),
        Plot("score", "Total points per participant", "bars", frames["score"].assign(
            measure="total points"), x="measure", ylabel="points"),
        Plot("switching", "Best-arm rate, switch rate, win-stay and lose-shift", "bars", rates,
             x="measure", ylabel="proportion", ylim=(0, 1)),
    )
