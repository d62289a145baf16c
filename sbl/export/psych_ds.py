"""Export rows as a Psych-DS dataset, and check a folder against Psych-DS's rules.

The layout (Psych-DS 0.1, ``psych-ds/psych-DS``'s rules and conventions):

    DIR/dataset_description.json     schema.org Dataset: name, description, variableMeasured
    DIR/data/study-<name>_subject-<id>_data.csv    one per participant
    DIR/materials/<experiment>.sbl   with --experiment, and the CSV tables it reads

Keywords are ``key-value`` with key ``[a-z]+`` and value ``[a-zA-Z0-9]+``: names and
participant ids are cut down to their letters and digits (the ``participant`` column keeps
the id as recorded). Every data file has the same header, the columns of ``docs/data.md``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sbl import groups, kinds
from sbl.data import schema
from sbl.data.rows import Rows
from sbl.source import SblError

CONTEXT = "https://schema.org"
SCHEMA_VERSION = "Psych-DS 0.1.0"
KEY = re.compile(r"[a-z]+\Z")
VALUE = re.compile(r"[a-zA-Z0-9]+\Z")

# The meaning of each core column, as docs/data.md gives it (a test keeps them equal).
CORE_MEANINGS: dict[str, str] = {
    "participant": "Who: the page's participant URL parameter (or Prolific's PROLIFIC_PID); "
                   "in text runs 1, 2, ... (a run that continues recorded data keeps the "
                   "recorded id). Always text, so 007 stays 007.",
    "seed": "The participant's seed: it fixes the trial order, every random draw and a text "
            "participant's option letters, so replaying the rows rebuilds exactly what the "
            "participant saw. The page's seed URL parameter, or one it drew and recorded; in "
            "text runs --seed + participant − 1.",
    "source": "What produced the row: browser (a person on the page), browser-simulated "
              "(the page playing itself with ?simulate=, as sbl pilot does: never a person; "
              "a page that sends its data plays itself only when compiled with "
              "--allow-simulate), terminal (a person at sbl run), scripted, random, or the "
              "model's name (e.g. a Hugging Face id) for sbl simulate. A replayed row keeps "
              "the source it was recorded with.",
    "block": "The path of the block the trial is in, block names joined with / (main, "
             "practice/inner); empty at the top level.",
    "pass": "Which pass of a repeated block the trial is in, from 1: the pass of the "
            "innermost block around the trial that can run more than one pass each time it is "
            "entered (repeat N, a loop), counted from 1 at each entry; 1 when no block around "
            "the trial repeats; empty at the top level. Accuracy by block and pass is a "
            "learning curve.",
    "pass_path": "The pass of each block of the block path, joined with / as the path is: "
                 "block session/practice with pass path 2/3 is the third practice pass of "
                 "the second session. Empty at the top level.",
    "trial_index": "The trial's position among this participant's trials, from 0. (jsPsych's "
                   "own trial_index counts every jsPsych trial, preload and fullscreen "
                   "included; the page stores ours as sbl_trial_index and sbl data renames "
                   "it.)",
    "trial": "The stimulus's stable id: block/name (main/bandit; the name is the stimulus's "
             "own name, else its kind, numbered text-2, text-3 when repeated in a block). The "
             "experiment's instructions are the trial instructions. Replay matches rows to "
             "trials by this id.",
    "kind": "The stimulus kind (bandit, text, likert, ...).",
    "response": "What the participant answered, as jsPsych records it: for key kinds (text, "
                "html_keyboard) the key as the trial's choices write it (\"f\", \" \" for "
                "space, \"ArrowLeft\"; a key pressed in another case, f for a choice \"F\", is "
                "recorded as written); for option kinds (bandit, choice) the 0-based index of the "
                "chosen option; for survey kinds jsPsych's response object {\"Q0\": ..., "
                "\"Q1\": ...} (for multi_choice the option text, for multi_select the list of "
                "the options checked, in their order, [] for none, for likert the index of the "
                "label, for text_survey the text); for slider the number the slider was set to "
                "(one of its positions from low to high by step). Empty when there was no "
                "response: kinds without an answer, key kinds with no keys, and timeouts.",
    "rt": "Response time in milliseconds, as jsPsych measures it. Empty in text runs (no "
          "timing) and for trials without a response. A replayed row keeps the recorded rt.",
}
SHARED = "A shared variable of the experiment: its value after the trial's side effects."
GROUP = ("The participant's between-participant group: its number, from 1, in the order of "
         "the experiment's list of groups (docs/data.md, The group).")
OTHER = ("A column no stimulus kind of these rows declares: in sbl data, a shared variable's "
         "value after the trial's side effects.")


def keyword_value(text: str, fallback: str = "x") -> str:
    """``text`` as a Psych-DS keyword value: its ASCII letters and digits only."""
    return re.sub(r"[^A-Za-z0-9]", "", text) or fallback


def subject_names(participants: Iterable[str]) -> dict[str, str]:
    """A keyword value per participant id, unique: ``p-07`` is ``p07``; a second ``p07``
    becomes ``p07x2``."""
    out: dict[str, str] = {}
    for participant in participants:
        base = keyword_value(participant, "unnamed")
        name, k = base, 2
        while name in out.values():
            name, k = f"{base}x{k}", k + 1
        out[participant] = name
    return out


def describe_columns(columns: Iterable[str], rows: Iterable[Mapping[str, Any]],
                     shared: Iterable[str] = (), grouped: bool = False) -> list[dict[str, str]]:
    """``variableMeasured``: a PropertyValue per column, described by docs/data.md (core
    columns, and ``group`` when the experiment is ``grouped``) or by the kinds' declarations
    (data fields, parameters)."""
    used = sorted({str(r.get("kind")) for r in rows if kinds.get(str(r.get("kind")))})
    shared = set(shared)
    meanings = {**CORE_MEANINGS, **({groups.COLUMN: GROUP} if grouped else {})}
    out = []
    for name in columns:
        value = {"@type": "PropertyValue", "name": name,
                 "description": meanings.get(name) or _declared(name, used) or (
                     SHARED if name in shared else OTHER)}
        if name == "rt" or _in_ms(name, used):
            value["unitText"] = "ms"
        out.append(value)
    return out


def _declared(name: str, used: list[str]) -> str:
    """What the kinds say a column is: ``bandit data field: The points ...``; kinds that
    say the same thing share one entry."""
    said: dict[str, list[str]] = {}
    for kind_name in used:
        kind = kinds.get(kind_name)
        assert kind is not None
        roles = [(d.name, d.doc, "data field") for d in kind.data]
        roles += [(p.name, p.doc, "parameter") for p in schema.recorded_params(kind)]
        for declared, doc, role in roles:
            if declared == name:
                said.setdefault(f"{role}: {doc}", []).append(kind_name)
    return "; ".join(f"{', '.join(ks)} {doc}" for doc, ks in said.items())


def _in_ms(name: str, used: list[str]) -> bool:
    """Whether every kind declaring ``name`` documents it in ms (the durations)."""
    declared = [kinds.get(k) for k in used]
    docs = [p.doc for k in declared if k is not None for p in k.params if p.name == name]
    return bool(docs) and all(re.search(r"\bms\b", d) for d in docs)


def export_psych_ds(rows: Rows, directory: str | Path, *, name: str | None = None,
                    experiment: Any = None, description: str | None = None) -> Path:
    """Write ``rows`` as a Psych-DS dataset in ``directory``; returns the folder.

    ``experiment`` (an ``sbl.Experiment``) names the study, describes it and is copied to
    ``materials/`` with its CSV tables; ``name`` and ``description`` override."""
    folder = Path(directory)
    if not len(rows):
        raise SblError.at(None, "nothing to export: the data holds no trials")
    study = keyword_value(name or (experiment.name if experiment else "") or
                          Path(rows.origin or "sbl").stem, "sbl")
    subjects = subject_names(rows.participants)
    files = {p: f"study-{study}_subject-{s}_data.csv" for p, s in subjects.items()}
    _refuse_other_data(folder, set(files.values()))
    columns = schema.union_columns(rows)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for participant, part in rows.by_participant().items():
        (folder / "data" / files[participant]).write_text(
            _csv(columns, part), encoding="utf-8", newline="")
    shared = [s.name for s in experiment.ir.shared] if experiment is not None else ()
    meta = _description(rows, study, experiment, description)
    grouped = experiment is not None and experiment.ir.group is not None
    meta["variableMeasured"] = describe_columns(columns, rows, shared, grouped)
    (folder / "dataset_description.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if experiment is not None:
        _materials(experiment, folder / "materials")
    return folder


def _refuse_other_data(folder: Path, ours: set[str]) -> None:
    """An export never mixes with other data: stale files would join the dataset."""
    data = folder / "data"
    others = sorted(p.name for p in data.glob("*.csv")) if data.is_dir() else []
    others = [p for p in others if p not in ours]
    if others:
        raise SblError.at(None, f"'{data}' already holds other data files ({', '.join(others[:3])}"
                                f"{', ...' if len(others) > 3 else ''})",
                          help="export into an empty folder, or remove the old dataset first")


def _csv(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header row, then one line per row, every line with one cell per column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([schema.encode_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _description(rows: Rows, study: str, experiment: Any,
                 description: str | None) -> dict[str, Any]:
    title = experiment.title if experiment is not None else study
    said = description or (_setting(experiment, "description") if experiment else None)
    n = len(rows.participants)
    sources = ", ".join(dict.fromkeys(str(r.get("source")) for r in rows))
    text = (f"{said + ' ' if said else ''}Trial data of the sbl experiment '{title}': "
            f"{n} participant{'s' if n != 1 else ''} ({sources}), one CSV file per "
            f"participant, one row per trial.")
    return {"@context": CONTEXT, "@type": "Dataset", "name": title, "description": text,
            "schemaVersion": SCHEMA_VERSION}


def _setting(experiment: Any, name: str) -> str | None:
    """An experiment setting's value when it is a plain text."""
    from sbl.evaluate import EvalError, Scope, evaluate

    expr = experiment.ir.setting(name)
    if expr is None:
        return None
    try:
        value = evaluate(expr, Scope({}))
    except EvalError:
        return None
    return value.strip() if isinstance(value, str) else None


def _materials(experiment: Any, folder: Path) -> None:
    """The .sbl file and the CSV tables it reads."""
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(experiment.path)
    if source.is_file():
        shutil.copyfile(source, folder / source.name)
    for table in experiment.ir.tables:
        path = source.parent / table.source if table.source else None
        if path is not None and path.is_file():
            shutil.copyfile(path, folder / path.name)
