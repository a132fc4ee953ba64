"""The package's folders are the data flow, and imports run one way:
build → book → stats → data → the shared bottom (config, fmt). Checked with ast over src/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "tillit"
# Rank of each stage: a module may import its own stage or any stage below it.
STAGES = {"config": 0, "fmt": 0, "data": 1, "stats": 2, "book": 3, "build": 4}
MAX_LINES = 650          # "about 600": a module past this has a seam to find
MAX_FUNCTION_LINES = 90  # "about 80", functions that are tables of data excepted below
DATA_TABLES: set[str] = set()


def _stage(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "tillit" or len(parts) < 2:
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
            if mod == "tillit":  # from tillit import fmt, config
                found += [(node.lineno, f"tillit.{a.name}") for a in node.names]
    return found


SOURCES = sorted(PKG.rglob("*.py"))


def test_every_module_sits_in_a_stage():
    loose = [p.relative_to(PKG).as_posix() for p in SOURCES
             if p.parent == PKG and p.stem not in STAGES and p.name != "__init__.py"]
    assert not loose, f"moduler utenfor et trinn: {loose}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(PKG).as_posix())
def test_imports_run_one_way(path):
    own = _stage(_module_name(path))
    if own is None:
        return
    bad = []
    for line, mod in _imports(path):
        target = _stage(mod)
        if target is None or target not in STAGES:
            continue
        if STAGES[target] > STAGES[own]:
            bad.append(f"{path.relative_to(PKG)}:{line} importerer {mod} ({target} ligger over {own})")
    assert not bad, "\n".join(bad)


def test_the_check_sees_an_upward_import(tmp_path):
    # The check must be able to fail: a data module importing the book is caught.
    fake = PKG / "data" / "_probe_upward.py"
    try:
        fake.write_text("from tillit.book import plots\nfrom ..stats import tables\n", encoding="utf-8")
        found = [_stage(m) for _, m in _imports(fake)]
        assert found == ["book", "stats"]
    finally:
        fake.unlink()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(PKG).as_posix())
def test_modules_and_functions_stay_small(path):
    text = path.read_text(encoding="utf-8")
    n = text.count("\n")
    assert n <= MAX_LINES, f"{path.relative_to(PKG)} har {n} linjer (grense ~600): finn sømmen"
    long = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in DATA_TABLES:
            size = node.end_lineno - node.lineno + 1
            if size > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({size} linjer)")
    assert not long, f"{path.relative_to(PKG)}: for lange funksjoner: {', '.join(long)}"
