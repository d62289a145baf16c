"""Response times shown to text participants (docs/data.md, "Debriefs"): a text run has none,
so text that shows one reads "not measured", never "none ms"; the page's rows replay as
the page showed them."""

# ruff: noqa: E501  (an sbl string holds its hole on one line)
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import sbl
from sbl.cli import main
from sbl.data.rows import Rows
from sbl.participants.scripted import Scripted

DEBRIEF = """
experiment "Debrief" { instructions: "Press F for red, J for green." }
block test over [{word: "RED", congruent: true}, {word: "GREEN", congruent: false},
                 {word: "RED", congruent: false}] {
  text judge { text: word, choices: ["f", "j"], correct_key: "f" }
}
block debrief over [{label: "congruent", c: true}, {label: "incongruent", c: false}] {
  text {
    text: "Mean rt of correct {label} trials: {round(mean([t.rt for t in trials if t.trial == 'test/judge' and t.correct and t.congruent == c]))} ms."
    duration: 100
  }
}
text last { text: "You took {prev(3).rt}ms; as text: " + str(prev(3).rt) + " msec", duration: 100 }
text guarded { text: "{if prev(4).rt == none then 'no time' else str(prev(4).rt)}", duration: 100 }
"""
ANSWERS = ["f", "f", "j"]


def run(rows: Rows | None = None) -> Rows:
    return sbl.loads(DEBRIEF, "debrief.sbl").run(Scripted([] if rows else ANSWERS), seed=1,
                                                 prefix=rows)


def test_a_debrief_of_response_times_reads_not_measured_in_a_text_run() -> None:
    rows = run()
    texts = [r["text"] for r in rows[4:]]  # after the instructions and 3 trials
    assert texts == ["Mean rt of correct congruent trials: not measured.",
                     "Mean rt of correct incongruent trials: not measured.",
                     "You took not measured; as text: not measured",
                     "no time"]  # the author's own wording stands
    assert all(r["rt"] is None for r in rows)
    transcript = rows.transcripts["1"]
    assert "Mean rt of correct congruent trials: not measured." in transcript
    assert "none" not in transcript


def test_check_still_warns_where_the_wording_is_used(tmp_path: Path) -> None:
    path = tmp_path / "debrief.sbl"
    path.write_text(DEBRIEF, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert [w.split(":")[1] for w in warnings] == ["9", "13"]  # one a parameter; none: guarded
    assert all("it reads 'not measured' there" in w for w in warnings)


def test_page_rows_replay_as_the_page_showed_them() -> None:
    """Rows the page recorded carry response times: replayed, they show numbers (and a
    timeout's none as the page shows it), and the recomputed rows equal the recorded ones."""
    page = [dict(r) for r in run()]
    rts = {1: 512, 2: 700, 3: 631}
    for i, row in enumerate(page):
        row["source"] = "browser"
        row["rt"] = rts.get(i)
    page[4]["text"] = "Mean rt of correct congruent trials: 512 ms."
    page[5]["text"] = "Mean rt of correct incongruent trials: 700 ms."
    page[6]["text"] = "You took 631ms; as text: 631 msec"
    page[7]["text"] = "631"
    replayed = run(Rows(page))
    assert [r.get("text") for r in replayed] == [r.get("text") for r in page]
    assert [r["rt"] for r in replayed] == [r["rt"] for r in page]
    page[3]["rt"] = page[3]["response"] = None  # a timeout
    page[3]["correct"] = False
    page[6]["text"] = "You took nonems; as text: none msec"  # as the page shows it
    page[7]["text"] = "no time"
    assert run(Rows(page))[6]["text"] == "You took nonems; as text: none msec"


def test_text_rows_replay_whatever_wording_they_recorded() -> None:
    """A text run's cells computed from its absent rt are not compared on replay: rows
    recorded before this wording ("none ms") still replay."""
    old = [dict(r) for r in run()]
    old[6]["text"] = "You took nonems; as text: none msec"
    replayed = run(Rows(old))
    assert replayed[6]["text"] == "You took not measured; as text: not measured"
    assert [r["response"] for r in replayed] == [r["response"] for r in old]


def test_a_header_reads_the_wording_too() -> None:
    text = ('experiment "x"\ntext { text: "F", choices: ["f", "j"] }\n'
            'block b { header: "Last time: {prev.rt} ms."\n  text { text: "J", choices: ["f", "j"] } }\n')
    rows = sbl.loads(text, "x.sbl").run(Scripted(["f", "j"]), seed=1)
    assert "\nLast time: not measured.\n" in rows.transcripts["1"]
