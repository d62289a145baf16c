"""How the fixed data sets in this folder were made (run once; the files are committed).

    python tests/data/build.py

Each participant's choices are written here by hand, so the golden numbers of
``tests/test_compare.py`` can be checked by hand. People's data is what the compiled page
saves (jsPsych JSON: a preload row, jsPsych's own fields, sbl's fields flat, a seed, rts);
models' data is sbl's own CSV (no rt), as ``sbl simulate -o`` writes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sbl
from sbl.backends.text import run_experiment
from sbl.backends.text.answers import label_order
from sbl.data import Rows
from sbl.participants.scripted import Scripted

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "examples"

# Arm chosen on each of the bandit's 11 trials (0: orange, paying 10, 9, ... 0;
# 1: blue, paying 0, 1, ... 10), by participant id and seed.
BANDIT_PEOPLE = {
    ("p1", 11): [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    ("p2", 12): [0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1],
    ("P-07", 13): [1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1],
}
BANDIT_MODEL = {
    ("1", 0): [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ("2", 1): [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
    ("3", 2): [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ("4", 3): [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1],
}
# The Stroop words (word, ink) each participant gets wrong; every other answer is right.
# The model's participant 2 reads the word instead of naming the ink.
INCONGRUENT = (("RED", "green"), ("GREEN", "red"))
STROOP_PEOPLE = {("s1", 21): {("RED", "green")}, ("s2", 22): set(),
                 ("s3", 23): {("GREEN", "red")}}
STROOP_MODEL = {("1", 0): {("RED", "red"), ("GREEN", "red")}, ("2", 1): set(INCONGRUENT),
                ("3", 2): set()}


def scripted(experiment: Any, answers: list[str], participant: str, seed: int,
             source: str) -> Rows:
    """One participant's rows from a scripted run, under their own id and source."""
    rows = run_experiment(experiment.ir, Scripted(answers), seed=seed)
    return Rows([{**r, "participant": participant, "source": source} for r in rows])


def bandit_answers(arms: list[int], seed: int) -> list[str]:
    """The option letters that choose ``arms`` for a participant with ``seed``."""
    order = label_order(seed)
    return [order[a] for a in arms]


def stroop_keys(experiment: Any, seed: int, errors: set[tuple[str, str]]) -> list[str]:
    """The keys answering each word in the order the participant with ``seed`` sees them:
    the ink's key (f: red, j: green), the other key for the words in ``errors``."""
    order = run_experiment(experiment.ir, Scripted(["f"] * 4), seed=seed)
    keys = []
    for row in order:
        if row["kind"] == "text" and row["correct_key"] is not None:
            wrong = (row["text"], row["color"]) in errors
            keys.append({"f": "j", "j": "f"}[row["correct_key"]] if wrong else
                        row["correct_key"])
    return keys


def stroop_rt(row: dict[str, Any], k: int) -> int:
    """A person's rt: slower when the word names the other ink (the Stroop effect)."""
    incongruent = str(row.get("text", "")).lower() != row.get("color")
    return 520 + 130 * incongruent + 40 * k + 7 * row["trial_index"]


def to_jspsych(rows: Rows, seed: int, rt_of: Any) -> list[dict[str, Any]]:
    """The page's jsPsych records for one participant's rows."""
    out: list[dict[str, Any]] = [{
        "trial_type": "preload", "trial_index": 0, "time_elapsed": 15,
        "internal_node_id": "0.0-0.0", "success": True, "timeout": False,
        "failed_images": [], "failed_audio": [], "failed_video": []}]
    elapsed = 15
    for i, row in enumerate(rows):
        rt = rt_of(row) if row["response"] is not None else None
        elapsed += rt or 1000
        record = {"rt": rt, "stimulus": "<div class='sbl'>…</div>",
                  "response": row["response"], "trial_type": "html-keyboard-response",
                  "trial_index": i + 1, "time_elapsed": elapsed,
                  "internal_node_id": f"0.0-{i + 1}.0"}
        record.update({k: v for k, v in row.items() if k not in ("trial_index", "rt",
                                                                   "response")})
        record.update(source="browser", sbl_trial_index=i, seed=seed)
        out.append(record)
    return out


def build() -> None:
    """Write every data set of this folder."""
    bandit = sbl.load(EXAMPLES / "bandit.sbl")
    stroop = sbl.load(EXAMPLES / "stroop.sbl")
    people: list[dict[str, Any]] = []
    for k, ((pid, seed), arms) in enumerate(BANDIT_PEOPLE.items()):
        rows = scripted(bandit, bandit_answers(arms, seed), pid, seed, "browser")
        people += to_jspsych(rows, seed, lambda r, k=k: 700 + 90 * k + 11 * r["trial_index"])
    (HERE / "bandit_people.json").write_text(json.dumps(people, indent=1) + "\n",
                                             encoding="utf-8")
    model = [r for (pid, seed), arms in BANDIT_MODEL.items()
             for r in scripted(bandit, bandit_answers(arms, seed), pid, seed, "smollm2")]
    Rows(model).save(HERE / "bandit_model.csv")
    people = []
    for k, ((pid, seed), errors) in enumerate(STROOP_PEOPLE.items()):
        rows = scripted(stroop, stroop_keys(stroop, seed, errors), pid, seed, "browser")
        people += to_jspsych(rows, seed, lambda r, k=k: stroop_rt(r, k))
    (HERE / "stroop_people.json").write_text(json.dumps(people, indent=1) + "\n",
                                             encoding="utf-8")
    model = [r for (pid, seed), errors in STROOP_MODEL.items()
             for r in scripted(stroop, stroop_keys(stroop, seed, errors), pid, seed,
                               "smollm2")]
    Rows(model).save(HERE / "stroop_model.csv")


if __name__ == "__main__":
    build()
