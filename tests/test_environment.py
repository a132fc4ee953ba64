"""The pinned environment: requirements.lock (uv pip compile --generate-hashes, Python 3.11 on
Linux) pins every package with hashes, covers pyproject.toml, and environment.yml installs
the same; the methods appendix's versions come from what is installed."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from tillit.book import versions

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN_RE = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)\s*\\?$")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    return {_canon(m.group(1)): m.group(2) for line in LOCK.read_text(encoding="utf-8").splitlines()
            if (m := PIN_RE.match(line))}


def test_every_pin_is_exact_and_hashed():
    text = LOCK.read_text(encoding="utf-8")
    assert "make lock" in text.splitlines()[1], "låsefilen skal lages med make lock"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    reqs = [b for b in blocks if b.strip() and not b.startswith("#")]
    assert len(reqs) == len(_pins()) > 50
    for block in reqs:
        assert "==" in block.splitlines()[0], block.splitlines()[0]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), f"uten hash: {block.splitlines()[0]}"


def test_lock_covers_pyproject_and_the_build():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = _pins()
    wanted = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["dev"]
    wanted += project["build-system"]["requires"]
    for spec in wanted:
        req = Requirement(spec)
        name = _canon(req.name)
        assert name in pins, f"{req.name} mangler i {LOCK.name} (kjør make lock)"
        assert req.specifier.contains(pins[name], prereleases=True), f"{req.name}=={pins[name]} passer ikke {spec}"


def test_environment_yml_is_generated_from_the_lock():
    proc = subprocess.run([sys.executable, str(ROOT / ".ci" / "environment.py"), "--check"])
    assert proc.returncode == 0, "environment.yml er ikke laget fra requirements.lock: kjør make lock"
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert "- python=3.11" in text and "- -r requirements.lock" in text
    for name in ("pandas", "statsmodels", "numpy"):
        assert f"{name}=={_pins()[name]}" in text


@pytest.mark.skipif(bool(os.environ.get("UNPINNED")), reason="make ... UNPINNED=1: ulåst miljø valgt")
def test_the_numbers_are_made_with_the_locked_versions():
    """The packages that compute the numbers are the locked ones (make .venv from the lock)."""
    pins = _pins()
    wrong = {p: (version(p), pins[_canon(p)]) for p in versions.PACKAGES if version(p) != pins[_canon(p)]}
    assert not wrong, f"installert ≠ låst (installert, låst): {wrong} – kjør make .venv/.installed på nytt"


def test_versions_listing():
    found = versions.package_versions()
    assert list(found) == ["Python", *versions.PACKAGES]
    assert found["pandas"] == version("pandas")
    md = versions.versions_markdown()
    assert f"| statsmodels | {version('statsmodels')} |" in md
    assert versions.RENDERER_SHORTCODE in md
