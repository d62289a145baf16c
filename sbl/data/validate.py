"""Checking data rows against the one schema (``docs/data.md``) as they are read.

What does not fit is an error naming the data file, the row and the column, never a guess:
a row without a participant is not merged into another's, a response of the wrong type is
not coerced, a participant's trial recorded twice is not kept twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from sbl import kinds
from sbl.kinds import AnswerType
from sbl.source import SblError, did_you_mean

# Values nested deeper than this (lists in records in lists ...) are refused: no recorded
# parameter is anywhere near it, and every later step (CSV cells, replay) recurses on them.
MAX_VALUE_DEPTH = 64
_PASS_PATH = re.compile(r"[1-9][0-9]*(/[1-9][0-9]*)*")
# What each kind of answer records (docs/data.md, "response").
_RESPONSE_TYPES = {AnswerType.KEY: (str, "a key (text)"),
                   AnswerType.OPTION: (int, "an option index (a whole number from 0)"),
                   AnswerType.SURVEY: (dict, 'a record of answers ({"Q0": ...})')}


def where(origin: str | None, number: int, column: str | None = None) -> str:
    """``bandit.csv, row 5, column 'response'``: a place in a data file, for messages."""
    place = f"{origin}, row {number}" if origin else f"row {number}"
    return f"{place}, column '{column}'" if column else place


def fail(origin: str | None, number: int, message: str, column: str | None = None,
         help: str | None = None) -> SblError:
    """An SblError about a place in a data file."""
    return SblError.at(None, f"{where(origin, number, column)}: {message}", help=help)


def check_present(record: Mapping[str, Any], origin: str | None, number: int) -> None:
    """The columns every trial row has are there (before conversion fills in blanks)."""
    index = "sbl_trial_index" if "sbl_trial_index" in record else "trial_index"
    for name in ("participant", "trial", "kind", index):
        if name not in record:
            raise fail(origin, number, f"the column '{name}' is missing; every trial row "
                                       f"has one (see docs/data.md)")
    kind = kinds.get(str(record.get("kind")))
    if kind is not None and kind.answer.type is not AnswerType.NONE and "response" not in record:
        raise fail(origin, number, f"the column 'response' is missing; a {kind.name} trial "
                                   f"records one (empty when there was none)")


def check_row(row: Mapping[str, Any], origin: str | None, number: int) -> None:
    """A converted row has the core columns with the types docs/data.md gives them."""
    for name in ("participant", "trial", "kind"):
        if not row.get(name):
            raise fail(origin, number, "is empty; every trial row names its " + name, name)
    kind = kinds.get(row["kind"])
    if kind is None:
        raise fail(origin, number, f"'{row['kind']}' is not a stimulus kind", "kind",
                   did_you_mean(row["kind"], kinds.all_kinds()))
    index: Any = row.get("trial_index")
    if not _whole(index) or index < 0:
        raise fail(origin, number, f"expected a whole number from 0, found {index!r}",
                   "trial_index")
    _check_passes(row, origin, number)
    rt = row.get("rt")
    if rt is not None and (not _number(rt) or rt < 0):
        raise fail(origin, number, f"expected a time in ms (a number from 0), found {rt!r}",
                   "rt")
    _check_response(kind, row, origin, number)
    for name, value in row.items():
        _check_value(value, origin, number, name)


def _check_passes(row: Mapping[str, Any], origin: str | None, number: int) -> None:
    """``pass`` is empty or a whole number from 1; ``pass_path`` empty or such numbers
    joined by ``/`` (rows of format 3 and before have neither)."""
    value: Any = row.get("pass")
    if value is not None and (not _whole(value) or value < 1):
        raise fail(origin, number, f"expected a pass number (a whole number from 1), found "
                                   f"{value!r}", "pass")
    path = row.get("pass_path") or ""
    blocks = str(row.get("block") or "").count("/") + 1 if row.get("block") else 0
    if path and (not _PASS_PATH.fullmatch(path) or path.count("/") + 1 != blocks):
        raise fail(origin, number, f"expected a pass number from 1 for each of the {blocks} "
                                   f"blocks of the block path, joined by '/', found "
                                   f"{path!r}", "pass_path")


def _check_response(kind: kinds.Kind, row: Mapping[str, Any], origin: str | None,
                    number: int) -> None:
    """The response has the type the kind records and is one of the trial's answers."""
    response = row.get("response")
    expected = _RESPONSE_TYPES.get(kind.answer.type)
    if response is not None and kind.answer.bounds is not None:
        _check_number(kind, kind.answer.bounds, row, origin, number)
        return
    if response is None or expected is None:
        return
    kind_type, description = expected
    ok = _whole(response) and response >= 0 if kind_type is int else (
        isinstance(response, kind_type))
    if not ok:
        raise fail(origin, number, f"a {kind.name} trial records {description}, found "
                                   f"{response!r}", "response")
    items = row.get(kind.answer.source) if kind.answer.source else None
    if not isinstance(items, list) or kind_type is dict:
        return
    if kind_type is str and kinds.ANY_KEY in items:  # any key answers
        return
    valid = range(len(items)) if kind_type is int else {str(k).lower() for k in items}
    if (response.lower() if kind_type is str else response) not in valid:
        shown = f"0 to {len(items) - 1}" if kind_type is int else ", ".join(map(repr, items))
        raise fail(origin, number, f"{response!r} is not one of this trial's answers "
                                   f"({shown}, from its '{kind.answer.source}')", "response")


def _check_number(kind: kinds.Kind, bounds: tuple[str, str, str], row: Mapping[str, Any],
                  origin: str | None, number: int) -> None:
    """A number answer (a slider's) is one of the positions its recorded bounds allow."""
    response = row["response"]
    if not _number(response):
        raise fail(origin, number, f"a {kind.name} trial records a number, found "
                                   f"{response!r}", "response")
    try:
        values = kinds.positions_of(bounds, row)
    except ValueError as exc:
        raise fail(origin, number, f"the trial's {', '.join(bounds)} are wrong: {exc}") from None
    if response not in values:
        low, high, step = bounds
        raise fail(origin, number, f"{response!r} is not a position of this slider (from its "
                                   f"{low} {row.get(low)!r} to its {high} {row.get(high)!r} "
                                   f"in steps of {row.get(step)!r})", "response")


def _check_value(value: Any, origin: str | None, number: int, column: str) -> None:
    """No NaN or infinity (JSON has none) and no absurd nesting, anywhere in a cell."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_VALUE_DEPTH:
            raise fail(origin, number, f"the value is nested more than {MAX_VALUE_DEPTH} "
                                       f"deep", column)
        if isinstance(item, float) and not math.isfinite(item):
            raise fail(origin, number, f"{item} is not a number data can hold", column)
        if isinstance(item, Mapping):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Seen:
    """Each participant's trials so far, so a trial recorded twice is an error, not a merge."""

    def __init__(self, origin: str | None) -> None:
        self.origin = origin
        self.rows: dict[tuple[str, int], int] = {}

    def add(self, row: Mapping[str, Any], number: int) -> None:
        """Remember ``row`` (record ``number``); a second row for its trial is an error."""
        key = (row["participant"], row["trial_index"])
        first = self.rows.setdefault(key, number)
        if first != number:
            raise fail(self.origin, number, f"participant '{key[0]}' already has a trial "
                                            f"{key[1]} (row {first}); two runs of one "
                                            f"participant are not merged",
                       help="give each run its own participant id, or keep one of them")
