"""Architecture contracts, read from the source with ast: pgmpy behind one door, plots alone import
matplotlib/seaborn, a light ``import bayes_cmo``, and imports that only point down the pipeline."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).parents[1] / "bayes_cmo"

#: COMMON.md's layer list, top first; a module may import its own layer or any layer below it.
LAYERS = (
    ("cli", "app", "report", "plots"),
    ("planning", "elicit"),
    ("update",),
    ("inference",),
    ("network",),
    ("engine",),
    ("theory",),
)
#: The package's private top-level modules (_errors, _files, _version, _tables, ...) form the bottom layer.
BOTTOM = len(LAYERS)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = list(file.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = file
    return out


MODULES = _modules()


def _imports(name: str, file: Path) -> list[tuple[int, str, bool]]:
    """(line, imported module, at module level) for every import in ``file``, relative ones resolved."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                found.append((child.lineno, module, top))
                for alias in child.names:  # `from .. import cases` imports a submodule
                    if f"{module}.{alias.name}" in MODULES:
                        found.append((child.lineno, f"{module}.{alias.name}", top))
            visit(child, top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, True)
    return found


IMPORTS = {name: _imports(name, file) for name, file in MODULES.items()}


def _component(module: str) -> str | None:
    """The pipeline part a bayes_cmo module belongs to (``network``, ``_files``, ...).

    None for the package itself and ``__main__``: they sit above every layer and may gather anything.
    """
    parts = module.split(".")
    if parts[0] != "bayes_cmo" or len(parts) == 1 or parts[1] == "__main__":
        return None
    return parts[1]


def _rank(component: str) -> int:
    return RANK.get(component, BOTTOM)


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}"


def test_only_the_adapter_imports_pgmpy():
    offenders = [
        f"{_where(name, line)} imports {target}"
        for name, found in IMPORTS.items()
        for line, target, _ in found
        if target.split(".")[0] == "pgmpy" and name != "bayes_cmo.network._pgmpy"
    ]
    assert not offenders, "pgmpy outside bayes_cmo/network/_pgmpy.py: " + "; ".join(offenders)


def test_only_plots_import_matplotlib_or_seaborn_at_module_level():
    offenders = [
        f"{_where(name, line)} imports {target}"
        for name, found in IMPORTS.items()
        for line, target, top in found
        if top and target.split(".")[0] in ("matplotlib", "seaborn") and _component(name) != "plots"
    ]
    assert not offenders, "module-level matplotlib/seaborn outside plots/: " + "; ".join(offenders)


def test_import_bayes_cmo_loads_neither_pgmpy_nor_matplotlib():
    code = (
        "import sys, bayes_cmo\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & {'pgmpy', 'matplotlib', 'seaborn'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import bayes_cmo loaded {out.stdout.strip()}"


def _edges() -> list[tuple[str, str, str]]:
    """(importing component, imported component, where) between different parts of the package."""
    edges = []
    for name, found in IMPORTS.items():
        source = _component(name)
        if source is None:
            continue
        for line, target, _ in found:
            dest = _component(target)
            if dest is not None and dest != source:
                edges.append((source, dest, f"{_where(name, line)} imports {target}"))
    return edges


def test_imports_point_only_down_the_layer_list():
    upward = [where for source, dest, where in _edges() if _rank(dest) < _rank(source)]
    assert not upward, "imports pointing up the pipeline: " + "; ".join(upward)


def test_no_import_cycles_between_parts():
    graph = nx.DiGraph()
    witness = {}
    for source, dest, where in _edges():
        graph.add_edge(source, dest)
        witness.setdefault((source, dest), where)
    cycles = sorted(nx.simple_cycles(graph), key=len)
    if cycles:
        cycle = cycles[0]
        steps = [witness[(a, cycle[(i + 1) % len(cycle)])] for i, a in enumerate(cycle)]
        pytest.fail("import cycle " + " -> ".join([*cycle, cycle[0]]) + ": " + "; ".join(steps))


def test_the_scan_sees_the_imports_it_judges():
    """The checks above cannot pass vacuously: the scan finds known imports."""
    found = {target for _, target, _ in IMPORTS["bayes_cmo.network._pgmpy"]}
    assert "pgmpy.models" in found
    model_imports = {target for _, target, _ in IMPORTS["bayes_cmo.network.model"]}
    assert "bayes_cmo.engine.core" in model_imports and "bayes_cmo.network._pgmpy" in model_imports
    assert any(s == "update" and d == "network" for s, d, _ in _edges())


def test_the_cli_starts_without_the_compute_stacks():
    """`import bayes_cmo.cli` (the console script's module) and `import bayes_cmo` load no stage:
    each verb imports its own stack when its command line names it (a fast start, a fast --help)."""
    heavy = ("scipy", "scipy.stats", "scipy.optimize", "pgmpy", "matplotlib", "seaborn", "pandas", "numpy")
    code = (
        "import sys, bayes_cmo, bayes_cmo.cli\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import bayes_cmo.cli loaded {out.stdout.strip()}"
