"""The module boundaries from the developers' guide, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "actcheck"
# numerics: never click, rich or matplotlib
NUMERICS = [
    "activations",
    "numdiff",
    "catalogcheck",
    "tolerances",
    "userimpl",
    "implcheck",
    "xor",
    "plotdata",
]
UI = {"click", "rich", "matplotlib"}


def _imports(module: str, top_level_only: bool = False) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("module", NUMERICS)
def test_numerics_import_no_ui_library(module):
    bad = {m for m in _imports(module) if m.split(".")[0] in UI}
    assert not bad, f"actcheck/{module}.py imports {sorted(bad)}"


@pytest.mark.parametrize("module", [p.stem for p in PACKAGE.glob("*.py") if p.stem != "__main__"])
def test_nothing_imports_the_cli(module):
    if module == "cli":
        return
    assert not {m for m in _imports(module) if m in ("actcheck.cli", "actcheck.cli.cli")}


@pytest.mark.parametrize("module", ["plotting", "report", "cli", "__init__"])
def test_heavy_libraries_are_imported_where_they_are_used(module):
    """matplotlib (and, for the CLI, numpy) load inside functions, so --help stays fast."""
    top = _imports(module, top_level_only=True)
    assert not {m for m in top if m.split(".")[0] == "matplotlib"}
    if module in ("cli", "__init__"):
        assert not {m for m in top if m.split(".")[0] in ("numpy", "scipy", "rich")}
