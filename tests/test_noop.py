"""The no-op fast path of `tillit build` (tillit.build.noop): answered from the stamp only when
nothing the build reads or wrote has changed; every kind of change runs the ordinary build."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tillit.build import noop
from tillit.config import repo_root

BIN = Path(sys.executable).parent


def _compendium(root: Path) -> Path:
    (root / "params").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "params" / "default.yml", root / "params" / "default.yml")
    (root / "params" / "pipeline.yml").write_text("parameters: params/default.yml\nnotebooks: []\n", encoding="utf-8")
    (root / "params" / "report.yml").write_text("title: x\n", encoding="utf-8")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "01_a.ipynb").write_text("{}\n", encoding="utf-8")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "survey.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "data" / "processed").mkdir(parents=True)
    return root


class FakeBuild:
    """Stands in for tillit.build.cli._main: writes a manifest and a book, prints a transcript."""

    def __init__(self, root: Path, code: int = 0, during=None):
        self.root, self.code, self.during, self.calls = root, code, during, []

    def __call__(self, argv: list[str]) -> int:
        self.calls.append(argv)
        out = self.root / "outputs"
        (out / "book").mkdir(parents=True, exist_ok=True)
        (self.root / "data" / "processed" / "survey.parquet").write_bytes(b"data")
        (out / "book" / "index.html").write_text("<p>bok</p>", encoding="utf-8")
        (out / "book" / ".render.json").write_text(json.dumps({"pages": ["index.html"]}), encoding="utf-8")
        (out / "manifest.json").write_text(json.dumps(
            {"build": {"status": "ok"}, "steps": {"01_a": {"status": "ok"}}}), encoding="utf-8")
        if self.during:
            self.during()
        print("tillit build")
        print("  kildedata: syntetisk tvilling i data/raw")
        print(f"  {'01_a':<28} {3.2:7.1f} s  ok (endret: notatbokceller)")
        print("    merk: en advarsel fra kjøringen")
        print(f"  {'revisjon (skjulte tall)':<28} {1.0:7.1f} s  ok (1 skjulte tall)")
        print(f"  {'render (nbconvert-fallback)':<28} {2.0:7.1f} s  ok")
        print(f"Boka er laget med nbconvert-reserveløsningen: {out / 'book' / 'index.html'}")
        return self.code


@pytest.fixture
def comp(tmp_path, monkeypatch):
    root = _compendium(tmp_path / "komp")
    package = tmp_path / "pakke"
    (package / "book" / "templates").mkdir(parents=True)
    (package / "book" / "templates" / "page.html").write_text("<html>", encoding="utf-8")
    (package / "stats.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    monkeypatch.setattr(noop, "_package_dir", lambda: str(package))
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    return root, package, FakeBuild(root)


def _twice(build, argv=("build",)) -> int:
    """Run twice; return how often the ordinary build ran."""
    before = len(build.calls)
    assert noop.run(list(argv), build) == 0
    assert noop.run(list(argv), build) == 0
    return len(build.calls) - before


def test_second_build_is_answered_from_the_stamp(comp, capsys):
    root, _, build = comp
    assert _twice(build) == 1
    printed = capsys.readouterr().out.split("tillit build\n")[-1]
    assert "uendret siden byggingen" in printed
    assert "01_a                             0.0 s  cached" in printed
    assert "render (nbconvert-fallback)      0.0 s  cached" in printed
    assert "merk: en advarsel" not in printed and "revisjon" not in printed and " ok" not in printed
    assert printed.rstrip().endswith("index.html")


def _edit(path: Path, text: str = "endret\n") -> None:
    path.write_text(text, encoding="utf-8")


CHANGES = {
    "notatbok": lambda r, p: _edit(r / "notebooks" / "01_a.ipynb", '{"cells": []}\n'),
    "ny notatbok": lambda r, p: _edit(r / "notebooks" / "02_b.ipynb"),
    "parametere": lambda r, p: _edit(r / "params" / "report.yml", "title: y\n"),
    "rådata": lambda r, p: _edit(r / "data" / "raw" / "survey.csv", "a,b\n1,3\n"),
    "ny rådatafil": lambda r, p: _edit(r / "data" / "raw" / "export.xlsx"),
    "klargjorte data": lambda r, p: (r / "data" / "processed" / "survey.parquet").unlink(),
    "pakkekode": lambda r, p: _edit(p / "stats.py", "x = 2\n"),
    "mal": lambda r, p: _edit(p / "book" / "templates" / "page.html", "<html lang=nb>"),
    "side borte": lambda r, p: (r / "outputs" / "book" / "index.html").unlink(),
    "manifest": lambda r, p: _edit(r / "outputs" / "manifest.json", "{}"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_runs_the_ordinary_build(comp, change):
    root, package, build = comp
    assert _twice(build) == 1
    CHANGES[change](root, package)
    assert noop.run(["build"], build) == 0
    assert len(build.calls) == 2, change


def test_same_size_and_mtime_still_counts_as_changed(comp):
    root, _, build = comp
    path = root / "notebooks" / "01_a.ipynb"
    assert _twice(build) == 1
    st = path.stat()
    path.write_text("[]\n", encoding="utf-8")  # same size, other content
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert noop.run(["build"], build) == 0
    assert len(build.calls) == 2


def test_renderer_and_environment_are_part_of_the_stamp(comp, tmp_path, monkeypatch):
    root, _, build = comp
    assert _twice(build) == 1
    assert _twice(build, ["build", "--renderer", "fallback"]) == 1  # another renderer asked for
    assert _twice(build) == 1                                       # and back
    quarto = tmp_path / "bin" / "quarto"
    quarto.parent.mkdir()
    quarto.write_text("#!/bin/sh\necho 1.10.16\n", encoding="utf-8")
    quarto.chmod(0o755)
    assert noop.run(["build"], build) == 0 and len(build.calls) == 4  # quarto appeared on PATH
    assert noop.run(["build"], build) == 0 and len(build.calls) == 4
    quarto.write_text("#!/bin/sh\necho 1.11.0\n", encoding="utf-8")  # another quarto
    assert noop.run(["build"], build) == 0 and len(build.calls) == 5
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert noop.run(["build"], build) == 0 and len(build.calls) == 6  # another sys.path
    assert noop.run(["build"], build) == 0 and len(build.calls) == 6
    (site / "pakke-2.0.dist-info").mkdir()  # a package installed or upgraded
    assert noop.run(["build"], build) == 0 and len(build.calls) == 7
    assert _twice(build, ["build", "--workers", "1"]) == 0  # workers change no result


@pytest.mark.parametrize("argv", [["build", "--force"], ["build", "--only", "01_a"], ["build", "--edition", "nks"],
                                  ["render"], ["run", "01_a"]])
def test_other_commands_always_run(comp, argv):
    _, _, build = comp
    assert _twice(build) == 1
    assert _twice(build, argv) == 2


def test_no_stamp_after_a_failure_or_a_change_during_the_build(comp):
    root, _, build = comp
    assert _twice(build) == 1
    failing = FakeBuild(root, code=1)
    _edit(root / "notebooks" / "01_a.ipynb", '{"cells": [1]}\n')
    assert noop.run(["build"], failing) == 1 and len(failing.calls) == 1
    assert not (root / noop.STAMP).exists()  # removed when the build started, not rewritten
    racing = FakeBuild(root, during=lambda: _edit(root / "notebooks" / "01_a.ipynb", "midt i\n"))
    assert noop.run(["build"], racing) == 0
    assert not (root / noop.STAMP).exists()
    assert _twice(build) == 1  # the next build runs, then the stamp holds again


def test_a_real_file_added_to_raw_during_the_build_gives_no_stamp(comp):
    root, _, build = comp
    racing = FakeBuild(root, during=lambda: _edit(root / "data" / "raw" / "ekte.csv", "a\n1\n"))
    assert noop.run(["build"], racing) == 0
    assert not (root / noop.STAMP).exists()


def test_incomplete_build_gives_no_stamp(comp):
    root, _, build = comp

    def half():
        _edit(root / "outputs" / "manifest.json", json.dumps({"build": {"status": "ok"},
                                                              "steps": {"01_a": {"status": "failed"}}}))
    assert noop.run(["build"], FakeBuild(root, during=half)) == 0
    assert not (root / noop.STAMP).exists()


def test_root_rule_is_the_configs(tmp_path, monkeypatch):
    root = _compendium(tmp_path / "komp")
    monkeypatch.delenv("TILLIT_ROOT", raising=False)
    monkeypatch.chdir(root / "notebooks")
    assert noop._root() == repo_root() == root.resolve()
    monkeypatch.setenv("TILLIT_ROOT", str(tmp_path))
    assert noop._root() == repo_root()


def test_console_script_is_the_fast_path():
    script = (BIN / "tillit").read_text(encoding="utf-8")
    assert "tillit.build.noop import main" in script, "reinstall: make .venv/.installed"
    # The fast path imports neither pydantic nor yaml nor the pipeline.
    code = "import sys; import tillit.build.noop; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('pydantic', 'yaml', 'pandas', 'tillit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['tillit', 'tillit.build', 'tillit.build.noop']"
