"""The check pass: every name, kind, parameter, type, side effect and ``prev`` in the
experiment, with all problems collected, sorted and raised together as one SblError."""

from __future__ import annotations

import dataclasses

from sbl import groups, ir, kinds
from sbl import types as t
from sbl.evaluate import BUILTINS
from sbl.kinds import Kind, ParamDecl
from sbl.passes import after as after_check
from sbl.passes import known, literals, orders, ranges, tables
from sbl.passes import rows as rows_check
from sbl.passes.infer import Inferrer, Scope
from sbl.passes.rows import head_span, name_span
from sbl.source import Diagnostic, SblError, did_you_mean
from sbl.types import SblType

# The type of `trials`: recorded rows, whose fields vary by kind.
TRIALS = t.ListType(t.ROW)
_STYLE = next(p.type for p in kinds.PAGE_PARAMS if p.name == "style")
# The names a block's header sees besides the block's own: the pass number (1, 2, ... over
# the whole run), the rows of the pass, and the participant's option labels.
HEADER_NAMES: dict[str, SblType] = {"pass": t.INT,
                                    "rows": t.ListType(t.RecordType((), open=True)),
                                    "labels": t.ListType(t.STR)}


def check(experiment: ir.Experiment) -> ir.Experiment:
    """Return ``experiment`` unchanged if it is valid; raise SblError listing every problem."""
    checker = _Checker()
    checker.experiment(experiment)
    if checker.diagnostics:
        # a block's data field is checked once per trial below it: report each problem once
        unique = {(d.message, str(d.span), d.help): d for d in checker.diagnostics}
        raise SblError(list(unique.values()))
    return dataclasses.replace(experiment, body=_with_columns(experiment.body, checker.columns))


class _Checker:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.infer = Inferrer(self.diagnostics.append)
        self.globals: dict[str, SblType] = {}
        self.shared: dict[str, SblType] = {}
        self.prev_fields: frozenset[str] = frozenset()
        self.lengths: dict[str, int] = {}
        # the open blocks, outermost first, and each checked block's condition columns
        self.open: list[ir.Block] = []
        self.columns: dict[int, tuple[str, ...]] = {}
        self.own: dict[int, tuple[str, ...]] = {}  # each block's columns, all of them
        self.decls: tuple[ir.Shared | ir.Let | ir.Table | ir.Group, ...] = ()
        self.gap: ir.Expr | None = None  # the experiment's gap, which trials may inherit
        # the columns every row records: the core ones, and `group` with groups declared
        self.core: tuple[str, ...] = kinds.CORE_FIELDS

    def error(self, span: ir.Span | None, message: str, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, span, help=help))

    def experiment(self, experiment: ir.Experiment) -> None:
        self.gap = experiment.setting("gap")
        self.params(experiment.settings, kinds.settings(), "the experiment",
                    Scope({}, where="in the experiment's settings"))
        declared: dict[str, ir.Node] = {}
        self.decls = experiment.decls
        if experiment.group is not None:
            self.core += (groups.COLUMN,)
        for decl in experiment.decls:
            self.declaration(decl, declared)
        self._jatos_loaded(experiment)
        if groups.COLUMN in self.shared and experiment.group is not None:
            self.error(declared[groups.COLUMN].span, f"shared '{groups.COLUMN}' has the name of "
                       f"the column every row records the participant's group in",
                       help="rename the shared variable")
        self.prev_fields = self._recorded_fields(experiment)
        self.items(experiment.body, {}, 0, "")

    # -- declarations
    def declaration(self, decl: ir.Shared | ir.Let | ir.Table | ir.Group,
                    declared: dict[str, ir.Node]) -> None:
        first = declared.get(decl.name)
        if first is not None:
            line = first.span.line if first.span else "?"
            self.error(decl.span, f"'{decl.name}' is already declared (line {line})")
        declared[decl.name] = decl
        scope = Scope(dict(self.globals), where=f"in the declaration of '{decl.name}'")
        if isinstance(decl, ir.Shared):
            found = self.infer.infer(decl.init, scope)
            self.shared[decl.name] = self.globals[decl.name] = found
        elif isinstance(decl, ir.Let):
            self.globals[decl.name] = self.infer.infer(decl.value, scope)
        elif isinstance(decl, ir.Group):
            self.globals[decl.name] = self.group(decl, scope, declared)
        else:
            self.globals[decl.name] = self.table(decl, scope)

    def table(self, table: ir.Table, scope: Scope) -> SblType:
        found = t.strip_optional(self.infer.infer(table.rows, scope))
        self.lengths[table.name] = self._static_length(table.rows)
        item = t.strip_optional(found.item) if isinstance(found, t.ListType) else found
        if table.source is None and item != t.ANY and not isinstance(item, t.RecordType):
            self.error(table.rows.span, f"table '{table.name}' must be a list of records "
                       f"(one per row), not {t.a(found)}",
                       help="e.g. table t = [{word: \"RED\", color: \"red\"}]")
        else:
            self.diagnostics.extend(tables.one_type_a_column(table, scope))
        return found

    def group(self, group: ir.Group, scope: Scope, declared: dict[str, ir.Node]) -> SblType:
        """The type of the participant's group: an item of the list of groups."""
        first = next((d for d in declared.values() if isinstance(d, ir.Group) and d is not group),
                     None)
        if first is not None:
            line = first.span.line if first.span else "?"
            self.error(group.span, f"an experiment has one 'group' declaration; the first is "
                                   f"on line {line}",
                       help="cross the factors into one list: group g in cross(a: [...], "
                            "b: [...])")
        found = t.strip_optional(self.infer.infer(group.groups, scope))
        for node in ir.walk(group.groups):
            if isinstance(node, ir.Call) and node.func in BUILTINS and BUILTINS[node.func].random:
                self.error(node.span, f"the list of groups cannot use '{node.func}': a group's "
                                      f"number must name the same group for every participant",
                           help="write the groups in a fixed order; each participant's group "
                                "is assigned by the source ('by ...')")
        item = t.strip_optional(found.item) if isinstance(found, t.ListType) else found
        if item != t.ANY and not isinstance(item, t.RecordType):
            self.error(group.groups.span, f"the groups of '{group.name}' must be a list of "
                                          f"records (one per group), not {t.a(found)}",
                       help="e.g. group g in [{keys: \"fj\"}, {keys: \"jf\"}], or "
                            "cross(keys: [\"fj\", \"jf\"])")
        else:
            self._group_fields(group, orders.static_rows(group.groups, self.decls, {}))
        return item

    def _group_fields(self, group: ir.Group, groups: object) -> None:
        """Groups known before the run: at least one, and all with the same fields, so that
        a field read for one participant exists for every other."""
        if groups == []:  # e.g. latin([])
            self.error(group.groups.span, f"'{group.name}' has no groups to assign")
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            return
        fields = [set(g) for g in groups]
        for number, own in enumerate(fields[1:], start=2):
            if own != fields[0]:
                missing, extra = sorted(fields[0] - own), sorted(own - fields[0])
                differ = ", ".join([*(f"lacks '{f}'" for f in missing),
                                    *(f"adds '{f}'" for f in extra)])
                self.error(group.groups.span, f"group {number} of '{group.name}' {differ} "
                                              f"(compared with group 1): every group needs "
                                              f"the same fields",
                           help="give each group every field, with none where it has no value")
                return

    def _jatos_loaded(self, experiment: ir.Experiment) -> None:
        """Groups counted in JATOS's batch session need the page to load JATOS's library."""
        group = experiment.group
        if group is None or group.source is not ir.GroupSource.JATOS:
            return
        value = experiment.setting("jatos")
        if not (isinstance(value, ir.Literal) and value.value is True):
            self.error(group.span, "'by jatos' needs the setting 'jatos: true', which makes "
                                   "the page load jatos.js",
                       help="add 'jatos: true' to the experiment's settings")

    # -- blocks
    def items(self, items: tuple[ir.Item, ...], columns: dict[str, SblType], before: int,
              block: str) -> int:
        """Check a sequence of items; return how many trials surely ran by its end."""
        for item in items:
            if isinstance(item, ir.Stimulus):
                self.stimulus(item, columns, before, block)
                before += 1
            else:
                before += self.block(item, columns, before)
        return before

    def block(self, block: ir.Block, outer: dict[str, SblType], before: int) -> int:
        scope = self._scope(outer, before, f"in block '{block.name}'")
        columns = dict(outer)
        rows = 1
        own: dict[str, SblType] = {}
        if block.over is not None:
            found = t.strip_optional(self.infer.infer(block.over, scope))
            own = self._columns(block, found)
            self.own[id(block)] = tuple(own)
            columns.update(own)
            self.columns[id(block)] = rows_check.block_columns(self, block, own)
            self.prev_fields |= frozenset(own)
            rows = self._static_length(block.over)
            if block.sample is not None:
                rows = min(rows, block.sample)
        orders.check_block(self, block, own, outer)
        if block.condition is not None:
            self.infer.infer(block.condition, scope)
        if block.header is not None:
            self._header(block.header, scope, own)
        if block.gap is not None:
            found = self.infer.infer(block.gap, scope)
            if not t.assignable(found, t.Optional(t.NUMBER)):
                self.error(block.gap.span, f"a block's gap must be a number of ms or none, "
                                           f"not {t.a(found)}")
            self.diagnostics.extend(ranges.gap(self, block.gap))
        if block.style is not None:
            self._block_style(block.style, scope)
        self.open.append(block)
        inner_before = self.items(block.body, columns, before, block.name)
        self.open.pop()
        if block.until is not None:
            self.infer.infer(block.until, scope.child(trials=TRIALS))
        if block.condition is not None or rows == 0:
            return 0
        return inner_before - before

    def _columns(self, block: ir.Block, found: SblType) -> dict[str, SblType]:
        item = t.strip_optional(found.item) if isinstance(found, t.ListType) else found
        if isinstance(item, t.RecordType):
            return dict(item.fields)
        if found != t.ANY and item != t.ANY:
            self.error(block.over.span if block.over else block.span,
                       f"block '{block.name}' must go over a table (a list of records), "
                       f"not {t.a(found)}")
        return {}

    def _scope(self, columns: dict[str, SblType], before: int, where: str) -> Scope:
        # `trials`, the rows recorded so far, is hidden by any declaration or column of its name
        names = {"trials": TRIALS, **self.globals, **columns}
        return Scope(names, self.prev_fields, before, where)

    # -- stimuli
    def stimulus(self, stim: ir.Stimulus, columns: dict[str, SblType], before: int,
                 block: str) -> None:
        kind = kinds.get(stim.kind)
        if kind is None:
            self.error(head_span(stim), f"unknown stimulus kind '{stim.kind}'",
                       did_you_mean(stim.kind, kinds.names()))
            return
        scope = self._scope(columns, before, f"in this {stim.kind}")
        filled = rows_check.fills(stim, kind, rows_check.conditions(self.open, self.columns))
        self.params(stim.params, kind.params, f"'{stim.kind}'", scope, head_span(stim),
                    prompt=self._prompt_scope(kind, scope), filled=frozenset(filled))
        self.diagnostics.extend(literals.bounds(stim, kind, frozenset(filled)))
        self.diagnostics.extend(ranges.among(self, stim, kind, frozenset(filled),
                                             head_span(stim)))
        self.diagnostics.extend(ranges.several(self, stim, kind, frozenset(filled),
                                               head_span(stim)))
        self.diagnostics.extend(ranges.counted(self, stim, kind, frozenset(filled),
                                               head_span(stim)))
        if kind.media_params:
            self.diagnostics.extend(literals.description(stim))
        custom = rows_check.trial(self, stim, kind, scope)
        self.diagnostics.extend(literals.any_key(stim, kind))
        self.diagnostics.extend(literals.withhold(stim, kind, frozenset(filled)))
        after_check.statements(self, stim, kind, scope, columns, custom)

    def params(self, given: tuple[ir.Param, ...], declared: tuple[ParamDecl, ...], owner: str,
               scope: Scope, head: ir.Span | None = None, prompt: Scope | None = None,
               filled: frozenset[str] = frozenset()) -> None:
        """Check the given parameters; ``filled`` ones are given by condition columns."""
        by_name = {p.name: p for p in declared}
        seen: set[str] = set()
        misspelt: set[str] = set()
        for param in given:
            decl = by_name.get(param.name)
            if param.name in seen:
                self.error(param.span, f"parameter '{param.name}' is given twice")
            seen.add(param.name)
            is_prompt = prompt is not None and param.name == "prompt"
            found = self.infer.infer(param.value, prompt if prompt and is_prompt else scope)
            if param.name in kinds.TEXT_ONLY and prompt is not None:
                self.no_randomness(param.value, f"a {param.name}")
            if decl is None:
                suggestion = did_you_mean(param.name, by_name)
                if suggestion:
                    misspelt.add(suggestion.split("'")[1])
                self.error(name_span(param), f"{owner} has no parameter '{param.name}'",
                           suggestion or f"its parameters are {', '.join(by_name)}")
            elif not t.assignable(found, decl.type):
                cell = known.odd_cell(self, param.name, param.value, decl.type, head)
                if cell is not None:
                    self.diagnostics.append(cell)
                    continue
                self.error(param.value.span, f"parameter '{param.name}' must be "
                           f"{t.a(decl.type)}, not {t.a(found)}")
            elif param.name == "style" and isinstance(param.value, ir.RecordExpr):
                self.diagnostics.extend(literals.style_fields(param.value))
        self.diagnostics.extend(ranges.bounds(self, given, declared, filled, head))
        missing = [p.name for p in declared
                   if p.required and p.name not in seen | misspelt | filled]
        if missing:
            media = any(p.is_media for p in declared) and "description" in missing
            self.error(head, f"{owner} needs the parameter{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(repr(m) for m in missing)}",
                       help=literals.DESCRIBE if media else None)

    def assign(self, assign: ir.Assign, scope: Scope) -> None:
        found = self.infer.infer(assign.value, scope)
        declared = self.shared.get(assign.target)
        if declared is None:
            help = f"declare it first: shared {assign.target} = ..."
            if assign.target in self.globals:
                help = f"'{assign.target}' is a constant or table; only shared variables change"
            self.error(name_span(assign), f"'{assign.target}' is not a shared variable",
                       did_you_mean(assign.target, self.shared) or help)
        elif t.join(declared, found) == t.ANY and t.ANY not in (declared, found) and \
                t.NONE not in (declared, found):
            self.error(assign.value.span, f"shared '{assign.target}' holds {t.a(declared)}; "
                                          f"this gives it {t.a(found)}")

    def _header(self, header: ir.Expr, scope: Scope, columns: dict[str, SblType]) -> None:
        """A block's header: text for models only, like a prompt. It is read before each pass,
        so the columns of the block's own rows, which change row by row, are not visible."""
        names = {**scope.names, **HEADER_NAMES}
        hidden = {c: f"'{c}' is a column of this block's rows, and a header is read once "
                     f"before each pass, not for each row: for a line per row, give the "
                     f"header to a block inside this one (block each {{ header: ... }}), "
                     f"which is entered once per row" for c in columns if c not in names}
        self.infer.infer(header, Scope(names, scope.prev_fields, scope.prev_available,
                                       "in this header", hidden=hidden))
        self.no_randomness(header, "a header")

    def _block_style(self, style: ir.Expr, scope: Scope) -> None:
        """A block's ``style:`` has the type of the ``style`` parameter every kind has."""
        found = self.infer.infer(style, scope)
        if not t.assignable(found, _STYLE):
            self.error(style.span, f"a block's style must be a record like "
                                   f"{{background: \"black\"}} or none, not {t.a(found)}",
                       help=f"its fields are {', '.join(kinds.STYLE_FIELDS)}")
        elif isinstance(style, ir.RecordExpr):
            self.diagnostics.extend(literals.style_fields(style))

    def no_randomness(self, expr: ir.Expr, what: str = "a prompt") -> None:
        """A prompt (or header, or transcript flag) is for models only: the browser never
        evaluates it; a data field is evaluated where jsPsych's timing decides. Neither may
        draw from the random stream both runtimes share."""
        for node in ir.walk(expr):
            if isinstance(node, ir.Call) and node.func in BUILTINS and BUILTINS[node.func].random:
                self.error(node.span, f"{what} cannot use '{node.func}': random draws "
                                      "would differ between the page and the text",
                           help="draw the value in a 'let' or a table column instead")

    def _prompt_scope(self, kind: Kind, scope: Scope) -> Scope:
        """What a ``prompt:`` template sees: the trial's own parameters, its option labels,
        ``{answer}``, and after the answer its response, data fields and shared values."""
        own = {p.name: p.type for p in kind.params}
        extra = {"answer": t.STR, "labels": t.ListType(t.STR), "instructed": t.BOOL,
                 **self.trial_fields(kind)}
        return Scope({**scope.names, **own, **extra}, scope.prev_fields, scope.prev_available,
                     "in this prompt")

    def trial_fields(self, kind: Kind) -> dict[str, SblType]:
        fields: dict[str, SblType] = {"response": kind.response_type,
                                      "rt": t.Optional(t.NUMBER)}
        fields.update({d.name: d.type for d in kind.data})
        return fields

    def _recorded_fields(self, experiment: ir.Experiment) -> frozenset[str]:
        """Every field some row of this experiment has: what ``prev.field`` may name."""
        names = set(self.core) | set(self.shared)
        names |= {f.name for node in ir.walk(experiment.body)
                  if isinstance(node, ir.Block | ir.Stimulus) for f in node.data}
        for stim in ir.stimuli(experiment.body):
            kind = kinds.get(stim.kind)
            if kind is not None:
                names |= {p.name for p in kind.params} | {d.name for d in kind.data}
        return frozenset(names)

    def _static_length(self, expr: ir.Expr) -> int:
        """How many rows ``expr`` surely has, as far as can be seen without running it."""
        if isinstance(expr, ir.Name):
            return self.lengths.get(expr.name, 0)
        if isinstance(expr, ir.ListExpr):
            return len(expr.items)
        if isinstance(expr, ir.TableData):
            return len(expr)
        if isinstance(expr, ir.Range) and isinstance(expr.start, ir.Literal) and isinstance(
                expr.stop, ir.Literal):
            return max(0, int(expr.stop.value or 0) - int(expr.start.value or 0) + 1)
        if isinstance(expr, ir.Comprehension) and expr.condition is None:
            return self._static_length(expr.iterable)
        if isinstance(expr, ir.Call) and expr.func in ("shuffle", "reverse", "sorted", "repeat"):
            return self._static_length(expr.args[0]) if expr.args else 0
        return 0


def _with_columns(items: tuple[ir.Item, ...], columns: dict[int, tuple[str, ...]]
                  ) -> tuple[ir.Item, ...]:
    """``items`` with each block's condition columns, as the checker found them, in the IR."""
    return tuple(dataclasses.replace(item, columns=columns.get(id(item), ()),
                                     body=_with_columns(item.body, columns))
                 if isinstance(item, ir.Block) else item for item in items)
