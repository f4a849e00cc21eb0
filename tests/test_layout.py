"""The package's shape, as the architecture promises it: `pipeline.py` only wires the stages,
modules and functions stay small enough to read, imports flow one way (no stage imports the
pipeline or the CLI, and no import cycle anywhere, lazy imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"
MODULES = {p.stem: p for p in sorted(PACKAGE.glob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Modules of this package that `path` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("provenance."):
            out.add(node.module.split(".")[1])
    return out & set(MODULES) - {path.stem}


def test_pipeline_only_wires():
    lines = len(MODULES["pipeline"].read_text("utf-8").splitlines())
    assert lines <= 350, f"pipeline.py has {lines} lines"


def test_modules_and_functions_stay_small():
    too_long = []
    for name, path in MODULES.items():
        src = path.read_text("utf-8")
        if len(src.splitlines()) > 550:
            too_long.append(f"{name}.py: {len(src.splitlines())} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 80:
                    too_long.append(f"{name}.{node.name}: {n} lines")
    assert too_long == []


def test_no_stage_imports_the_pipeline_or_the_cli():
    # the Spark engine is a second engine over the stages: its per-story step runs pipeline.analyse
    offenders = {name: sorted(_imports(p) & {"pipeline", "cli"}) for name, p in MODULES.items()
                 if name not in ("cli", "__init__", "spark_stages")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycle():
    graph = {name: _imports(path) for name, path in MODULES.items() if name != "__init__"}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_importing_the_package_loads_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, provenance, provenance.cli; "
            "print(sorted(m for m in ('numpy', 'faiss', 'torch', 'sklearn', 'langdetect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout.strip()
    assert out == "[]"


def test_every_public_name_resolves():
    import provenance

    missing = [n for n in provenance.__all__ if n != "__version__" and getattr(provenance, n, None) is None]
    assert missing == []
    assert provenance.prepare.__module__ == "provenance.preparation"  # a function, not a module
