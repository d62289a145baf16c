"""Between-participant groups: Latin squares, the assignment rule in both runtimes, the
``group`` column, the sources (participant, URL, JATOS) and parity of the page with text
runs for participants in different groups (``examples/counterbalance.sbl``)."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sbl
from sbl import groups
from sbl.backends.text import Job, drive, program
from sbl.cli import main
from sbl.data import Rows
from sbl.fmt import format_source
from sbl.parse import parse
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.source import SblError
from tests import parity
from tests.browser import file_url, launch, needs_chromium, session
from tests.test_expr_parity import node_binary

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "counterbalance.sbl"
EXPR_JS = ROOT / "sbl" / "backends" / "web" / "expr.js"
KEYS = ["1", "2", "12", "13", "0", "007", "18446744073709551617", "abc", "", "PROLIFIC",
        "5f1e2d3c4b5a69788796a5b4", "anon-0badc0de12345678", "é", "😀 x", "-3", " 4", "4.0"]


# ---------------------------------------------------------------- Latin squares


@pytest.mark.parametrize("n", range(1, 10))
def test_latin_squares_balance_position_and_carry_over(n: int) -> None:
    items = [chr(ord("A") + i) for i in range(n)]
    rows = groups.latin(items)
    assert len(rows) == (2 * n if n % 2 else n)
    assert all(sorted(row) == items for row in rows)  # every order is a permutation
    per = len(rows) // n
    for position in range(n):  # each item in each position equally often
        assert Counter(row[position] for row in rows) == {x: per for x in items}
    follows = Counter((a, b) for row in rows for a, b in itertools.pairwise(row))
    assert follows == {(a, b): per for a in items for b in items if a != b}


def test_latin_square_rows_are_written_out_in_the_docs() -> None:
    assert ["".join(r) for r in groups.latin(list("ABCD"))] == ["ABDC", "BCAD", "CDBA", "DACB"]
    assert ["".join(r) for r in groups.latin(list("ABC"))] == ["ABC", "BCA", "CAB", "CBA",
                                                               "ACB", "BAC"]
    assert groups.latin([]) == []


# ---------------------------------------------------------------- the assignment rule


def test_numbered_participants_fill_every_group_in_turn() -> None:
    for count in (1, 2, 5, 12):
        assigned = [groups.group_number(str(k), count) for k in range(1, 3 * count + 1)]
        assert assigned == list(range(1, count + 1)) * 3
    assert groups.group_number("007", 5) == groups.group_number("7", 5) == 2
    assert groups.group_number("0", 4) == 4
    assert groups.group_number("18446744073709551617", 3) == (18446744073709551617 - 1) % 3 + 1


def test_other_ids_are_hashed_with_fnv1a() -> None:
    # FNV-1a test vectors (http://www.isthe.com/chongo/src/fnv/test_fnv.c): "", "a", "foobar"
    assert groups.fnv1a32("") == 0x811C9DC5
    assert groups.fnv1a32("a") == 0xE40C292C
    assert groups.fnv1a32("foobar") == 0xBF9CF968
    assert groups.group_number("abc", 7) == groups.fnv1a32("abc") % 7 + 1
    assert not groups.is_number("4.0") and not groups.is_number(" 4") and not groups.is_number("")
    with pytest.raises(ValueError):
        groups.group_number("1", 0)


def test_python_and_javascript_assign_and_square_alike() -> None:
    """The page's expr.js and sbl/groups.py: the same hash, group and Latin square."""
    script = f"""
      const X = require({json.dumps(str(EXPR_JS))});
      const keys = {json.dumps(KEYS)};
      const out = {{hash: keys.map(X.fnv1a32), groups: [], latin: []}};
      for (const k of keys) for (let n = 1; n <= 13; n++) out.groups.push(X.groupNumber(k, n));
      for (let n = 0; n <= 9; n++) out.latin.push(X.BUILTINS.latin.fn([...Array(n).keys()]));
      console.log(JSON.stringify(out));
    """
    done = subprocess.run([node_binary(), "-e", script], capture_output=True, text=True,
                          check=True, timeout=60)
    js = json.loads(done.stdout)
    assert js["hash"] == [groups.fnv1a32(k) for k in KEYS]
    assert js["groups"] == [groups.group_number(k, n) for k in KEYS for n in range(1, 14)]
    assert js["latin"] == [groups.latin(list(range(n))) for n in range(10)]


# ---------------------------------------------------------------- the language


def test_sources_format_and_parse_back() -> None:
    text = """experiment "x"

group g in [{k: 1}, {k: 2}] by url "cond"

group h in [{k: 1}] by jatos

group i in [{k: 1}]
"""
    assert format_source(text, "x.sbl") == text
    decls = parse(text).decls
    assert [(d.source.value, d.param) for d in decls] == [  # type: ignore[union-attr]
        ("url", "cond"), ("jatos", None), ("participant", None)]
    assert "by participant" not in format_source(text.replace("[{k: 1}]\n", "[{k: 1}] by "
                                                              "participant\n"), "x.sbl")


def test_group_is_a_keyword_only_where_a_declaration_starts() -> None:
    exp = sbl.loads('experiment "x"\nlet group = 1\nlet by = [{group: 2}]\n'
                    'block b over by { text { text: "{group}", choices: ["f"] } }\n')
    rows = exp.run(RandomResponder(0))
    assert rows[0]["group"] == 2  # an ordinary column without groups declared


def test_jatos_groups_need_the_page_to_load_jatos_js() -> None:
    source = EXAMPLE.read_text().replace("latin(sets))", "latin(sets)) by jatos")
    with pytest.raises(SblError, match="'by jatos' needs the setting 'jatos: true'"):
        sbl.loads(source, EXAMPLE)
    loaded = sbl.loads(source.replace('(counterbalanced)"', '(counterbalanced)" { jatos: true }'),
                       EXAMPLE)
    assert '<script src="jatos.js"></script>' in loaded.compile()


def test_a_url_source_needs_a_literal_name() -> None:
    with pytest.raises(SblError, match="cannot contain"):
        parse('experiment "x"\nlet c = 1\ngroup g in [{k: 1}] by url "c{c}"\n')
    with pytest.raises(SblError, match="takes no parameter name"):
        parse('experiment "x"\ngroup g in [{k: 1}] by jatos "c"\n')


def test_check_warns_that_participant_ids_may_not_balance() -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE)])
    assert result.exit_code == 0
    assert "warning: groups by participant id are balanced only when participants are " \
           "numbered" in result.stderr
    by_url = sbl.loads(EXAMPLE.read_text().replace("latin(sets))", 'latin(sets)) by url "c"'),
                       EXAMPLE)
    assert not [w for w in by_url.warnings if "groups" in w.message]


# ---------------------------------------------------------------- text runs


def text_run(participants: int = 12, seed: int = 5) -> Rows:
    return sbl.load(EXAMPLE).run(RandomResponder(0), participants=participants, seed=seed)


def test_text_participants_take_the_groups_in_turn() -> None:
    rows = text_run()
    by_participant = rows.by_participant()
    assert {p: {r["group"] for r in own} for p, own in by_participant.items()} == {
        str(k): {k} for k in range(1, 13)}
    # group k: keys (the slowest factor) then the Latin-square order of the three sets
    orders = {p: "".join(dict.fromkeys(r["set"] for r in own if r["kind"] == "text"))
              for p, own in by_participant.items()}
    square = ["ABC", "BCA", "CAB", "CBA", "ACB", "BAC"]
    assert [orders[str(k)] for k in range(1, 13)] == square * 2
    animal_key = {p: next(r["correct_key"] for r in own
                          if r["kind"] == "text" and r["word"] == "horse")
                  for p, own in by_participant.items()}
    assert [animal_key[str(k)] for k in range(1, 13)] == ["f"] * 6 + ["j"] * 6
    assert "Press J for an animal and F for a tool." in rows.transcripts["7"]


def test_replay_keeps_the_recorded_group_and_refuses_one_out_of_range() -> None:
    exp = sbl.load(EXAMPLE)
    first = Rows([r for r in text_run(1) if r["participant"] == "1"])
    moved = Rows([{**r, "participant": "someone", "group": 1} for r in first])
    again = exp.run(Scripted([]), prefix=moved)
    assert {r["group"] for r in again} == {1}  # not the hash of "someone"
    assert groups.group_number("someone", 12) != 1
    wrong = Rows([{**r, "group": 13} for r in first])
    with pytest.raises(SblError, match="records group 13, but the experiment has groups 1 to 12"):
        exp.run(Scripted([]), prefix=wrong)


def test_compare_groups_by_the_group_column(tmp_path: Path) -> None:
    text_run(4).to_csv(tmp_path / "a.csv")
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "a.csv"), "--by", "group"])
    assert result.exit_code == 0, result.output
    assert all(f"group={k}" in result.stdout for k in range(1, 5))


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def browser() -> Any:
    with launch() as b:
        yield b


def page_rows(browser: Any, page: Path, folder: Path, init: str | None = None,
              **query: object) -> Rows:
    """The rows of one data-only simulation of ``page`` with URL parameters ``query``."""
    with session(browser, folder, clock=False, init_script=init) as s:
        s.goto(file_url(page, simulate="data-only", **query))
        return parity.finish(s, page)


def answers_hook(rows: Rows) -> str:
    return f"window.sblSimulationOptions = {json.dumps(parity.simulation_options(rows))};"


@needs_chromium
def test_page_and_text_give_participants_in_different_groups_the_same_rows(
        browser: Any, tmp_path: Path) -> None:
    """Participants 1-4 (groups 1-4): the text run's answers replayed in the page give the
    text run's rows; the page's data through `sbl data`, replayed as text, give the page's."""
    exp = sbl.load(EXAMPLE)
    page = parity.write_page(exp, tmp_path / "page")
    text = text_run(4, seed=11)
    for participant, own in text.by_participant().items():
        mine = Rows(own)
        rows = page_rows(browser, page, tmp_path / participant, answers_hook(mine),
                         participant=participant, seed=own[0]["seed"])
        assert {r["group"] for r in rows} == {int(participant)}
        result = parity.compare_rows(rows, mine)
        print(f"\nparticipant {participant}, text -> page: {result.summary()}")
        assert result.rows == len(own) and not result.diffs, str(result)
        tidy = tmp_path / f"{participant}.csv"
        saved = tmp_path / participant / f"{page.stem}.json"
        assert CliRunner().invoke(main, ["data", str(saved), "-o", str(tidy)]).exit_code == 0
        replayed = exp.run(Scripted([]), prefix=sbl.read_data(tidy))
        result = parity.compare_rows(rows, replayed)
        print(f"participant {participant}, page -> sbl data -> text replay: {result.summary()}")
        assert result.rows == len(own) and not result.diffs, str(result)


@needs_chromium
def test_a_hashed_id_gets_the_same_group_on_the_page_and_in_text(
        browser: Any, tmp_path: Path) -> None:
    exp = sbl.load(EXAMPLE)
    page = parity.write_page(exp, tmp_path / "page")
    pid, seed = "5f1e2d3c4b5a69788796a5b4", 3
    rows = page_rows(browser, page, tmp_path / "run", PROLIFIC_PID=pid, seed=seed)
    assert {r["group"] for r in rows} == {groups.group_number(pid, 12)}
    labels = parity.answer_labels(rows, seed)
    text = drive(program(exp.ir), [Job(pid, seed)], Scripted(labels))
    result = parity.compare_rows(rows, text)
    assert result.rows == len(rows) and not result.diffs, str(result)


@needs_chromium
def test_a_url_parameter_gives_the_group(browser: Any, tmp_path: Path) -> None:
    source = EXAMPLE.read_text().replace("latin(sets))", 'latin(sets)) by url "cond"')
    exp = sbl.loads(source, EXAMPLE)
    page = parity.write_page(exp, tmp_path / "page")
    rows = page_rows(browser, page, tmp_path / "run", participant="abc", cond="9", seed=1)
    assert {r["group"] for r in rows} == {9}
    replayed = exp.run(Scripted([]), prefix=rows)
    assert not parity.compare_rows(rows, replayed).diffs
    with session(browser, tmp_path / "none", clock=False) as s:
        s.goto(file_url(page, participant="abc", simulate="data-only"))
        s.page.wait_for_selector(".sbl-error")
        assert "the link has no 'cond' parameter" in s.page.inner_text("body")


# A stand-in for jatos.js's batch session, written from jatos.js 3.11.1
# (JATOS/JATOS@0323044d, modules/publix/public/javascripts/jatos.js: batchSessionVersioning,
# sendBatchSessionPatch, handleBatchAction) and the jatos.js reference
# (kristian-lange/Jatos_Docusaurus@010e8bbc, JATOS_DOC/docs/Reference/jatos.js-Reference.md):
# batchSession.get reads the local copy without calling the server, and returns undefined
# for a missing field; batchSession.set(name, value) sends a JSON patch with the local
# session version (batchSessionVersioning is on by default: "only a patch with the current
# version ... is applied"), and the server answers SESSION_FAIL, rejecting the promise, when
# the version is outdated; the server's newer
# session reaches the local copy as a patch. Here another participant counted (4 -> 5) after
# this page loaded, so the first set is refused and the page must count again.
JATOS = """
window.__server = {data: {sbl_participants: 5}, version: 8};
let local = {data: {sbl_participants: 4}, version: 7};
window.jatos = {
  onLoad: (f) => setTimeout(f, 0),
  submitResultData: (d) => { window.__jatos = d; return Promise.resolve(); },
  batchSession: {
    get: (name) => JSON.parse(JSON.stringify(local.data))[name],
    set: (name, value) => new Promise((resolve, reject) => setTimeout(() => {
      const server = window.__server;
      if (local.version !== server.version) {
        local = JSON.parse(JSON.stringify(server));
        reject("SESSION_FAIL");
        return;
      }
      server.data[name] = value;
      server.version += 1;
      local = JSON.parse(JSON.stringify(server));
      resolve();
    }, 5)),
  },
};
"""


@needs_chromium
def test_jatos_batch_session_counts_participants(browser: Any, tmp_path: Path) -> None:
    source = EXAMPLE.read_text().replace("latin(sets))", "latin(sets)) by jatos").replace(
        "(counterbalanced)\"", "(counterbalanced)\" { jatos: true }")
    exp = sbl.loads(source, EXAMPLE)
    page = tmp_path / "page.html"
    exp.compile(page, allow_simulate=True)
    with session(browser, tmp_path, clock=False, init_script=JATOS) as s:
        s.goto(file_url(page, participant="w1", seed=2, simulate="data-only"))
        assert s.wait_state() == "done"
        data = json.loads(s.page.evaluate("window.__jatos"))
        server = s.page.evaluate("window.__server")
    assert server == {"data": {"sbl_participants": 6}, "version": 9}
    assert {r["group"] for r in data if r.get("trial")} == {6}  # the 6th participant


def test_psych_ds_describes_the_group_column() -> None:
    from sbl.export.psych_ds import GROUP, describe_columns

    rows = text_run(2)
    assert describe_columns(["group"], rows, (), grouped=True)[0]["description"] == GROUP
    assert describe_columns(["group"], rows)[0]["description"] != GROUP  # a column of its own
