"""Constrained shuffles: a block's order with at most N in a row of one value, a least
distance between equal values, no immediate repeats (docs/language.md, "Constrained orders").

``sbl/backends/web/order.js`` is the twin of this module, draw for draw, so a seed gives the
same order in the browser and in a text run. Two phases, both driven by the shared
:class:`~sbl.prng.Prng`:

1. **Rejection** (uniform): up to :data:`ATTEMPTS` Fisher-Yates shuffles, each checked as its
   positions are fixed (from the last down, as :func:`sbl.prng.shuffle` fixes them) and given
   up at the first violation. An accepted order is uniform among the valid ones.
2. **Search** (complete, not uniform): a depth-first search over *types* (rows that agree on
   every constrained key are interchangeable), trying the types that fit in a random order
   weighted by how many rows of each are left, pruning states that a counting argument shows
   to be dead and remembering dead states. It stops after :data:`STEPS` placements; short of
   that, it finds an order whenever one exists, and "none" is a proof. The rows of each type
   are then dealt out in a shuffled order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sbl import ir
from sbl.evaluate import EvalError
from sbl.prng import Prng, shuffle
from sbl.values import show_inner

ATTEMPTS = 1000  # uniform shuffles tried before the search
STEPS = 200_000  # placements the search may make; every table of <= 8 rows fits in them


@dataclass(frozen=True, slots=True)
class Rule:
    """One constraint on a sequence of classes: ``classes[i]`` is row i's class (equal values
    share one); ``run`` is the most rows of one class in a row, ``distance`` the least distance
    between two rows of one class (adjacent rows are 1 apart); 0 means no limit."""

    classes: tuple[int, ...]
    run: int = 0
    distance: int = 0

    @property
    def reach(self) -> int:
        """How many earlier positions decide whether a class fits next."""
        return max(self.run, self.distance - 1)


class NoOrder(Exception):
    """No order keeps the constraints: the complete search proved it."""


class Unsolved(Exception):
    """The search ran out of steps before it found an order or proved there is none."""


def canon(value: Any) -> str:
    """A text equal for two values exactly when sbl's ``==`` holds (records ignore the order
    of their keys; 1 and 1.0 are one number)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return "n" + repr(float(value) + 0.0)
    if isinstance(value, list):
        return "[" + ",".join(canon(v) for v in value) + "]"
    return "{" + ",".join(json.dumps(k) + ":" + canon(value[k]) for k in sorted(value)) + "}"


def classes(values: Sequence[Any]) -> tuple[int, ...]:
    """Each value's class: the index of the first equal value's class, in order of appearance."""
    seen: dict[str, int] = {}
    return tuple(seen.setdefault(canon(v), len(seen)) for v in values)


def key_values(rows: Sequence[Mapping[str, Any]], column: str | None) -> list[Any]:
    """The values a constraint compares: a column (none where a row lacks it) or whole rows."""
    return [row if column is None else row.get(column) for row in rows]


def describe(c: ir.Constraint) -> str:
    """A constraint as written: ``max_run congruent 3``."""
    return " ".join(str(w) for w in (c.rule.value, c.column, c.count) if w is not None)


def rules(constraints: Sequence[ir.Constraint], rows: Sequence[Mapping[str, Any]]
          ) -> list[Rule]:
    """The rules the constraints set on these rows (``no_repeat`` is a run of 1)."""
    out = []
    for c in constraints:
        cls = classes(key_values(rows, c.column))
        limit = c.count or 1
        out.append(Rule(cls, distance=limit) if c.rule is ir.Rule.MIN_DISTANCE
                   else Rule(cls, run=limit))
    return out


def block_order(rng: Prng, block: ir.Block, rows: list[Any]) -> list[Any]:
    """The rows of a shuffled block in their order; an EvalError naming the block (at its
    first constraint) when no order keeps its constraints."""
    try:
        return constrained_shuffle(rng, rows, rules(block.constraints, rows))
    except (NoOrder, Unsolved) as exc:
        said = ", ".join(describe(c) for c in block.constraints)
        how = "there is none" if isinstance(exc, NoOrder) else \
            f"none was found in {STEPS} search steps"
        raise EvalError(f"block '{block.name}': no order of its {len(rows)} rows keeps "
                        f"{said} ({how})", block.constraints[0].span) from None


def impossible(c: ir.Constraint, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a constraint alone cannot hold for these rows, by counting; None when counting
    finds no reason."""
    values = key_values(rows, c.column)
    cls = classes(values)
    n = len(cls)
    if n == 0:
        return None
    m, top = max((cls.count(k), -k) for k in set(cls))
    what = f"have {c.column} = {show_inner(values[cls.index(-top)])}" if c.column else \
        "are the same row"
    limit = c.count or 1
    if c.rule is ir.Rule.MIN_DISTANCE and (m - 1) * limit + 1 > n:
        return (f"{m} of its {n} rows {what}; {limit} apart they need at least "
                f"{(m - 1) * limit + 1} rows")
    if c.rule is not ir.Rule.MIN_DISTANCE and m > limit * (n - m + 1):
        return (f"{m} of its {n} rows {what}, and its {n - m} other rows can separate at "
                f"most {limit * (n - m + 1)} of them into runs of {limit}")
    return None


def fits(rule: Rule, cls: Sequence[int], recent: Sequence[int], c: int) -> bool:
    """Whether class ``c`` may come next after ``recent`` (indices into ``cls``, the most
    recent first)."""
    if rule.run and len(recent) >= rule.run and \
            all(cls[recent[j]] == c for j in range(rule.run)):
        return False
    return not any(cls[recent[j]] == c for j in range(min(rule.distance - 1, len(recent))))


def constrained_shuffle(rng: Prng, items: Sequence[Any], rules: Sequence[Rule]) -> list[Any]:
    """A random order of ``items`` that keeps every rule; :class:`NoOrder` when there is none,
    :class:`Unsolved` when the search ran out of steps."""
    if not rules:
        return shuffle(rng, list(items))
    if not all(counts_allow(r) for r in rules):
        raise NoOrder("no order keeps these constraints")  # no draws spent on a hopeless table
    found = _reject(rng, len(items), rules)
    if found is None:
        found = solve(rng, len(items), rules)
    return [items[i] for i in found]


def counts_allow(rule: Rule) -> bool:
    """Whether the class counts leave room for the rule: no class has more rows than runs
    between the others can hold, or than fit its distance apart."""
    n = len(rule.classes)
    for c in set(rule.classes):
        m = rule.classes.count(c)
        if rule.run and m > rule.run * (n - m + 1) or (m - 1) * rule.distance > n - 1:
            return False
    return True


def _reject(rng: Prng, n: int, rules: Sequence[Rule]) -> list[int] | None:
    """Phase 1: an order accepted from uniform shuffles, or None after ATTEMPTS."""
    reach = max(r.reach for r in rules)
    for _ in range(ATTEMPTS):
        out = list(range(n))
        for i in range(n - 1, -1, -1):
            if i > 0:
                j = rng.below(i + 1)
                out[i], out[j] = out[j], out[i]
            after = out[i + 1:i + 1 + reach]
            if not all(fits(r, r.classes, after, r.classes[out[i]]) for r in rules):
                break
        else:
            return out
    return None


def solve(rng: Prng, n: int, rules: Sequence[Rule], steps: int = STEPS) -> list[int]:
    """Phase 2: the complete search; an order of row indices, :class:`NoOrder` when none
    exists, :class:`Unsolved` past ``steps`` placements."""
    if n == 0:
        return []
    kinds: dict[tuple[int, ...], int] = {}
    row_type = [kinds.setdefault(tuple(r.classes[i] for r in rules), len(kinds))
                for i in range(n)]
    typed = [Rule(tuple(r.classes[row_type.index(t)] for t in range(len(kinds))), r.run,
                  r.distance) for r in rules]
    sequence = _Search(row_type, typed, steps).run(rng)
    dealt = [iter(shuffle(rng, [i for i in range(n) if row_type[i] == t]))
             for t in range(len(kinds))]
    return [next(dealt[t]) for t in sequence]


class _Search:
    """Depth-first search for a sequence of types, with dead states remembered."""

    def __init__(self, row_type: list[int], rules: list[Rule], steps: int) -> None:
        self.n, self.rules, self.steps = len(row_type), rules, steps
        self.count = [row_type.count(t) for t in range(len(rules[0].classes))]
        self.left = [[0] * (max(r.classes) + 1) for r in rules]
        for t, k in enumerate(self.count):
            for r, rule in enumerate(rules):
                self.left[r][rule.classes[t]] += k
        self.reach = max(r.reach for r in rules)
        self.seq: list[int] = []

    def run(self, rng: Prng) -> list[int]:
        dead: set[str] = set()
        frames = [self.viable()]
        taken = 0
        while len(self.seq) < self.n:
            untried = frames[-1]
            if not untried:
                dead.add(self.key())
                frames.pop()
                if not frames:
                    raise NoOrder("no order keeps these constraints")
                self.take(self.seq[-1], -1)
                continue
            t = _weighted(rng, untried, self.count)
            untried.remove(t)
            self.take(t, 1)
            taken += 1
            if taken > self.steps:
                raise Unsolved(f"no order was found in {self.steps} search steps")
            if len(self.seq) < self.n and self.key() in dead:
                self.take(t, -1)
                continue
            frames.append(self.viable())
        return self.seq

    def take(self, t: int, sign: int) -> None:
        """Place type ``t`` next (sign 1) or take the last one back (sign -1)."""
        self.count[t] -= sign
        for r, rule in enumerate(self.rules):
            self.left[r][rule.classes[t]] -= sign
        if sign > 0:
            self.seq.append(t)
        else:
            self.seq.pop()

    def key(self) -> str:
        """The state: what is left, and the recent types the rules look back on."""
        recent = self.seq[max(0, len(self.seq) - self.reach):] if self.reach else []
        return ",".join(map(str, self.count)) + "|" + ",".join(map(str, recent))

    def viable(self) -> list[int]:
        """The types that may come next, in type order."""
        recent = self.seq[::-1][:self.reach]
        out = []
        for t, k in enumerate(self.count):
            if k and all(fits(r, r.classes, recent, r.classes[t]) for r in self.rules):
                self.take(t, 1)
                if all(self.feasible(r) for r in range(len(self.rules))):
                    out.append(t)
                self.take(t, -1)
        return out

    def feasible(self, r: int) -> bool:
        """The counting argument for rule ``r``: no class has more rows left than the
        remaining positions can hold (a necessary condition, so pruning on it is safe)."""
        rule, left = self.rules[r], self.left[r]
        remaining = self.n - len(self.seq)
        last = [-1] * len(left)  # each class's last position, where the rule can see it
        for p in range(max(0, len(self.seq) - max(rule.run, rule.distance)), len(self.seq)):
            last[rule.classes[self.seq[p]]] = p
        cur = rule.classes[self.seq[-1]] if self.seq else -1
        streak = _streak(rule, self.seq)
        return all(m == 0 or (not rule.run or m <= rule.run * (remaining - m + 1)
                              - (streak if c == cur else 0))
                   and (not rule.distance or _earliest(rule, last[c], len(self.seq))
                        + (m - 1) * rule.distance <= remaining - 1)
                   for c, m in enumerate(left))


def _streak(rule: Rule, seq: list[int]) -> int:
    """How many of the last placed types share the last one's class."""
    k = 0
    while k < len(seq) and rule.classes[seq[-1 - k]] == rule.classes[seq[-1]]:
        k += 1
    return k


def _earliest(rule: Rule, last: int, placed: int) -> int:
    """The first offset past ``placed`` at which a class last seen at ``last`` may come."""
    return 0 if last < 0 else max(0, rule.distance - (placed - last))


def _weighted(rng: Prng, types: list[int], count: list[int]) -> int:
    """One of ``types`` (in type order), with probability proportional to its rows left."""
    k = rng.below(sum(count[t] for t in types))
    for t in types:
        k -= count[t]
        if k < 0:
            return t
    return types[-1]
