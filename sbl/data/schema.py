"""The one row schema (DESIGN decision 9): column order, cell encoding, jsPsych conversion.

A row is one trial: the core columns (``participant``, ``seed``, ``source``, ``block``,
``pass``, ``pass_path``, ``trial_index``, ``trial``, ``kind``, ``response``, ``rt``), then
the kind's data fields, then every recorded parameter, then the custom data fields, then the
condition columns (the fields of the rows of the blocks the trial is in), then each shared
variable's value after the trial's side effects. ``docs/data.md`` documents every column.
Browser and text runs write the same columns.

``DATA_FORMAT`` numbers the row format: 2 added custom data fields and condition columns, 3
the ``group`` column of experiments with between-participant groups (after the parameters),
4 the core columns ``pass`` and ``pass_path`` (:mod:`sbl.repetitions`); rows of earlier
formats (without them) still read, replay and score unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sbl import groups, ir, kinds
from sbl.values import Value, num, show_number

DATA_FORMAT = 4
CORE: tuple[str, ...] = kinds.CORE_FIELDS
TEXT_ONLY = kinds.TEXT_ONLY
JSPSYCH_FIELDS = kinds.JSPSYCH_FIELDS
TEXT_COLUMNS = ("participant", "source", "block", "pass_path", "trial", "kind")


def recorded_params(kind: kinds.Kind) -> tuple[kinds.ParamDecl, ...]:
    """The parameters a row of ``kind`` records, in declaration order."""
    return tuple(p for p in kind.params if p.name not in TEXT_ONLY)


def columns_for(experiment: ir.Experiment) -> tuple[str, ...]:
    """Every column a run of ``experiment`` can write, in schema order."""
    used = [k for k in (kinds.get(s.kind) for s in ir.stimuli(experiment.body)) if k]
    data = [d.name for k in used for d in k.data]
    params = [p.name for k in used for p in recorded_params(k)]
    nodes = [n for n in ir.walk(experiment.body) if isinstance(n, ir.Block | ir.Stimulus)]
    custom = [f.name for n in nodes for f in n.data]
    conditions = [c for n in nodes if isinstance(n, ir.Block) for c in n.columns]
    shared = [s.name for s in experiment.shared]
    group = [groups.COLUMN] if experiment.group is not None else []
    return tuple(dict.fromkeys([*CORE, *data, *params, *group, *custom, *conditions, *shared]))


def order_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's fields in schema order: core, data fields, params, then the rest as found."""
    kind = kinds.get(str(row.get("kind", "")))
    names: list[str] = list(CORE)
    if kind is not None:
        names += [d.name for d in kind.data] + [p.name for p in recorded_params(kind)]
    out = {name: row.get(name) for name in dict.fromkeys(names) if name in row or name in CORE}
    out.update((k, v) for k, v in row.items() if k not in out)
    return out


# ---------------------------------------------------------------- cells


def encode_cell(v: Any) -> str:
    """A value as a CSV cell: none empty, strings bare, numbers as JS shows them, else JSON."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return to_json(v)


def to_json(v: Any) -> str:
    """Compact JSON written exactly as JavaScript's ``JSON.stringify`` writes it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return show_number(float(v))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(to_json(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{to_json(x)}"
                              for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")


class _NotJson(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON has no such numbers."""


def _no_constants(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def loads(text: str) -> Any:
    """JSON as the standard defines it: no NaN or Infinity; nesting too deep for Python's
    reader is a ValueError, not a RecursionError."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError("nested too deep") from None


def decode_cell(text: str) -> Value:
    """A CSV cell as a value: empty is none, JSON numbers, booleans, lists and records are
    typed, everything else stays text."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        return num(float(text))
    if text[0] in "[{":
        try:
            return loads(text)  # type: ignore[no-any-return]
        except ValueError:  # not JSON (or NaN, or nested absurdly deep): the text itself
            return text
    return text


def same_cell(a: Any, b: Any) -> bool:
    """Whether two values are written the same way in a CSV cell (``8`` and ``"8"`` are)."""
    return encode_cell(a) == encode_cell(b)


# ---------------------------------------------------------------- normalising rows


def normalise(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with its core columns typed: text columns as strings, ``trial_index`` and
    ``pass`` whole, ``rt`` a number or none, ``response`` as the kind records it."""
    out = dict(row)
    for name in TEXT_COLUMNS:
        value = out.get(name)
        out[name] = "" if value is None else value if isinstance(value, str) else encode_cell(
            value)
    out["trial_index"] = _whole(out.get("trial_index"))
    out["pass"] = _whole(out.get("pass"))
    rt = out.get("rt")
    out["rt"] = rt if rt is None or isinstance(rt, (int, float)) else decode_cell(str(rt))
    out["response"] = typed_response(out.get("kind"), out.get("response"))
    return order_row(out)


def typed_response(kind_name: Any, response: Any) -> Any:
    """``response`` with the type its kind records: a key string, an option index, a record,
    a number."""
    kind = kinds.get(str(kind_name)) if kind_name is not None else None
    if kind is None or response is None or response == "":
        return None if response == "" else response
    answer = kind.answer.type
    if answer is kinds.AnswerType.KEY:  # a key "1" read back from CSV as a number
        return encode_cell(response) if isinstance(response, (int, float)) else response
    if answer is kinds.AnswerType.OPTION:
        return _whole(decode_cell(response) if isinstance(response, str) else response)
    if answer is kinds.AnswerType.NUMBER and isinstance(response, str):  # from a CSV cell
        return decode_cell(response)
    if answer is kinds.AnswerType.SURVEY and isinstance(response, str):
        value = decode_cell(response)
        return value if isinstance(value, dict) else response
    return response


def _whole(value: Any) -> Any:
    """A number that is whole as an int (``2.0`` is 2); anything else as it is, for the
    checks of :mod:`sbl.data.validate` to refuse (``1.5`` is never rounded)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def from_jspsych(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """An sbl row from one jsPsych data row, or None for rows that are not sbl trials
    (preload, fullscreen): those have no ``trial`` field."""
    if not record.get("trial"):
        return None
    declared = declared_names(record.get("kind"))
    row: dict[str, Any] = {name: record.get(name) for name in CORE}
    row["trial_index"] = record.get("sbl_trial_index", record.get("trial_index"))
    row["source"] = record.get("source") or "browser"
    for name, value in record.items():
        if name in row or (name in JSPSYCH_FIELDS and name not in declared):
            continue
        row[name] = value
    return normalise(row)


def declared_names(kind_name: Any) -> set[str]:
    """The core columns and the data fields and parameters of the kind called ``kind_name``."""
    kind = kinds.get(str(kind_name)) if kind_name else None
    names = set(CORE)
    if kind is not None:
        names |= {p.name for p in kind.params} | {d.name for d in kind.data}
    return names


def is_jspsych(record: Mapping[str, Any]) -> bool:
    """Whether a data row was written by jsPsych (the page) rather than by sbl."""
    return "internal_node_id" in record or "sbl_trial_index" in record or (
        "trial_type" in record and "time_elapsed" in record)


def free_response(row: Mapping[str, Any]) -> bool:
    """Whether the row holds a free response: one chosen among several valid answers (or
    free text). Forced answers (a single valid key or option), any key and timeouts do not
    count, but on a trial with ``withhold`` (a key or button kind) no answer is one of the
    answers, so there a timeout counts and any key is a choice between a key and none."""
    kind = kinds.get(str(row.get("kind", "")))
    withhold = kind is not None and kind.param("withhold") is not None \
        and row.get("withhold") is True
    if row.get("response") is None and not withhold:
        return False
    if kind is None or kind.answer.source is None:
        return True
    items = row.get(kind.answer.source)
    if not isinstance(items, list):
        return True
    if kind.answer.type is kinds.AnswerType.KEY and kinds.ANY_KEY in items:
        return withhold  # any key: nothing was chosen, unless pressing none was possible
    if withhold:
        return len(items) >= 1  # the keys (or buttons) and none
    if kind.answer.type is kinds.AnswerType.SURVEY:
        field = kind.answer.options
        return kind.answer.several or any(
            field is None or not isinstance(q, dict) or len(q.get(field) or []) != 1
            for q in items)
    return len(items) > 1


def union_columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The columns of several rows in schema order: core, every data field, every parameter,
    then the rest (shared variables), each group in order of first appearance."""
    data: dict[str, None] = {}
    params: dict[str, None] = {}
    rest: dict[str, None] = {}
    for row in rows:
        kind = kinds.get(str(row.get("kind", "")))
        data_names = {d.name for d in kind.data} if kind else set()
        param_names = {p.name for p in kind.params} if kind else set()
        for name in row:
            if name in CORE:
                continue
            group = data if name in data_names else params if name in param_names else rest
            group.setdefault(name)
    return list(dict.fromkeys([*CORE, *data, *params, *rest]))
