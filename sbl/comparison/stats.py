"""The numbers behind every comparison: per-participant measures and their dataset summaries.

Every summary is taken over participants: a measure is computed per participant first, then
each dataset reports the number of participants with a value (``n``), their mean and the
standard error of the mean (``se`` = sample SD / √n; none for a single participant). Bands
and error bars in the plots are mean ± 1 SE.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import pandas

SUMMARY = ("n", "mean", "se")
NUMBERS = re.compile(r"([0-9]+(?:\.[0-9]+)?)")


def mean_se(values: Iterable[float | None]) -> tuple[int, float, float]:
    """(n, mean, standard error) of the values that are not none; NaN where undefined."""
    xs = [float(v) for v in values if v is not None and not _nan(v)]
    n = len(xs)
    if n == 0:
        return 0, math.nan, math.nan
    mean = sum(xs) / n
    if n < 2:
        return n, mean, math.nan
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    return n, mean, math.sqrt(var / n)


def _nan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)


def summarise(per_participant: pandas.DataFrame, keys: Sequence[str],
              value: str = "value") -> pandas.DataFrame:
    """One row per dataset and key values: n, mean and se of ``value`` over participants.

    Datasets and keys keep their order of first appearance (the order the data gave them)."""
    cols = ["dataset", *keys]
    out = []
    if len(per_participant):
        for key, part in per_participant.groupby(cols, sort=False, dropna=False):
            n, mean, se = mean_se(part[value].tolist())
            out.append([*_tuple(key), n, mean, se])
    return pandas.DataFrame(out, columns=[*cols, *SUMMARY])


def natural_key(text: object) -> tuple[str | float, ...]:
    """A sort key that orders the numbers in ``text`` by value (``2`` before ``10``): text
    and numbers alternate, so each place compares like with like."""
    return tuple(float(p) if i % 2 else p for i, p in enumerate(NUMBERS.split(str(text))))


def sort_by(summary: pandas.DataFrame, key: str) -> pandas.DataFrame:
    """A summary's rows sorted by ``key`` (its numbers by value), datasets in the order
    they first appear."""
    order = {d: i for i, d in enumerate(dict.fromkeys(summary["dataset"]))}
    return summary.sort_values([key, "dataset"], key=lambda col: col.map(
        order if col.name == "dataset" else natural_key), kind="stable").reset_index(drop=True)


def _tuple(key: object) -> tuple[object, ...]:
    return key if isinstance(key, tuple) else (key,)


def long_measures(per_participant: pandas.DataFrame, measures: Sequence[str]) -> pandas.DataFrame:
    """Per-participant measures (one column each) as long rows: dataset, participant,
    measure, value; in the order of ``measures``."""
    rows = [[r["dataset"], r["participant"], m, r[m]]
            for m in measures for _, r in per_participant.iterrows()]
    return pandas.DataFrame(rows, columns=["dataset", "participant", "measure", "value"])


# ---------------------------------------------------------------- choice sequences


def switches(choices: Sequence[int | None]) -> list[bool]:
    """For each pair of consecutive choices both made, whether the second differs."""
    return [b != a for a, b in zip(choices, choices[1:], strict=False)
            if a is not None and b is not None]


def switch_rate(choices: Sequence[int | None]) -> float | None:
    """The fraction of consecutive choice pairs that switch; none with fewer than two."""
    s = switches(choices)
    return sum(s) / len(s) if s else None


def win_stay_lose_shift(choices: Sequence[int | None],
                        wins: Sequence[bool | None]) -> tuple[float | None, float | None]:
    """(win-stay, lose-shift): after a win, the fraction of next choices that repeat it;
    after a loss, the fraction that switch. A pair counts only when both choices were made;
    none when there was no win (no loss)."""
    stay_after_win: list[bool] = []
    shift_after_loss: list[bool] = []
    for t in range(len(choices) - 1):
        a, b, win = choices[t], choices[t + 1], wins[t]
        if a is None or b is None or win is None:
            continue
        (stay_after_win if win else shift_after_loss).append(a == b if win else a != b)
    ws = sum(stay_after_win) / len(stay_after_win) if stay_after_win else None
    ls = sum(shift_after_loss) / len(shift_after_loss) if shift_after_loss else None
    return ws, ls


def cumulative(values: Sequence[float | None]) -> list[float]:
    """Running totals, a missing value counting 0."""
    total, out = 0.0, []
    for v in values:
        total += float(v) if v is not None else 0.0
        out.append(total)
    return out
