"""The layering rules of DESIGN.md, read from the source with ``ast`` (no module is imported).

Layers, bottom up; a module may import its own layer and those below it, never above:

1. the IR, ``sbl.ir``: imports nothing of ``sbl``;
2. the front end and its facts: ``sbl.source``, ``sbl.types``, ``sbl.values``, ``sbl.prng``,
   ``sbl.groups``, ``sbl.parse``, ``sbl.syntax_errors``, ``sbl.grammar``, ``sbl.kinds``,
   ``sbl.evaluate``, ``sbl.listing``, ``sbl.media``, ``sbl.markup`` (what an html parameter
   shows as markup, and where ``image(...)`` can show a picture);
3. the passes, ``sbl.passes.*``: the IR and layer 2 only;
4. the backends, ``sbl.backends.NAME`` (``web``, ``text``, ``ir``): layers 1-3, the data
   schema (``sbl.data``) and the participant protocol (``sbl.protocol``); never another
   backend, a concrete participant (``sbl.participants``) or the API layer
   (``sbl.experiment``, ``sbl.simulate``, ``sbl.scoring``, ``sbl.cli``, ``sbl.commands``).
   ``sbl.backends`` itself is the registry, which names backends only as strings;
5. the participants, ``sbl.participants.*``: no model library (torch, transformers, ...)
   at module level, so listing or making a terminal participant never loads one. A module
   that must (``kvcache.py`` subclasses transformers' classes) is itself imported only
   inside functions, by every module of ``sbl``;
6. the CLI and API modules (``sbl/cli.py``, ``sbl/commands/*``, ``sbl/experiment.py``,
   ``sbl/__init__.py``): they import only public names of ``sbl`` (no module or name
   that starts with ``_``), click, rich (for printing tables) and the standard library.

Every import counts, at module level or inside a function or an ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SBL = Path(__file__).resolve().parents[1] / "sbl"
FRONT = {"sbl.source", "sbl.types", "sbl.values", "sbl.prng", "sbl.order", "sbl.groups",
         "sbl.parse", "sbl.syntax_errors", "sbl.grammar", "sbl.kinds", "sbl.evaluate",
         "sbl.listing", "sbl.media", "sbl.markup"}
API = ("sbl.experiment", "sbl.simulate", "sbl.scoring", "sbl.cli", "sbl.commands",
       "sbl.participants")
MODEL_LIBRARIES = {"torch", "transformers", "peft", "accelerate", "bitsandbytes", "llama_cpp",
                   "huggingface_hub", "tokenizers", "gguf", "vllm", "safetensors"}
CLI_MODULES = ["cli.py", "commands", "experiment.py", "__init__.py"]


def module_name(path: Path) -> str:
    """``sbl/backends/text/driver.py`` -> ``sbl.backends.text.driver``."""
    parts = path.relative_to(SBL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool = False) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) of every import in ``path``; relative imports
    resolved; with ``top_level_only``, only those that run when the module is imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path) if path.name == "__init__.py" else \
        module_name(path).rpartition(".")[0]
    nodes = _top_level(tree) if top_level_only else ast.walk(tree)
    found: list[tuple[str, str | None, int]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found += [(base, alias.name, node.lineno) for alias in node.names]
    return found


def _top_level(tree: ast.Module) -> list[ast.AST]:
    """Statements that run at import: the module's body and its plain ``if``/``try`` blocks,
    but not ``if TYPE_CHECKING:``, functions or classes' methods."""
    out: list[ast.AST] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            todo += [s for h in node.handlers for s in h.body]
        elif isinstance(node, ast.ClassDef):
            todo += [s for s in node.body if not isinstance(s, ast.FunctionDef)]
    return out


def files(*where: str) -> list[Path]:
    """The .py files of the given files or folders of ``sbl/``."""
    out: list[Path] = []
    for name in where:
        path = SBL / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def sbl_imports(path: Path) -> list[tuple[str, str | None, int]]:
    """The imports of ``sbl`` modules in ``path``; ``from sbl import x`` names module sbl.x."""
    out = []
    for module, name, line in imports(path):
        if module == "sbl" and name is not None:
            module, name = f"sbl.{name}", None
        if module == "sbl" or module.startswith("sbl."):
            out.append((module, name, line))
    return out


def under(module: str, prefixes: set[str] | tuple[str, ...]) -> bool:
    """Whether ``module`` is one of ``prefixes`` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_ir_imports_nothing_of_sbl() -> None:
    assert sbl_imports(SBL / "ir.py") == []


@pytest.mark.parametrize("path", files("passes"), ids=lambda p: p.name)
def test_passes_import_only_the_ir_and_the_front_end(path: Path) -> None:
    bad = [(m, line) for m, _, line in sbl_imports(path)
           if not under(m, {"sbl.ir", "sbl.passes", *FRONT})]
    assert bad == [], f"{path.name} imports above the passes"


@pytest.mark.parametrize("path", files("backends"), ids=lambda p: str(p.relative_to(SBL)))
def test_a_backend_imports_no_other_backend_and_no_api(path: Path) -> None:
    here = module_name(path).split(".")
    own = ".".join(here[:3]) if len(here) >= 3 else None  # sbl.backends.NAME
    bad = []
    for module, _, line in sbl_imports(path):
        other_backend = module.startswith("sbl.backends.") and not under(module, {own or ""})
        if other_backend or under(module, API):
            bad.append((module, line))
    assert bad == [], f"{path.relative_to(SBL)} crosses a layer"


@pytest.mark.parametrize("path", files("participants"), ids=lambda p: p.name)
def test_participants_import_no_model_library_at_import_time(path: Path) -> None:
    loads = [(m, line) for m, _, line in imports(path, top_level_only=True)
             if m.split(".")[0] in MODEL_LIBRARIES]
    if not loads:
        return
    name = module_name(path)
    eager = [str(other.relative_to(SBL)) for other in files(".")
             if any(m == name or (m == "sbl.participants" and n == path.stem)
                    for m, n, _ in imports(other, top_level_only=True))]
    assert eager == [], f"{path.name} loads {loads}, and these import it when imported"


@pytest.mark.parametrize("path", files(*CLI_MODULES), ids=lambda p: str(p.relative_to(SBL)))
def test_cli_and_api_import_only_public_sbl_and_click(path: Path) -> None:
    bad = []
    for module, name, line in imports(path):
        root = module.split(".")[0]
        if root == "sbl":
            private = any(part.startswith("_") for part in module.split(".")) or \
                (name is not None and name.startswith("_"))
            if private and module != "__future__":
                bad.append((module, name, line))
        elif root not in {"click", "rich", "__future__"} and \
                root not in sys.stdlib_module_names:
            bad.append((module, name, line))
    assert bad == [], f"{path.relative_to(SBL)} imports something other than the public API"


def test_the_rules_see_what_they_check() -> None:
    """The rules would catch a violation: the reader finds each kind of import."""
    found = imports(SBL / "commands" / "run.py")
    assert any(m == "click" and n is None for m, n, _ in found)
    assert any(m == "sbl.experiment" and n == "load" for m, n, _ in found)
    top = {m for m, _, _ in imports(SBL / "participants" / "hf.py", top_level_only=True)}
    every = {m for m, _, _ in imports(SBL / "participants" / "hf.py")}
    assert "torch" not in top and "torch" in every
