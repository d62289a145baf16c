/* sbl expressions in the browser (and in node): the twin of sbl/values.py, sbl/prng.py and
 * sbl/evaluate.py, operation for operation. docs/language.md (Semantics) specifies both;
 * tests/test_expr_parity.py checks that they agree bit for bit.
 *
 * It reads IR expressions in the JSON form of sbl.ir.to_data: each node an object with
 * "node" (the class name) and "span" ([path, line, col, end_line, end_col]).
 * No eval, no new Function. Loaded by a <script> tag it defines the global SblExpr; under
 * node it is a CommonJS module.
 */
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    root.SblExpr = api;
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  const MAX_ITEMS = 1000000;
  // Strings stop at MAX_CHARS code points (as Python counts them, not UTF-16 units).
  const MAX_CHARS = 1000000;
  // Expressions nest at most MAX_DEPTH deep (sbl/limits.py; the same number in Python).
  const MAX_DEPTH = 100;
  const OVERFLOW = "number overflow (the result is not finite)";
  const DIVISION_BY_ZERO = "division by zero";
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

  /** An operation failed on its values; evaluate() adds the span of the failing node. */
  class Fault {
    constructor(message) {
      this.message = message;
    }
  }

  function fault(message) {
    throw new Fault(message);
  }

  /** The fault of mean, min or max of an empty list (values.empty_list). */
  function emptyList(fn) {
    return `${fn} needs a non-empty list (guard it: if len(xs) > 0 then ${fn}(xs) else ...)`;
  }

  /** An expression failed: the same message as Python's EvalError, and the node's span. */
  class SblEvalError extends Error {
    constructor(message, span) {
      super(message);
      this.name = "EvalError";
      this.span = span || null;
    }
  }

  // ------------------------------------------------------------ kinds

  function kind(v) {
    if (v === null || v === undefined) return "none";
    switch (typeof v) {
      case "boolean": return "bool";
      case "number": return "number";
      case "string": return "string";
      default: break;
    }
    if (Array.isArray(v)) return "list";
    if (typeof v === "object") return "record";
    return fault("unsupported value of JavaScript type " + typeof v);
  }

  const isNumber = (v) => typeof v === "number";
  const isWhole = (v) => typeof v === "number" && Number.isInteger(v);
  const got = (v) => (isNumber(v) ? show(v) : kind(v));
  const a = (v) => (kind(v) === "none" ? "none" : "a " + kind(v));

  /** Python's num(): non-finite fails; -0 becomes 0 (Python turns it into int 0). */
  function num(x) {
    if (!Number.isFinite(x)) fault(OVERFLOW);
    return x === 0 ? 0 : x;
  }

  function truthy(v) {
    switch (kind(v)) {
      case "number": return v !== 0;
      case "string": return v !== "";
      case "bool": return v;
      case "none": return false;
      case "list": return v.length > 0;
      default: return Object.keys(v).length > 0;
    }
  }

  // ------------------------------------------------------------ string conversion

  const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

  function show(v) {
    return typeof v === "string" ? v : showInner(v);
  }

  function showInner(v) {
    switch (kind(v)) {
      case "string": return JSON.stringify(v);
      case "number": return String(v); // Number::toString, which Python's show_number copies
      case "bool": return v ? "true" : "false";
      case "none": return "none";
      case "list": return "[" + v.map(showInner).join(", ") + "]";
      default:
        return "{" + Object.keys(v).map((k) => showKey(k) + ": " + showInner(v[k])).join(", ") + "}";
    }
  }

  const showKey = (k) => (IDENT.test(k) ? k : JSON.stringify(k));

  // ------------------------------------------------------------ equality and order

  function equal(x, y) {
    const kx = kind(x);
    if (kx !== kind(y)) return false;
    if (kx === "list") return x.length === y.length && x.every((item, i) => equal(item, y[i]));
    if (kx === "record") {
      const keys = Object.keys(x);
      return keys.length === Object.keys(y).length &&
        keys.every((k) => hasOwn(y, k) && equal(x[k], y[k]));
    }
    return x === y;
  }

  // UTF-16 order differs from code point order only where a surrogate meets U+E000..U+FFFF:
  // moving surrogates above that range at the first differing unit gives code point order.
  const fixup = (u) => (u >= 0xd800 ? (u >= 0xe000 ? u - 0x800 : u + 0x2000) : u);

  function compareStrings(x, y) {
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const u = x.charCodeAt(i), w = y.charCodeAt(i);
      if (u !== w) return fixup(u) < fixup(w) ? -1 : 1;
    }
    return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
  }

  function compare(op, x, y) {
    if (isNumber(x) && isNumber(y)) return x < y ? -1 : x > y ? 1 : 0;
    if (typeof x === "string" && typeof y === "string") return compareStrings(x, y);
    return fault(`'${op}' needs two numbers or two strings; got ${kind(x)} and ${kind(y)}`);
  }

  const codePoints = (s) => Array.from(s);

  // ------------------------------------------------------------ arithmetic

  function add(x, y) {
    if (isNumber(x) && isNumber(y)) return num(x + y);
    if (typeof x === "string" && typeof y === "string") {
      if (x.length + y.length > MAX_CHARS) checkLength("'+'", chars(x) + chars(y));
      return x + y;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      checkSize("'+'", x.length + y.length);
      return x.concat(y);
    }
    return fault(`'+' needs two numbers, two strings or two lists; got ${kind(x)} and ${kind(y)}`);
  }

  function arith(op, fn) {
    return (x, y) => {
      if (!(isNumber(x) && isNumber(y))) {
        fault(`'${op}' needs two numbers; got ${kind(x)} and ${kind(y)}`);
      }
      return fn(x, y);
    };
  }

  function divide(x, y) {
    if (y === 0) fault(DIVISION_BY_ZERO);
    return num(x / y);
  }

  /** CPython's float floor division, step by step (JS % is C's fmod). */
  function floordiv(x, y) {
    if (y === 0) fault(DIVISION_BY_ZERO);
    const mod = x % y;
    let div = (x - mod) / y;
    if (mod !== 0 && (y < 0) !== (mod < 0)) div -= 1;
    if (div === 0) return 0;
    let floor = Math.floor(div);
    if (div - floor > 0.5) floor += 1;
    return num(floor);
  }

  function modulo(x, y) {
    if (y === 0) fault(DIVISION_BY_ZERO);
    let mod = x % y;
    if (mod !== 0 && (y < 0) !== (mod < 0)) mod += y;
    return num(mod);
  }

  function powWhole(x, n) {
    let result = 1;
    while (n > 0) {
      if (n % 2 === 1) result *= x;
      n = Math.floor(n / 2);
      if (n > 0) x *= x;
    }
    return result;
  }

  function power(x, y) {
    if (Number.isInteger(y)) {
      if (y >= 0) return num(powWhole(x, y));
      if (x === 0) fault(DIVISION_BY_ZERO);
      const p = powWhole(x, -y);
      if (p === 0) fault(OVERFLOW);
      return num(1 / p);
    }
    if (x < 0) fault("'^' cannot raise a negative number to a fractional power");
    if (x === 0 && y < 0) fault(DIVISION_BY_ZERO);
    if (y === 0.5) return num(Math.sqrt(x)); // correctly rounded everywhere; pow is not
    return num(Math.pow(x, y));
  }

  function roundHalfAway(x, digits) {
    const p = power(10, digits);
    const scaled = Math.abs(x) * p + 0.5;
    if (!Number.isFinite(scaled)) fault(OVERFLOW);
    const sign = x < 0 ? -1 : 1;
    return num(sign * Math.floor(scaled) / p);
  }

  const DECIMAL = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

  function parseNumber(s) {
    const text = s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "");
    if (!DECIMAL.test(text)) {
      fault(`number needs a decimal number like "-3.5e2"; got ${JSON.stringify(s)}`);
    }
    return num(Number(text));
  }

  /** The length of a string in code points, as Python's len counts it. */
  function chars(s) {
    let n = s.length;
    for (let i = 1; i < s.length; i += 1) {
      const c = s.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800) n -= 1;
    }
    return n;
  }

  function checkLength(what, n) {
    if (n > MAX_CHARS) fault(`${what} would make a string longer than ${MAX_CHARS} characters`);
  }

  /** Builds a string piece by piece, refused as soon as it would pass MAX_CHARS code points
   * (Python's values.joined). UTF-16 units are never fewer than code points, so the exact
   * count is only taken once the units pass the limit. */
  class Joiner {
    constructor(what, sep = "") {
      this.what = what;
      this.sep = sep;
      this.pieces = [];
      this.units = 0;
      this.exact = null;
    }

    add(piece) {
      const extra = this.pieces.length ? this.sep : "";
      this.units += piece.length + extra.length;
      if (this.units > MAX_CHARS) {
        this.exact = (this.exact ?? chars(this.pieces.join(this.sep))) + chars(extra + piece);
        checkLength(this.what, this.exact);
      }
      this.pieces.push(piece);
    }

    text() {
      return this.pieces.join(this.sep);
    }
  }

  function joined(what, pieces, sep = "") {
    const out = new Joiner(what, sep);
    for (const piece of pieces) out.add(piece);
    return out.text();
  }

  /** Refuse an expression nested deeper than MAX_DEPTH, before anything recurses on it:
   * walks every node of `root` (any IR JSON) without recursion. */
  function checkDepth(root) {
    const stack = [[root, 0]];
    while (stack.length) {
      const [value, depth] = stack.pop();
      if (value === null || typeof value !== "object") continue;
      const isExpr = !Array.isArray(value) && EXPRS.has(value.node);
      const level = depth + (isExpr ? 1 : 0);
      if (level > MAX_DEPTH) {
        throw new SblEvalError(`expressions nest at most ${MAX_DEPTH} deep; this one is deeper`,
          value.span);
      }
      if (value.node === "TableData") continue; // plain data, no nodes below
      for (const key of Object.keys(value)) if (key !== "span") stack.push([value[key], level]);
    }
  }

  const EXPRS = new Set(["Literal", "Name", "Prev", "Attr", "Index", "Slice", "Unary", "Binary", "Cond",
    "Template", "ListExpr", "RecordExpr", "Range", "Comprehension", "Call", "TableData"]);

  function checkSize(what, n) {
    if (n > MAX_ITEMS) {
      fault(`${what} would make a list of ${String(n)} items (the limit is ${MAX_ITEMS})`);
    }
  }

  // ------------------------------------------------------------ the random stream

  /** mulberry32: a 32-bit state; each draw is a uint32 divided by 2**32. */
  class Prng {
    constructor(seed) {
      this._state = seed >>> 0;
    }

    get state() {
      return this._state;
    }

    set state(value) {
      this._state = value >>> 0;
    }

    nextUint32() {
      // Masked, unlike the usual one-liner, so the state never leaves 32 bits.
      this._state = (this._state + 0x6d2b79f5) >>> 0;
      let t = this._state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    }

    next() {
      return this.nextUint32() / 4294967296;
    }

    below(n) {
      return Math.floor(this.next() * n);
    }
  }

  function shuffle(rng, items) {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = out[i]; out[i] = out[j]; out[j] = t;
    }
    return out;
  }

  function sample(rng, items, k) {
    const out = items.slice();
    const n = out.length;
    for (let i = 0; i < k; i++) {
      const j = i + rng.below(n - i);
      const t = out[i]; out[i] = out[j]; out[j] = t;
    }
    return out.slice(0, k);
  }

  const choice = (rng, items) => items[rng.below(items.length)];
  const randint = (rng, lo, hi) => lo + rng.below(hi - lo + 1);

  // ------------------------------------------------------------ scopes

  const lookupIn = (names, name) => (names instanceof Map ?
    (names.has(name) ? { value: names.get(name) } : null) :
    (hasOwn(names, name) ? { value: names[name] } : null));

  /** The names an expression sees, the data of earlier trials, and the random stream. */
  class Scope {
    constructor(names, prev, rng) {
      this.names = names || Object.create(null);
      this.prev = prev || (() => null);
      this.rng = rng || null;
      this.parent = null;
    }

    lookup(name) {
      for (let s = this; s; s = s.parent) {
        const found = lookupIn(s.names, name);
        if (found) return found.value;
      }
      return fault(`unknown name '${name}'`);
    }

    child(names) {
      const inner = new Scope(names, this.prev, this.rng);
      inner.parent = this;
      return inner;
    }
  }

  // ------------------------------------------------------------ nodes

  function evaluate(node, scope) {
    const handler = hasOwn(HANDLERS, node.node) ? HANDLERS[node.node] : null;
    try {
      if (!handler) fault(`cannot evaluate a ${node.node} node`);
      return handler(node, scope);
    } catch (e) {
      if (e instanceof Fault) throw new SblEvalError(e.message, node.span);
      throw e;
    }
  }

  function literal(node) {
    const v = node.value;
    if (v === null || v === undefined) return null;
    return typeof v === "number" ? num(v) : v;
  }

  // Recorded rows (items of `trials`, `prev`): a missing field reads as none, as the empty
  // cells of the data file do (Python: sbl.values.Row). Marked, not copied: rows stay plain
  // objects for jsPsych and storage.
  const ROWS = new WeakSet();

  /** Mark `obj` as a recorded row; returns it. */
  function row(obj) {
    ROWS.add(obj);
    return obj;
  }

  function field(obj, name) {
    if (kind(obj) !== "record") fault(`cannot get field '${name}' of ${a(obj)}`);
    if (!hasOwn(obj, name)) {
      if (ROWS.has(obj)) return null;
      const fields = Object.keys(obj).join(", ");
      const listing = fields ? `fields: ${fields}` : "it has no fields";
      fault(`record has no field '${name}' (${listing})`);
    }
    return obj[name];
  }

  function index(obj, i) {
    const k = kind(obj);
    if (k === "record") {
      if (typeof i !== "string") fault(`a record index must be a string; got ${kind(i)}`);
      return field(obj, i);
    }
    if (k !== "list" && k !== "string") fault(`cannot index ${a(obj)}`);
    if (!isWhole(i)) fault(`a ${k} index must be a whole number; got ${got(i)}`);
    const items = k === "string" ? codePoints(obj) : obj;
    const n = items.length;
    const j = i < 0 ? i + n : i;
    if (!(0 <= j && j < n)) fault(`index ${show(i)} is out of range for a ${k} of length ${n}`);
    return items[j];
  }

  /** obj[start:stop] with Python's rules: negative bounds count from the end, bounds past
   *  either end are clamped, null is the end; strings by code points, as len and index. */
  function sliced(obj, start, stop) {
    const k = kind(obj);
    if (k !== "list" && k !== "string") fault(`cannot slice ${a(obj)}`);
    for (const b of [start, stop]) {
      if (b !== null && !isWhole(b)) fault(`a slice bound must be a whole number; got ${got(b)}`);
    }
    const items = k === "string" ? codePoints(obj) : obj;
    const part = items.slice(start ?? 0, stop ?? items.length); // Array.slice clamps as Python
    return k === "string" ? part.join("") : part;
  }

  function unary(node, scope) {
    const v = evaluate(node.operand, scope);
    if (node.op === "not") return !truthy(v);
    if (!isNumber(v)) fault(`'-' needs a number; got ${kind(v)}`);
    return num(-v);
  }

  function member(who, x, container) {
    const k = kind(container);
    if (k === "list") return container.some((item) => equal(x, item));
    if (k === "string" || k === "record") {
      if (typeof x !== "string") fault(`${who} needs a string to look for in a ${k}; got ${kind(x)}`);
      return k === "string" ? container.includes(x) : hasOwn(container, x);
    }
    return fault(`${who} needs a list, string or record to look in; got ${k}`);
  }

  const BINARY = Object.assign(Object.create(null), {
    "+": add,
    "-": arith("-", (x, y) => num(x - y)),
    "*": arith("*", (x, y) => num(x * y)),
    "/": arith("/", divide),
    "//": arith("//", floordiv),
    "%": arith("%", modulo),
    "^": arith("^", power),
    "==": equal,
    "!=": (x, y) => !equal(x, y),
    "<": (x, y) => compare("<", x, y) < 0,
    "<=": (x, y) => compare("<=", x, y) <= 0,
    ">": (x, y) => compare(">", x, y) > 0,
    ">=": (x, y) => compare(">=", x, y) >= 0,
    "in": (x, y) => member("'in'", x, y),
  });

  function binary(node, scope) {
    const left = evaluate(node.left, scope);
    if (node.op === "and") return truthy(left) && truthy(evaluate(node.right, scope));
    if (node.op === "or") return truthy(left) || truthy(evaluate(node.right, scope));
    if (!hasOwn(BINARY, node.op)) fault(`unknown operator '${node.op}'`);
    return BINARY[node.op](left, evaluate(node.right, scope));
  }

  function record(node, scope) {
    const out = Object.create(null);
    for (const f of node.fields) out[f.name] = evaluate(f.value, scope);
    return out;
  }

  /** A table's plain rows (column-major cells, as sbl/ir.py's TableData) as records. */
  function tableData(node) {
    const columns = node.columns, cells = node.cells;
    const n = columns.length ? cells[0].length : 0;
    const out = new Array(n);
    for (let r = 0; r < n; r++) {
      const row = Object.create(null);
      for (let c = 0; c < columns.length; c++) row[columns[c]] = cells[c][r];
      out[r] = row;
    }
    return out;
  }

  function range(node, scope) {
    const start = evaluate(node.start, scope);
    const stop = evaluate(node.stop, scope);
    for (const bound of [start, stop]) {
      if (!isWhole(bound)) fault(`'..' needs whole numbers; got ${got(bound)}`);
    }
    return wholeRange("'..'", start, stop + 1);
  }

  function wholeRange(who, start, stop) {
    const n = stop - start;
    checkSize(who, n);
    const out = [];
    for (let i = 0; i < n; i++) out.push(num(start + i));
    return out;
  }

  function comprehension(node, scope) {
    let items = evaluate(node.iterable, scope);
    if (typeof items === "string") items = codePoints(items); // as len and indexing count
    if (!Array.isArray(items)) {
      fault(`'for' needs a list or a string to loop over; got ${kind(items)}`);
    }
    const out = [];
    for (const item of items) {
      const names = Object.create(null);
      names[node.var] = item;
      const inner = scope.child(names);
      if (node.condition == null || truthy(evaluate(node.condition, inner))) {
        out.push(evaluate(node.body, inner));
      }
    }
    return out;
  }

  function call(node, scope) {
    const b = hasOwn(BUILTINS, node.func) ? BUILTINS[node.func] : null;
    if (!b) fault(`unknown function '${node.func}'`);
    const kwargs = node.kwargs || [];
    checkArity(node.func, b, (node.args || []).length, kwargs.length);
    const args = (node.args || []).map((arg) => evaluate(arg, scope));
    if (b.named) return b.fn(named(node.func, kwargs, scope));
    if (b.random) {
      if (!scope.rng) fault(`${node.func} needs a random generator, but none was given`);
      return b.fn(scope.rng, ...args);
    }
    return b.fn(...args);
  }

  /** Named arguments as [name, value] pairs: an object would reorder names like "1". */
  function named(func, fields, scope) {
    const pairs = [];
    for (const f of fields) {
      if (pairs.some(([name]) => name === f.name)) fault(`${func} got '${f.name}' twice`);
      pairs.push([f.name, evaluate(f.value, scope)]);
    }
    return pairs;
  }

  const HANDLERS = Object.assign(Object.create(null), {
    Literal: literal,
    Name: (node, scope) => scope.lookup(node.name),
    Prev: (node, scope) => scope.prev(node.back) ?? null,
    Attr: (node, scope) => field(evaluate(node.obj, scope), node.name),
    Index: (node, scope) => {
      const obj = evaluate(node.obj, scope);
      return index(obj, evaluate(node.index, scope));
    },
    Slice: (node, scope) => {
      const obj = evaluate(node.obj, scope);
      const bound = (e) => (e === null ? null : evaluate(e, scope));
      return sliced(obj, bound(node.start), bound(node.stop));
    },
    Unary: unary,
    Binary: binary,
    Cond: (node, scope) =>
      evaluate(truthy(evaluate(node.test, scope)) ? node.then : node.otherwise, scope),
    Template: (node, scope) => {
      const out = new Joiner("a string with holes");
      for (const part of node.parts) {  // checked piece by piece, in Python's order
        out.add(typeof part === "string" ? part : show(evaluate(part, scope)));
      }
      return out.text();
    },
    ListExpr: (node, scope) => node.items.map((item) => evaluate(item, scope)),
    RecordExpr: record,
    TableData: tableData,
    Range: range,
    Comprehension: comprehension,
    Call: call,
  });

  // ------------------------------------------------------------ builtins

  function arityText(b) {
    const lo = b.minArgs, hi = b.maxArgs;
    const plural = lo !== 1 ? "s" : "";
    if (hi === null) return `at least ${lo} argument${plural}`;
    if (lo === hi) return lo === 0 ? "no arguments" : `${lo} argument${plural}`;
    return `${lo} to ${hi} arguments`;
  }

  function checkArity(name, b, n, nNamed) {
    if (b.named) {
      if (n) fault(`${name} takes only named arguments, like ${name}(a: [1, 2])`);
      return;
    }
    if (nNamed) fault(`${name} takes no named arguments`);
    if (n < b.minArgs || (b.maxArgs !== null && n > b.maxArgs)) {
      fault(`${name} takes ${arityText(b)}; got ${n}`);
    }
  }

  function list(fn, v) {
    if (!Array.isArray(v)) fault(`${fn} needs a list; got ${kind(v)}`);
    return v;
  }

  function number(fn, v) {
    if (!isNumber(v)) fault(`${fn} needs a number; got ${kind(v)}`);
    return v;
  }

  function whole(fn, v, what = "whole numbers") {
    if (!isWhole(v)) fault(`${fn} needs ${what}; got ${got(v)}`);
    return v;
  }

  function string(fn, v, what = "a string") {
    if (typeof v !== "string") fault(`${fn} needs ${what}; got ${kind(v)}`);
    return v;
  }

  function numbersOf(fn, xs) {
    const items = list(fn, xs);
    items.forEach((x, i) => {
      if (!isNumber(x)) fault(`${fn} needs a list of numbers; item ${i} is ${a(x)}`);
    });
    return items;
  }

  function comparable(fn, items) {
    const kinds = [...new Set(items.map(kind))];
    if (kinds.length > 1 || (kinds.length === 1 && kinds[0] !== "number" && kinds[0] !== "string")) {
      const listing = kinds.length > 1 ?
        kinds.slice(0, -1).join(", ") + " and " + kinds[kinds.length - 1] : kinds[0];
      fault(`${fn} needs all numbers or all strings; got ${listing}`);
    }
  }

  function total(items) {
    let sum = 0;
    for (const x of items) sum += x;
    return sum;
  }

  function extreme(fn, want, args) {
    let items = args;
    if (args.length === 1) {
      if (!Array.isArray(args[0])) {
        fault(`${fn} needs a list or at least 2 arguments; got ${kind(args[0])}`);
      }
      items = args[0];
      if (items.length === 0) fault(emptyList(fn));
    }
    comparable(fn, items);
    let best = items[0];
    for (const x of items.slice(1)) if (compare(fn, x, best) === want) best = x;
    return best;
  }

  function cross(pairs) {
    if (pairs.length === 0) fault("cross needs at least one named list, like cross(a: [1, 2])");
    let size = 1;
    for (const [name, v] of pairs) {
      if (!Array.isArray(v)) fault(`cross needs a list for '${name}'; got ${kind(v)}`);
      size *= v.length;
    }
    checkSize("cross", size);
    let combos = [[]];
    for (const [, v] of pairs) {
      const next = [];
      for (const combo of combos) for (const item of v) next.push(combo.concat([item]));
      combos = next;
    }
    return combos.map((combo) => {
      const row = Object.create(null);
      pairs.forEach(([name], i) => { row[name] = combo[i]; });
      return row;
    });
  }

  // ---------------------------------------------------------- groups (sbl/groups.py)

  /** The orders of a balanced Latin square (Williams): n orders for n items, 2n when n is
   * odd (the square and its rows reversed). */
  function latin(items) {
    const n = items.length;
    if (n === 0) return [];
    const first = [0];
    for (let j = 1; j < n; j++) first.push(j % 2 ? (j + 1) / 2 : n - j / 2);
    const rows = [];
    for (let r = 0; r < n; r++) rows.push(first.map((c) => items[(c + r) % n]));
    if (n % 2) for (let r = 0; r < n; r++) rows.push(rows[r].slice().reverse());
    return rows;
  }

  /** The 32-bit FNV-1a hash of the UTF-8 bytes of `text`. */
  function fnv1a32(text) {
    let h = 0x811c9dc5;
    for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    return h;
  }

  /** The group (1 to `count`) of the participant whose key is `key`: a number k (decimal
   * digits only) gets (k - 1) mod count + 1, so consecutive numbers balance; any other key
   * its hash mod count + 1. */
  function groupNumber(key, count) {
    if (count < 1) throw new Error("there are no groups to assign");
    if (/^[0-9]+$/.test(key)) {
      const k = BigInt(key) - 1n;
      const n = BigInt(count);
      return Number(((k % n) + n) % n) + 1;
    }
    return (fnv1a32(key) % count) + 1;
  }

  // ---------------------------------------------------------- math (sbl/mathfns.py)
  // Math.sin and friends differ from Python's math in the last bit, so both runtimes run
  // musl's algorithms (from fdlibm) with + - * / only, step for step as sbl/mathfns.py does.

  const MAX_ANGLE = 1000000;
  const BITS = new DataView(new ArrayBuffer(8));

  /** 2^k exactly, for whole k from -1022 to 1023 (math.ldexp(1.0, k)). */
  function pow2(k) {
    BITS.setUint32(0, (k + 1023) << 20);
    BITS.setUint32(4, 0);
    return BITS.getFloat64(0);
  }

  /** [m, k] with x = m * 2^k and 0.5 <= m < 1, for finite x > 0 (math.frexp). */
  function frexp(x) {
    let shift = 0;
    if (x < pow2(-1022)) { x *= pow2(54); shift = 54; } // a subnormal: exactly normal first
    BITS.setFloat64(0, x);
    const hi = BITS.getUint32(0);
    BITS.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
    return [BITS.getFloat64(0), ((hi >>> 20) & 0x7ff) - 1022 - shift];
  }

  const TOINT = 1.5 / 2.220446049250313e-16;
  const INVPIO2 = 6.36619772367581382433e-01;
  const PIO2 = [[1.57079632673412561417e+00, 6.07710050650619224932e-11],
    [6.07710050630396597660e-11, 2.02226624879595063154e-21],
    [2.02226624871116645580e-21, 8.47842766036889956997e-32]];
  const S = [-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
    2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10];
  const C = [4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
    -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11];

  function sinKernel(x, y) {
    const z = x * x, w = z * z;
    const r = S[1] + z * (S[2] + z * S[3]) + z * w * (S[4] + z * S[5]);
    const v = z * x;
    return x - ((z * (0.5 * y - v * r) - y) - v * S[0]);
  }

  function cosKernel(x, y) {
    const z = x * x;
    let w = z * z;
    const r = z * (C[0] + z * (C[1] + z * C[2])) + w * w * (C[3] + z * (C[4] + z * C[5]));
    const hz = 0.5 * z;
    w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + (z * r - x * y));
  }

  function reduce(x) {
    const fn = x * INVPIO2 + TOINT - TOINT;
    let r = x - fn * PIO2[0][0];
    let w = 0;
    for (const [head, tail] of PIO2.slice(1)) {
      const t = r;
      w = fn * head;
      r = t - w;
      w = fn * tail - ((t - r) - w);
    }
    const y0 = r - w;
    return [((fn % 4) + 4) % 4, y0, (r - y0) - w];
  }

  function sin(x) {
    const [n, y0, y1] = reduce(x);
    const value = n % 2 === 0 ? sinKernel(y0, y1) : cosKernel(y0, y1);
    return n >= 2 ? -value : value;
  }

  function cos(x) {
    const [n, y0, y1] = reduce(x);
    const value = n % 2 === 0 ? cosKernel(y0, y1) : sinKernel(y0, y1);
    return n === 1 || n === 2 ? -value : value;
  }

  const LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
  const INVLN2 = 1.44269504088896338700e+00;
  const P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,
    -1.65339022054652515390e-06, 4.13813679705723846039e-08];

  function scale(y, k) {
    if (k > 1023) return y * pow2(1023) * pow2(k - 1023);
    if (k < -1000) return y * pow2(k + 1000) * pow2(-1000);
    return y * pow2(k);
  }

  function exp(x) {
    if (x > 709.8) return Infinity;
    if (x < -745.2) return 0;
    let k = 0, hi = x, lo = 0;
    if (Math.abs(x) > 0.5 * 0.6931471805599453) {
      k = Math.trunc(INVLN2 * x + (x >= 0 ? 0.5 : -0.5));
      hi = x - k * LN2_HI;
      lo = k * LN2_LO;
      x = hi - lo;
    }
    const xx = x * x;
    const c = x - xx * (P[0] + xx * (P[1] + xx * (P[2] + xx * (P[3] + xx * P[4]))));
    return scale(1.0 + (x * c / (2.0 - c) - lo + hi), k);
  }

  const LG = [6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
    2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
    1.479819860511658591e-01];

  function log(x) {
    let [m, k] = frexp(x);
    if (m < 0.7071067811865476) { m *= 2.0; k -= 1; }
    const f = m - 1.0;
    const hfsq = 0.5 * f * f;
    const s = f / (2.0 + f);
    const z = s * s, w = z * z;
    const t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    const t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    return s * (hfsq + t2 + t1) + k * LN2_LO - hfsq + f + k * LN2_HI;
  }

  const ATANHI = [4.63647609000806093515e-01, 7.85398163397448278999e-01,
    9.82793723247329054082e-01, 1.57079632679489655800e+00];
  const ATANLO = [2.26987774529616870924e-17, 3.06161699786838301793e-17,
    1.39033110312309984516e-17, 6.12323399573676603587e-17];
  const AT = [3.33333333333329318027e-01, -1.99999999998764832476e-01, 1.42857142725034663711e-01,
    -1.11111104054623557880e-01, 9.09088713343650656196e-02, -7.69187620504482999495e-02,
    6.66107313738753120669e-02, -5.83357013379057348645e-02, 4.97687799461593236017e-02,
    -3.65315727442169155270e-02, 1.62858201153657823623e-02];

  function atanReduce(x) {
    if (x < 0.6875) return [0, (2.0 * x - 1.0) / (2.0 + x)];
    if (x < 1.1875) return [1, (x - 1.0) / (x + 1.0)];
    if (x < 2.4375) return [2, (x - 1.5) / (1.0 + 1.5 * x)];
    return [3, -1.0 / x];
  }

  /** atan(x) for x >= 0. */
  function atan(x0) {
    if (x0 >= pow2(66)) return ATANHI[3];
    const [i, x] = x0 < 0.4375 ? [-1, x0] : atanReduce(x0);
    const z = x * x, w = z * z;
    const s1 = z * (AT[0] + w * (AT[2] + w * (AT[4] + w * (AT[6] + w * (AT[8] + w * AT[10])))));
    const s2 = w * (AT[1] + w * (AT[3] + w * (AT[5] + w * (AT[7] + w * AT[9]))));
    if (i < 0) return x - x * (s1 + s2);
    return ATANHI[i] - (x * (s1 + s2) - ATANLO[i] - x);
  }

  const PI = 3.14159265358979311600e+00, PI_LO = 1.2246467991473531772e-16;

  function atan2(y, x) {
    if (y === 0) return x < 0 ? PI : 0;
    if (x === 0) return y < 0 ? -ATANHI[3] : ATANHI[3];
    const z = x < 0 && Math.abs(y / x) < pow2(-64) ? 0 : atan(Math.abs(y / x));
    if (x > 0) return y > 0 ? z : -z;
    return y > 0 ? PI - (z - PI_LO) : (z - PI_LO) - PI;
  }

  /** An angle for sin, cos and tan: a number from -MAX_ANGLE to MAX_ANGLE. */
  function angle(fn, x) {
    const v = number(fn, x);
    if (!(Math.abs(v) <= MAX_ANGLE)) {
      fault(`${fn} needs an angle from -${MAX_ANGLE} to ${MAX_ANGLE} (radians); got ${show(v)}`);
    }
    return v;
  }

  const B = (minArgs, maxArgs, fn, flags = {}) =>
    ({ minArgs, maxArgs, fn, random: !!flags.random, named: !!flags.named });

  const BUILTINS = Object.assign(Object.create(null), {
    len: B(1, 1, (v) => {
      const k = kind(v);
      if (k === "list") return v.length;
      if (k === "string") return chars(v);
      if (k === "record") return Object.keys(v).length;
      return fault(`len needs a list, string or record; got ${k}`);
    }),
    sum: B(1, 1, (xs) => num(total(numbersOf("sum", xs)))),
    mean: B(1, 1, (xs) => {
      const items = numbersOf("mean", xs);
      if (items.length === 0) fault(emptyList("mean"));
      return num(total(items) / items.length);
    }),
    min: B(1, null, (...args) => extreme("min", -1, args)),
    max: B(1, null, (...args) => extreme("max", 1, args)),
    round: B(1, 2, (x, digits = 0) => {
      const value = number("round", x);
      const d = whole("round", digits, "a whole number of digits");
      if (!(-308 <= d && d <= 308)) fault(`round needs digits from -308 to 308; got ${show(digits)}`);
      return roundHalfAway(value, d);
    }),
    abs: B(1, 1, (x) => num(Math.abs(number("abs", x)))),
    floor: B(1, 1, (x) => num(Math.floor(number("floor", x)))),
    ceil: B(1, 1, (x) => num(Math.ceil(number("ceil", x)))),
    range: B(1, 2, (x, y) => (y === undefined ?
      wholeRange("range", 0, whole("range", x)) :
      wholeRange("range", whole("range", x), whole("range", y)))),
    shuffle: B(1, 1, (rng, xs) => shuffle(rng, list("shuffle", xs)), { random: true }),
    sample: B(2, 2, (rng, xs, k) => {
      const items = list("sample", xs);
      const n = whole("sample", k, "a whole number of items");
      if (!(0 <= n && n <= items.length)) {
        fault(`sample cannot take ${show(k)} items from a list of ${items.length}`);
      }
      return sample(rng, items, n);
    }, { random: true }),
    choice: B(1, 1, (rng, xs) => {
      const items = list("choice", xs);
      if (items.length === 0) fault("choice needs a non-empty list");
      return choice(rng, items);
    }, { random: true }),
    randint: B(2, 2, (rng, x, y) => {
      const lo = whole("randint", x), hi = whole("randint", y);
      if (lo > hi) fault(`randint needs a <= b; got ${show(x)} and ${show(y)}`);
      return num(randint(rng, lo, hi));
    }, { random: true }),
    random: B(0, 0, (rng) => num(rng.next()), { random: true }),
    upper: B(1, 1, (s) => string("upper", s).toUpperCase()),
    lower: B(1, 1, (s) => string("lower", s).toLowerCase()),
    str: B(1, 1, show),
    markup: B(1, 1, (s) => string("markup", s)),
    image: B(2, 2, (path, text) =>
      string("image", path, "a path") && string("image", text, "a description")),
    number: B(1, 1, (v) => {
      if (isNumber(v)) return v;
      if (typeof v === "string") return parseNumber(v);
      return fault(`number needs a string or a number; got ${kind(v)}`);
    }),
    join: B(1, 2, (xs, sep = "") => {
      const items = list("join", xs);
      const between = string("join", sep, "a string as separator");
      return joined("join", items.map(show), between);
    }),
    split: B(2, 2, (s, sep) => {
      const text = string("split", s);
      // "": the characters (code points), as len and indexing count them
      if (string("split", sep, "a string as separator") === "") return codePoints(text);
      return text.split(sep);
    }),
    fixed: B(2, 2, (x, digits) => {
      const value = number("fixed", x);
      const d = whole("fixed", digits, "a whole number of digits");
      if (!(0 <= d && d <= 20)) fault(`fixed needs digits from 0 to 20; got ${show(digits)}`);
      // toFixed never writes "-0.00", and writes 1e21 and above as String does: Python copies
      return roundHalfAway(value, d).toFixed(d);
    }),
    pad: B(2, 3, (x, width, fill = " ") => {
      const text = show(x);
      const n = whole("pad", width, "a whole number as width");
      if (typeof fill !== "string" || chars(fill) !== 1) {
        fault(`pad needs one character as fill; got ${got(fill)}`);
      }
      if (n > MAX_CHARS) checkLength("pad", n);
      return fill.repeat(Math.max(0, n - chars(text))) + text;
    }),
    trim: B(1, 1, (s) => string("trim", s).replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "")),
    replace: B(3, 3, (s, old, by) => {
      const text = string("replace", s);
      if (string("replace", old, "a string to replace") === "") {
        fault("replace needs a non-empty string to replace");
      }
      return joined("replace", text.split(old), string("replace", by, "a string as replacement"));
    }),
    startswith: B(2, 2, (s, p) =>
      string("startswith", s).startsWith(string("startswith", p, "a string to look for"))),
    endswith: B(2, 2, (s, p) =>
      string("endswith", s).endsWith(string("endswith", p, "a string to look for"))),
    contains: B(2, 2, (c, x) => member("contains", x, c)),
    reverse: B(1, 1, (v) => {
      if (Array.isArray(v)) return v.slice().reverse();
      if (typeof v === "string") return codePoints(v).reverse().join("");
      return fault(`reverse needs a list or a string; got ${kind(v)}`);
    }),
    sorted: B(1, 1, (xs) => {
      const items = list("sorted", xs);
      comparable("sorted", items);
      return items.slice().sort((x, y) => compare("sorted", x, y)); // stable, like Python
    }),
    count: B(2, 2, (xs, x) => list("count", xs).filter((item) => equal(x, item)).length),
    index: B(2, 2, (xs, x) => {
      const at = list("index", xs).findIndex((item) => equal(x, item));
      return at < 0 ? null : at;
    }),
    set: B(3, 3, (xs, i, v) => {
      const items = list("set", xs);
      const k = whole("set", i, "a whole number as index");
      const n = items.length;
      const j = k < 0 ? k + n : k; // negative from the end, as xs[i]
      if (!(0 <= j && j < n)) fault(`set cannot replace item ${show(i)} of a list of ${n}`);
      const out = items.slice();
      out[j] = v;
      return out;
    }),
    any: B(1, 1, (xs) => list("any", xs).some(truthy)),
    all: B(1, 1, (xs) => list("all", xs).every(truthy)),
    cross: B(0, 0, cross, { named: true }),
    latin: B(1, 1, (xs) => {
      const items = list("latin", xs);
      const n = items.length;
      checkSize("latin", n * n * (n % 2 ? 2 : 1));
      return latin(items);
    }),
    sqrt: B(1, 1, (x) => {
      const v = number("sqrt", x);
      if (v < 0) fault(`sqrt needs a number >= 0; got ${show(v)}`);
      return num(Math.sqrt(v)); // correctly rounded in every engine, as in Python
    }),
    exp: B(1, 1, (x) => num(exp(number("exp", x)))),
    log: B(1, 1, (x) => {
      const v = number("log", x);
      if (v <= 0) fault(`log needs a number > 0; got ${show(v)}`);
      return num(log(v));
    }),
    sin: B(1, 1, (x) => num(sin(angle("sin", x)))),
    cos: B(1, 1, (x) => num(cos(angle("cos", x)))),
    tan: B(1, 1, (x) => {
      const v = angle("tan", x);
      return divide(sin(v), cos(v));
    }),
    atan2: B(2, 2, (y, x) => num(atan2(number("atan2", y), number("atan2", x)))),
    hypot: B(2, 2, (x, y) => {
      const u = number("hypot", x), v = number("hypot", y);
      return num(Math.sqrt(u * u + v * v));
    }),
    pi: B(0, 0, () => PI),
    repeat: B(2, 2, (xs, n) => {
      const items = list("repeat", xs);
      const times = whole("repeat", n, "a whole number of times");
      if (times < 0) fault(`repeat needs a number of times >= 0; got ${show(n)}`);
      checkSize("repeat", items.length * times);
      const out = [];
      if (items.length === 0) return out; // times may be huge when there is nothing to repeat
      for (let i = 0; i < times; i++) out.push(...items);
      return out;
    }),
  });

  return {
    evaluate,
    checkDepth,
    MAX_DEPTH,
    Scope,
    Prng,
    EvalError: SblEvalError,
    BUILTINS,
    show,
    kind,
    equal,
    truthy,
    compare: (x, y) => compare("<", x, y),
    shuffle,
    sample,
    choice,
    randint,
    fnv1a32,
    groupNumber,
    row,
  };
});
