/* sbl constrained shuffles in the browser (and in node): the twin of sbl/order.py, draw for
 * draw, so a seed gives the same order on the page as in a text run. docs/language.md
 * ("Constrained orders") specifies both; tests/test_order_parity.py checks that they agree.
 *
 * Phase 1 tries up to ATTEMPTS uniform Fisher-Yates shuffles, each checked as its positions
 * are fixed and given up at the first violation (an accepted order is uniform among the valid
 * ones). Phase 2 is a complete depth-first search over types of rows, trying the types that
 * fit in a random order weighted by the rows left, pruned by a counting argument, with dead
 * states remembered; it stops after STEPS placements.
 * Loaded by a <script> tag after expr.js it defines the global SblOrder; under node it is a
 * CommonJS module.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module && module.exports) {
    module.exports = factory(require("./expr.js"));
  } else {
    root.SblOrder = factory(root.SblExpr);
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function (X) {
  "use strict";

  const ATTEMPTS = 1000;
  const STEPS = 200000;
  const WORK = 10000000; // placements times types of row

  /** No order keeps the constraints: the complete search proved it. */
  class NoOrder extends Error {}

  /** The search ran out of steps before it found an order or proved there is none. */
  class Unsolved extends Error {
    constructor(steps) {
      super(`no order was found in ${steps} search steps`);
      this.steps = steps;
    }
  }

  /** A rule: classes[i] is row i's class; run the most of one class in a row, distance the
   * least distance between two of one class; 0 means no limit. */
  function rule(classes, run, distance) {
    return { classes, run, distance, reach: Math.max(run, distance - 1, 0) };
  }

  /** A text equal for two values exactly when sbl's == holds. */
  function canon(v) {
    const k = X.kind(v);
    if (k === "number") return "n" + String(v + 0);
    if (k === "list") return "[" + v.map(canon).join(",") + "]";
    if (k === "record") {
      return "{" + Object.keys(v).sort().map((key) => JSON.stringify(key) + ":" + canon(v[key]))
        .join(",") + "}";
    }
    return JSON.stringify(v === undefined ? null : v);
  }

  /** Each value's class: numbered in order of first appearance. */
  function classes(values) {
    const seen = new Map();
    return values.map((v) => {
      const key = canon(v);
      if (!seen.has(key)) seen.set(key, seen.size);
      return seen.get(key);
    });
  }

  /** The values a constraint compares: a column (none where a row lacks it) or whole rows. */
  function keyValues(rows, column) {
    return rows.map((row) => (column === null ? row
      : Object.prototype.hasOwnProperty.call(row, column) ? row[column] : null));
  }

  /** A constraint as written: "max_run congruent 3". */
  function describe(c) {
    return [c.rule, c.column, c.count].filter((w) => w !== null && w !== undefined).join(" ");
  }

  /** The rules the IR constraints set on these rows (no_repeat is a run of 1). */
  function rulesOf(constraints, rows) {
    return constraints.map((c) => {
      const cls = classes(keyValues(rows, c.column));
      const limit = c.count || 1;
      return c.rule === "min_distance" ? rule(cls, 0, limit) : rule(cls, limit, 0);
    });
  }

  /** The rows of a shuffled block in their order; throws an Error naming the block, with the
   * span of its first constraint, when no order keeps its constraints. */
  function blockOrder(rng, block, rows) {
    const constraints = block.constraints || [];
    try {
      return constrainedShuffle(rng, rows, rulesOf(constraints, rows));
    } catch (e) {
      if (!(e instanceof NoOrder || e instanceof Unsolved)) throw e;
      const how = e instanceof Unsolved ? `none was found in ${e.steps} search steps`
        : "there is none";
      const err = new Error(`block '${block.name}': no order of its ${rows.length} rows keeps ` +
        `${constraints.map(describe).join(", ")} (${how})`);
      err.span = constraints[0].span;
      throw err;
    }
  }

  /** Whether class c may come next after `recent` (indices into cls, the most recent first). */
  function fits(r, cls, recent, c) {
    if (r.run && recent.length >= r.run) {
      let all = true;
      for (let j = 0; j < r.run; j++) if (cls[recent[j]] !== c) all = false;
      if (all) return false;
    }
    const reach = Math.min(r.distance - 1, recent.length);
    for (let j = 0; j < reach; j++) if (cls[recent[j]] === c) return false;
    return true;
  }

  /** A random order of `items` keeping every rule; throws NoOrder or Unsolved. */
  function constrainedShuffle(rng, items, rules) {
    if (rules.length === 0) return X.shuffle(rng, items);
    if (!rules.every(countsAllow)) throw new NoOrder("no order keeps these constraints");
    let found = reject(rng, items.length, rules);
    if (found === null) found = solve(rng, items.length, rules);
    return found.map((i) => items[i]);
  }

  /** Whether the class counts leave room for the rule (runs between the others, distance). */
  function countsAllow(r) {
    const n = r.classes.length;
    const counts = new Map();
    for (const c of r.classes) counts.set(c, (counts.get(c) || 0) + 1);
    const m = largest(counts.values()); // both bounds grow with the count
    return !((r.run && m > r.run * (n - m + 1)) || (r.distance && (m - 1) * r.distance > n - 1));
  }

  function reject(rng, n, rules) {
    const reach = largest(rules.map((r) => r.reach));
    for (let a = 0; a < ATTEMPTS; a++) {
      const out = [];
      for (let i = 0; i < n; i++) out.push(i);
      let ok = true;
      for (let i = n - 1; i >= 0 && ok; i--) {
        if (i > 0) {
          const j = rng.below(i + 1);
          const t = out[i]; out[i] = out[j]; out[j] = t;
        }
        const after = out.slice(i + 1, i + 1 + reach);
        ok = rules.every((r) => fits(r, r.classes, after, r.classes[out[i]]));
      }
      if (ok) return out; // every position fixed and checked
    }
    return null;
  }

  /** Phase 2: an order of row indices; throws NoOrder or Unsolved. */
  function solve(rng, n, rules, steps = STEPS) {
    if (n === 0) return [];
    const kinds = new Map();
    const rowType = [];
    const members = []; // each type's rows, in table order
    for (let i = 0; i < n; i++) {
      const key = rules.map((r) => r.classes[i]).join(",");
      if (!kinds.has(key)) {
        kinds.set(key, kinds.size);
        members.push([]);
      }
      rowType.push(kinds.get(key));
      members[kinds.get(key)].push(i);
    }
    const typed = rules.map((r) => rule(members.map((own) => r.classes[own[0]]), r.run,
      r.distance));
    const sequence = search(rng, rowType, typed, steps);
    const dealt = members.map((own) => X.shuffle(rng, own));
    const next = members.map(() => 0);
    return sequence.map((t) => dealt[t][next[t]++]);
  }

  function largest(xs) {
    let m = 0;
    for (const x of xs) if (x > m) m = x;
    return m;
  }

  function search(rng, rowType, rules, steps) {
    const n = rowType.length;
    const types = rules[0].classes.length;
    // a state's key is as long as there are types: bound the memory the dead states take
    const budget = Math.min(steps, Math.floor(WORK / types));
    const count = new Array(types).fill(0);
    for (const t of rowType) count[t] += 1;
    const left = rules.map((r) => new Array(largest(r.classes) + 1).fill(0));
    for (let t = 0; t < types; t++) {
      rules.forEach((r, ri) => { left[ri][r.classes[t]] += count[t]; });
    }
    const reach = largest(rules.map((r) => r.reach));
    const seq = [];

    function take(t, sign) {
      count[t] -= sign;
      rules.forEach((r, ri) => { left[ri][r.classes[t]] -= sign; });
      if (sign > 0) seq.push(t); else seq.pop();
    }

    function key() {
      const recent = reach ? seq.slice(Math.max(0, seq.length - reach)) : [];
      return count.join(",") + "|" + recent.join(",");
    }

    /** How many of the last placed share the last one's class (at most r.run). */
    function streak(r) {
      let k = 0;
      const c = r.classes[seq[seq.length - 1]];
      while (k < Math.min(seq.length, r.run) && r.classes[seq[seq.length - 1 - k]] === c) k += 1;
      return k;
    }

    /** The counting argument for rule ri as a test of the class placed next (sbl/order.py
     * _counting): the placed class, the recent classes and the largest other one. */
    function counting(ri) {
      const r = rules[ri];
      const own = left[ri];
      const rest = n - seq.length - 1;
      const last = new Map();
      for (let p = Math.max(0, seq.length - r.distance + 1); p < seq.length; p++) {
        last.set(r.classes[seq[p]], p);
      }
      const run = r.run ? streak(r) : 0;
      const tops = [];
      own.forEach((m, c) => { if (m) tops.push([m, c]); });
      tops.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
      const prev = seq.length ? r.classes[seq[seq.length - 1]] : -1;
      const room = (m, earliest, streakNow) => m === 0 ||
        ((!r.run || m <= r.run * (rest - m + 1) - streakNow) &&
         (!r.distance || earliest + (m - 1) * r.distance <= rest - 1));
      return (x) => {
        const streakNow = x === prev ? run + 1 : 1;
        if (!room(own[x] - 1, r.distance ? r.distance - 1 : 0, streakNow)) return false;
        const placed = seq.length + 1;
        for (const [c, p] of last) {
          if (c !== x && !room(own[c], Math.max(0, r.distance - (placed - p)), 0)) return false;
        }
        const other = tops.find(([, c]) => c !== x && !last.has(c));
        return room(other ? other[0] : 0, 0, 0);
      };
    }

    function viable() {
      const recent = reach ? seq.slice(Math.max(0, seq.length - reach)).reverse() : [];
      const checks = rules.map((_, ri) => counting(ri));
      const out = [];
      for (let t = 0; t < types; t++) {
        if (count[t] && rules.every((r) => fits(r, r.classes, recent, r.classes[t])) &&
            rules.every((r, ri) => checks[ri](r.classes[t]))) out.push(t);
      }
      return out;
    }

    const dead = new Set();
    const frames = [viable()];
    let taken = 0;
    while (seq.length < n) {
      const untried = frames[frames.length - 1];
      if (untried.length === 0) {
        dead.add(key());
        frames.pop();
        if (frames.length === 0) throw new NoOrder("no order keeps these constraints");
        take(seq[seq.length - 1], -1);
        continue;
      }
      const t = weighted(rng, untried, count);
      untried.splice(untried.indexOf(t), 1);
      take(t, 1);
      taken += 1;
      if (taken > budget) throw new Unsolved(budget);
      if (seq.length < n && dead.has(key())) {
        take(t, -1);
        continue;
      }
      frames.push(viable());
    }
    return seq;
  }

  /** One of `types`, with probability proportional to its rows left. */
  function weighted(rng, types, count) {
    let k = rng.below(types.reduce((s, t) => s + count[t], 0));
    for (const t of types) {
      k -= count[t];
      if (k < 0) return t;
    }
    return types[types.length - 1];
  }

  return { ATTEMPTS, STEPS, NoOrder, Unsolved, rule, canon, classes, keyValues, fits, describe,
    rulesOf, blockOrder, constrainedShuffle, solve };
});
