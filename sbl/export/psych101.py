"""Export rows as Psych-101 text (the jsonl Centaur was trained on), and read it back.

One record per participant, one JSON object per line:
``{"text": ..., "experiment": "<study>/<data file>", "participant": "<id>"}``. The text is the
participant's transcript rebuilt by replaying their rows through the text backend: the
instructions, then one line per trial, each free response marked `` <<X>>`` (the option
label the participant's seed gives it, the key's name, or the free text), forced answers
unmarked, no trailing newline. So data collected in the browser can be used to fine-tune or
to evaluate a model (``sbl score``), and a text run's export is the text its model read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sbl.data.rows import Rows
from sbl.protocol import RESPONSE
from sbl.source import SblError


@dataclass(frozen=True, slots=True)
class Psych101Record:
    """One participant's Psych-101 text, where it came from, and its marked responses."""

    text: str
    experiment: str
    participant: str
    responses: tuple[str, ...]


def marked_responses(text: str) -> list[str]:
    """The responses marked in a Psych-101 text, in order (what is inside each `` <<…>>``)."""
    return RESPONSE.findall(text)


def psych101_records(rows: Rows, experiment: Any, *, seeds: Mapping[str, int] | None = None,
                     seed: int = 0, name: str | None = None) -> list[dict[str, str]]:
    """One Psych-101 record per participant of ``rows`` (an ``sbl.Experiment``'s), each the
    text :func:`sbl.backends.text.driver.replay_rows` rebuilds; a participant's seed is the
    one the data recorded, else ``seeds[id]``, else as ``seed_for`` numbers them."""
    from sbl.backends.text.driver import replay_rows
    from sbl.backends.text.program import program

    study = name or f"{experiment.name}/{Path(rows.origin).name if rows.origin else 'data'}"
    replayed = replay_rows(program(experiment.ir), rows, seed=seed, seeds=seeds)
    return [{"text": r.transcript, "experiment": study, "participant": participant}
            for participant, r in replayed.items()]


def export_psych101(rows: Rows, experiment: Any, path: str | Path, **options: Any
                    ) -> list[dict[str, str]]:
    """Write the Psych-101 jsonl of ``rows`` to ``path``; returns the records written.
    ``options`` are :func:`psych101_records`'s."""
    if not len(rows):
        raise SblError.at(None, "nothing to export: the data holds no trials")
    records = psych101_records(rows, experiment, **options)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    try:
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SblError.at(None, f"cannot write '{path}': {exc.strerror}") from None
    return records


def read_psych101(path: str | Path) -> list[Psych101Record]:
    """The records of a Psych-101 jsonl file, each with its marked responses."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SblError.at(None, f"cannot read '{path}': {exc.strerror}") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            out.append(_record(line, f"{Path(path).name}, line {number}"))
    return out


def _record(line: str, where: str) -> Psych101Record:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SblError.at(None, f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise SblError.at(None, f"{where}: expected an object with a \"text\"")
    participant = data.get("participant", "")
    return Psych101Record(data["text"], str(data.get("experiment", "")),
                          participant if isinstance(participant, str) else json.dumps(
                              participant), tuple(marked_responses(data["text"])))
