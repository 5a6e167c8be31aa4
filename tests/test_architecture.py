"""The module boundaries from the developers' guide, checked on the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "actcheck"
# numerics: never click, rich or matplotlib
NUMERICS = [
    "primitives",
    "activations",
    "numdiff",
    "tolerances",
    "errors",
    "jsonout",
    "defaults",
    "catalogcheck",
    "userimpl",
    "implcheck",
    "xor",
    "plotdata",
]
UI = {"click", "rich", "matplotlib"}


# every module of the package, by its path relative to it: "xor", "cli/core", ...
MODULES = sorted(
    str(p.relative_to(PACKAGE).with_suffix(""))
    for p in PACKAGE.rglob("*.py")
    if p.stem != "__main__"
)
CLI_MODULES = [m for m in MODULES if m.split("/")[0] == "cli"]
# a package (implcheck) stands for every module in it
NUMERIC_MODULES = [m for m in MODULES if m.split("/")[0] in NUMERICS]


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


def test_every_implcheck_module_is_covered():
    assert "implcheck/diagnosis" in NUMERIC_MODULES and "implcheck/check" in MODULES


@pytest.mark.parametrize("module", NUMERIC_MODULES)
def test_numerics_import_no_ui_library(module):
    bad = {m for m in _imports(module) if m.split(".")[0] in UI}
    assert not bad, f"actcheck/{module}.py imports {sorted(bad)}"


def test_the_cli_package_is_found():
    assert "cli/__init__" in CLI_MODULES and "cli/gradcheck" in CLI_MODULES


@pytest.mark.parametrize("module", [m for m in MODULES if m not in CLI_MODULES])
def test_nothing_imports_the_cli(module):
    assert not {m for m in _imports(module) if m == "actcheck.cli" or m.startswith("actcheck.cli.")}


@pytest.mark.parametrize("module", ["plotting", "report", "__init__", "defaults", *CLI_MODULES])
def test_heavy_libraries_are_imported_where_they_are_used(module):
    """matplotlib (and, for the CLI, numpy) load inside functions, so --help stays fast."""
    top = _imports(module, top_level_only=True)
    assert not {m for m in top if m.split(".")[0] == "matplotlib"}
    if module in ("__init__", "defaults", *CLI_MODULES):
        assert not {m for m in top if m.split(".")[0] in ("numpy", "scipy", "rich")}
        # the CLI loads the library's modules inside its functions too, except the cheap ones
        cheap = {"actcheck", "actcheck.defaults", "actcheck.__version__", "actcheck.errors"}
        library = {m for m in top if m.startswith("actcheck") and not m.startswith("actcheck.cli")}
        costly = {m for m in library if m not in cheap and m.rsplit(".", 1)[0] not in cheap}
        assert not costly, sorted(costly)


def test_only_the_catalog_reads_entries():
    """Other modules reach an activation through Activation's API, never ``act.entry``."""
    for path in PACKAGE.rglob("*.py"):
        if path.name != "activations.py":
            assert not re.search(r"\.entry\b", path.read_text()), f"{path} reads .entry"


@pytest.mark.parametrize("module", CLI_MODULES)
def test_the_cli_copies_no_default(module):
    """Option defaults come from actcheck.defaults: no number or string literal in the CLI."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    copied = [
        f"line {kw.value.lineno}: default={kw.value.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "default"
        and isinstance(kw.value, ast.Constant)
        and not isinstance(kw.value.value, bool | None)
    ]
    assert not copied, copied
