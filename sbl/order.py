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
   to be dead and remembering dead states. It stops after :data:`STEPS` placements (fewer
   with many types: :data:`WORK`); short of that, it finds an order whenever one exists, and
   "none" is a proof. The rows of each type
   are then dealt out in a shuffled order.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sbl import ir
from sbl.evaluate import EvalError
from sbl.prng import Prng, shuffle
from sbl.source import counted
from sbl.values import show_inner

ATTEMPTS = 1000  # uniform shuffles tried before the search
STEPS = 200_000  # placements the search may make; every table of <= 8 rows fits in them
WORK = 10_000_000  # placements times types of row: with more than 50 types, fewer steps


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
    """The search ran out of steps (``steps``) before it found an order or proved there is
    none."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"no order was found in {steps} search steps")
        self.steps = steps


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
        how = f"none was found in {exc.steps} search steps" if isinstance(exc, Unsolved) \
            else "there is none"
        raise EvalError(f"block '{block.name}': no order of its {len(rows)} rows keeps "
                        f"{said} ({how})", block.constraints[0].span) from None


def impossible(c: ir.Constraint, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a constraint alone cannot hold for these rows, by counting; None when counting
    finds no reason."""
    values = key_values(rows, c.column)
    (rule,) = rules((c,), rows)
    if counts_allow(rule):
        return None
    n, (top, m) = len(values), Counter(rule.classes).most_common(1)[0]
    what = f"have {c.column} = {show_inner(values[rule.classes.index(top)])}" if c.column \
        else "are the same row"
    if rule.distance:
        return (f"{m} of its {n} rows {what}; {rule.distance} apart they need at least "
                f"{(m - 1) * rule.distance + 1} rows")
    return (f"{m} of its {n} rows {what}, and its {counted(n - m, 'other row')} can separate at "
            f"most {rule.run * (n - m + 1)} of them into runs of {rule.run}")


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
    m = max(Counter(rule.classes).values(), default=0)  # both bounds grow with the count
    return not (rule.run and m > rule.run * (n - m + 1)
                or rule.distance and (m - 1) * rule.distance > n - 1)


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
    members: list[list[int]] = [[] for _ in kinds]  # each type's rows, in table order
    for i, t in enumerate(row_type):
        members[t].append(i)
    typed = [Rule(tuple(r.classes[own[0]] for own in members), r.run, r.distance)
             for r in rules]
    sequence = _Search(row_type, typed, steps).run(rng)
    dealt = [iter(shuffle(rng, own)) for own in members]
    return [next(dealt[t]) for t in sequence]


class _Search:
    """Depth-first search for a sequence of types, with dead states remembered."""

    def __init__(self, row_type: list[int], rules: list[Rule], steps: int) -> None:
        types = len(rules[0].classes)
        # a state's key is as long as there are types: bound the memory the dead states take
        self.n, self.rules, self.steps = len(row_type), rules, min(steps, WORK // types)
        self.count = [0] * types
        for t in row_type:
            self.count[t] += 1
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
                raise Unsolved(self.steps)
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
        """The types that may come next, in type order: those the rules let follow the recent
        ones and after which counting still allows a completion."""
        recent = self.seq[-self.reach:][::-1] if self.reach else []
        checks = [self._counting(r) for r in range(len(self.rules))]
        allowed: list[dict[int, bool]] = [{} for _ in self.rules]  # by class: many types share one

        def allows(r: int, c: int) -> bool:
            if c not in allowed[r]:
                rule = self.rules[r]
                allowed[r][c] = fits(rule, rule.classes, recent, c) and checks[r](c)
            return allowed[r][c]
        return [t for t, k in enumerate(self.count)
                if k and all(allows(r, rule.classes[t]) for r, rule in enumerate(self.rules))]

    def _counting(self, r: int) -> Callable[[int], bool]:
        """The counting argument for rule ``r``, as a test of the class placed next: after
        it, no class may have more rows left than the remaining positions can hold, in runs
        of at most ``run`` between the other rows, or ``distance`` apart. A necessary
        condition, so pruning on it is safe; both sides grow with a class's count, so only
        the placed class, the classes seen recently and the largest other one are tested."""
        rule, left, seq = self.rules[r], self.left[r], self.seq
        rest = self.n - len(seq) - 1  # positions left after the next one
        last: dict[int, int] = {}  # the recent classes' last positions
        for p in range(max(0, len(seq) - rule.distance + 1), len(seq)):
            last[rule.classes[seq[p]]] = p
        streak = _streak(rule, seq) if rule.run else 0
        tops = heapq.nlargest(len(last) + 2, ((m, c) for c, m in enumerate(left) if m))
        prev = rule.classes[seq[-1]] if seq else -1

        def room(m: int, earliest: int, run: int) -> bool:
            return m == 0 or ((not rule.run or m <= rule.run * (rest - m + 1) - run)
                              and (not rule.distance
                                   or earliest + (m - 1) * rule.distance <= rest - 1))

        def ok(x: int) -> bool:
            run = streak + 1 if x == prev else 1
            if not room(left[x] - 1, rule.distance - 1 if rule.distance else 0, run):
                return False
            placed = len(seq) + 1
            if not all(room(left[c], max(0, rule.distance - (placed - p)), 0)
                       for c, p in last.items() if c != x):
                return False
            other = next((m for m, c in tops if c != x and c not in last), 0)
            return room(other, 0, 0)
        return ok


def _streak(rule: Rule, seq: list[int]) -> int:
    """How many of the last placed types share the last one's class (at most ``run``)."""
    k = 0
    while k < min(len(seq), rule.run) and rule.classes[seq[-1 - k]] == rule.classes[seq[-1]]:
        k += 1
    return k


def _weighted(rng: Prng, types: list[int], count: list[int]) -> int:
    """One of ``types`` (in type order), with probability proportional to its rows left."""
    k = rng.below(sum(count[t] for t in types))
    for t in types:
        k -= count[t]
        if k < 0:
            return t
    return types[-1]
