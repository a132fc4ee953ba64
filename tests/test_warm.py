"""Kernels warmed ahead of their step (tillit.build.pipeline.warm), on the tiny compendium of
test_pipeline: the chapters run in a warmed kernel while the data step runs, give the same
executed notebooks as in a fresh kernel, and no kernel, client thread or warm-up thread
outlives the build."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell

from test_pipeline import SHARED, PREP_CODE, chapter_cells, fixed_package, make_compendium, write_notebook  # noqa: F401
from tillit.build import pipeline
from tillit.build.pipeline.warm import WarmKernels, setup_imports

# The data step takes a moment, as the real one does, so the idle core has time to warm.
SLOW_PREP = PREP_CODE + "\nimport time\ntime.sleep(1.5)\n"


def _kernels() -> set[int]:
    out = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if any("ipykernel" in part or "forkserver" in part for part in child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                out.add(child.pid)
        except psutil.Error:
            pass
    return out


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()}


def _wait_until_gone(before: set[int], seconds: float = 10.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = _kernels() - before
        if not left:
            return left
        time.sleep(0.1)
    return _kernels() - before


def _warm_comp(root: Path, warm: bool, setup: str = "import json\nimport pandas as pd") -> Path:
    make_compendium(root)
    spec = yaml.safe_load((root / "params" / "pipeline.yml").read_text(encoding="utf-8"))
    spec["warm_kernels"] = warm
    (root / "params" / "pipeline.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    write_notebook(root / "notebooks" / "00_prep.ipynb",
                   [new_code_cell(SHARED, metadata={"tags": ["parameters"]}), new_code_cell(SLOW_PREP)])
    for name in ("01_a", "02_b"):
        cells = chapter_cells(name)
        # A setup cell as the real chapters have: imports, then lines that read the run's data.
        cells.insert(1, new_code_cell(setup + "\nstarted = json.dumps({'factor': factor})",
                                      metadata={"tags": ["setup"]}))
        cells.append(new_code_cell("import sys\nprint(sorted(k for k in ('json', 'pandas') if k in sys.modules))"))
        write_notebook(root / "notebooks" / f"{name}.ipynb", cells)
    return root


def _executed(root: Path) -> dict[str, list]:
    out = {}
    for name in ("01_a", "02_b"):
        nb = nbformat.read(str(root / "outputs" / "notebooks" / f"{name}.ipynb"), as_version=4)
        out[name] = [(c.cell_type, c.source, c.get("execution_count"), c.get("outputs"))
                     for c in nb.cells]
    return out


def test_setup_imports_are_the_setup_cells_import_statements_only(tmp_path):
    path = tmp_path / "nb.ipynb"
    write_notebook(path, [
        new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        new_markdown_cell("import not_this"),
        new_code_cell("import json\nfrom pathlib import Path as P\nctx = start(x)\nimport os.path\n"
                      "if x:\n    import csv\n", metadata={"tags": ["setup"]}),
        new_code_cell("import re"),
    ])
    assert setup_imports(path) == "import json\nfrom pathlib import Path as P\nimport os.path"
    write_notebook(path, [new_code_cell("import json")])
    assert setup_imports(path) == ""
    write_notebook(path, [new_code_cell("import json\ndef (", metadata={"tags": ["setup"]})])
    assert setup_imports(path) == ""  # the run reports the syntax error, with its cell


def test_chapters_run_in_warm_kernels_and_give_the_same_notebooks(tmp_path, monkeypatch):
    kernels, threads = _kernels(), _threads()
    results = {}
    for warm in (False, True):
        root = _warm_comp(tmp_path / f"warm-{warm}", warm)
        monkeypatch.setenv("TILLIT_ROOT", str(root))
        pipeline.build(root=root, progress=lambda _l: None, workers=2)
        manifest = json.loads((root / "outputs" / "manifest.json").read_text(encoding="utf-8"))
        results[warm] = (_executed(root), manifest["build"]["warm_kernels"])
    assert results[False][1] == []
    # One core is idle during the data step: the longer chapter (here the first) is warmed.
    assert results[True][1] and set(results[True][1]) <= {"01_a", "02_b"}
    assert results[True][0] == results[False][0]
    first = results[True][0][results[True][1][0]]
    counts = [c[2] for c in first if c[0] == "code"]
    assert counts == list(range(1, len(counts) + 1))  # counted from 1, as in a fresh kernel
    assert _wait_until_gone(kernels) == set()
    assert not {t for t in _threads() - threads if t.startswith("tillit-warm") or "HB" in t or "hb" in t}


def test_a_cached_step_stops_its_warm_kernel(tmp_path, monkeypatch):
    root = _warm_comp(tmp_path / "k", True)
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    kernels = _kernels()
    pipeline.build(root=root, progress=lambda _l: None, workers=2)
    # The data step runs again (forced) with the same result: the chapters are cached, and the
    # kernel warmed for one of them is stopped.
    pipeline.build(root=root, progress=lambda _l: None, workers=2, only=["00_prep"], force=True)
    results = pipeline.build(root=root, progress=lambda _l: None, workers=2)
    assert {r.name: r.status for r in results} == {"00_prep": "cached", "01_a": "cached", "02_b": "cached"}
    (root / "data" / "raw" / "input.txt").write_text("21\nannen kommentar\n", encoding="utf-8")
    results = pipeline.build(root=root, progress=lambda _l: None, workers=2)
    assert [r.status for r in results] == ["ok", "cached", "cached"]
    manifest = json.loads((root / "outputs" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["warm_kernels"] == []
    assert _wait_until_gone(kernels) == set()


def test_a_warm_up_that_prints_is_not_used(tmp_path, monkeypatch):
    # `import this` prints the Zen of Python: in a warmed kernel that output would be lost
    # from the setup cell, so the step starts a fresh kernel and the output is where it belongs.
    root = _warm_comp(tmp_path / "k", True, setup="import json\nimport this")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    kernels = _kernels()
    pipeline.build(root=root, progress=lambda _l: None, workers=2)
    manifest = json.loads((root / "outputs" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["warm_kernels"] == []
    nb = nbformat.read(str(root / "outputs" / "notebooks" / "01_a.ipynb"), as_version=4)
    setup = next(c for c in nb.cells if "setup" in c.metadata.get("tags", []))
    assert "Beautiful is better than ugly" in setup.outputs[0]["text"]
    assert _wait_until_gone(kernels) == set()


def test_close_stops_kernels_taken_by_nobody_and_those_still_starting(tmp_path):
    root = _warm_comp(tmp_path / "k", True)
    kernels = _kernels()
    warm = WarmKernels(root)
    warm.start("01_a")
    km = warm.take("01_a")  # waits for the warm-up to end
    assert km is not None and km.provisioner.process.poll() is None
    WarmKernels.release(km)
    warm.start("02_b")
    time.sleep(0.3)  # the kernel process is starting
    warm.close()
    assert _wait_until_gone(kernels, 5) == set()
    assert not any(t.startswith("tillit-warm") for t in _threads())


def test_a_warm_kernel_that_died_is_not_used(tmp_path):
    root = _warm_comp(tmp_path / "k", True)
    kernels = _kernels()
    warm = WarmKernels(root)
    warm.start("01_a")
    km = warm._warming["01_a"].result(timeout=60)
    assert km is not None
    km.provisioner.process.kill()
    km.provisioner.process.wait()
    assert warm.take("01_a") is None
    warm.close()
    assert _wait_until_gone(kernels) == set()


@pytest.mark.parametrize("workers", [1])
def test_one_worker_warms_nothing(tmp_path, monkeypatch, workers):
    root = _warm_comp(tmp_path / "k", True)
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    pipeline.build(root=root, progress=lambda _l: None, workers=workers)
    manifest = json.loads((root / "outputs" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["warm_kernels"] == []


def test_discard_stops_a_kernel_still_warming_up_at_once(tmp_path, monkeypatch):
    # The setup cell takes long to import: discard() must not wait for it.
    root = _warm_comp(tmp_path / "k", True)
    slow = tmp_path / "sakte"
    slow.mkdir()
    (slow / "sakte_modul.py").write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(slow))  # the kernel inherits it
    write_notebook(root / "notebooks" / "01_a.ipynb", [new_code_cell("import sakte_modul", metadata={"tags": ["setup"]})])
    kernels = _kernels()
    warm = WarmKernels(root)
    warm.start("01_a")
    deadline = time.monotonic() + 30
    while not (_kernels() - kernels) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.0)  # started, and importing
    assert warm.busy() == 1
    t0 = time.monotonic()
    warm.discard("01_a")
    warm.close()
    assert time.monotonic() - t0 < 10
    assert _wait_until_gone(kernels, 5) == set()
    warm.start("01_a")  # a discarded step is not warmed again
    assert "01_a" not in warm


# --- the engine: the running notebook is saved less often, and always at its end ----------------
def test_engine_saves_the_running_notebook_at_most_every_few_seconds(tmp_path, monkeypatch):
    import papermill as pm

    from tillit.build.pipeline import engine

    path = tmp_path / "nb.ipynb"
    write_notebook(path, [new_code_cell(f"x = {i}") for i in range(30)])
    writes = []
    real = engine.NotebookExecutionManager.save

    def counting(self, **kw):
        writes.append(1)
        return real(self, **kw)

    monkeypatch.setattr(engine.NotebookExecutionManager, "save", counting)
    counts = {}
    for name in (None, engine.ENGINE_NAME):  # papermill's own engine, then ours
        writes.clear()
        pm.execute_notebook(str(path), str(tmp_path / f"ut-{name}.ipynb"), engine_name=name, progress_bar=False,
                            kernel_name="python3")
        counts[name] = len(writes)
        nb = nbformat.read(str(tmp_path / f"ut-{name}.ipynb"), as_version=4)
        assert [c.execution_count for c in nb.cells] == list(range(1, 31))
    # papermill's engine writes at each cell's start and end; ours at the end (and once per
    # SAVE_EVERY seconds of running); papermill writes the finished notebook itself.
    assert counts[None] >= 60
    assert 1 <= counts[engine.ENGINE_NAME] <= 4


def test_a_dead_kernel_leaves_a_failed_copy_with_the_outputs_it_sent(tmp_path, monkeypatch):
    root = _warm_comp(tmp_path / "k", False)
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    cells = chapter_cells("01_a", extra="print('før krasjet', flush=True)\nimport time\ntime.sleep(0.5)\n"
                                        "import os\nos._exit(3)")
    write_notebook(root / "notebooks" / "01_a.ipynb", cells)
    with pytest.raises(pipeline.PipelineError):
        pipeline.build(root=root, progress=lambda _l: None, workers=1)
    kept = root / ".tillit" / "failed" / "01_a.ipynb"
    assert kept.is_file()
    texts = [o.get("text", "") for c in nbformat.read(str(kept), as_version=4).cells if c.cell_type == "code"
             for o in c.get("outputs", [])]
    assert any("før krasjet" in t for t in texts)


def test_tillit_build_warms_the_data_step_before_checking_raw_data(tmp_path, monkeypatch):
    from tillit.build.pipeline.warm import start_for_build

    root = _warm_comp(tmp_path / "k", True)
    kernels = _kernels()
    assert start_for_build(root, workers=1) is None
    assert start_for_build(root, workers=2, only=["01_a"]) is None  # no data step in this build
    warm = start_for_build(root, workers=2)
    assert warm is not None and "00_prep" in warm
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    pipeline.build(root=root, progress=lambda _l: None, workers=2, warm=warm)
    manifest = json.loads((root / "outputs" / "manifest.json").read_text(encoding="utf-8"))
    assert "00_prep" in manifest["build"]["warm_kernels"]
    assert _wait_until_gone(kernels) == set()
    # With warm_kernels: false the build closes a pool it was given.
    off = _warm_comp(tmp_path / "av", False)
    warm = WarmKernels(off)
    warm.start("00_prep")
    monkeypatch.setenv("TILLIT_ROOT", str(off))
    pipeline.build(root=off, progress=lambda _l: None, workers=2, warm=warm)
    assert json.loads((off / "outputs" / "manifest.json").read_text(encoding="utf-8"))["build"]["warm_kernels"] == []
    assert _wait_until_gone(kernels) == set()


def test_a_kernel_for_any_step_imports_what_every_setup_cell_imports(tmp_path, monkeypatch):
    from tillit.build.pipeline.warm import ANY, common_modules, imported_modules

    root = _warm_comp(tmp_path / "k", True, setup="import json\nfrom email import message as m\nimport pandas as pd")
    write_notebook(root / "notebooks" / "02_b.ipynb", [new_code_cell("import json\nfrom email import message, utils",
                                                                     metadata={"tags": ["setup"]})])
    nbs = [root / "notebooks" / f"{n}.ipynb" for n in ("01_a", "02_b")]
    assert imported_modules(nbs[0]) == {"json", "email", "email.message", "pandas"}
    assert common_modules(nbs) == ["email", "email.message", "json"]
    kernels = _kernels()
    warm = WarmKernels(root)
    warm.start_any(["01_a", "02_b"])
    assert ANY in warm
    assert warm.take("00_prep") is None  # its setup cell imports none of them: not given the kernel
    km = warm.take("02_b")
    assert km is not None and ANY not in warm
    # The notebook's namespace is as in a fresh kernel: the warm-up bound no name, and the
    # modules are imported.
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    out: list[str] = []
    try:
        client.wait_for_ready(timeout=30)
        reply = client.execute_interactive(
            "import sys\nprint(sorted(k for k in dir() if not k.startswith('_') and k not in ('In', 'Out', 'exit', "
            "'quit', 'get_ipython', 'open', 'sys')), 'email.message' in sys.modules)", timeout=30,
            output_hook=lambda m: out.append(m["content"].get("text", "")))
    finally:
        client.stop_channels()
        WarmKernels.release(km)
        warm.close()
    assert reply["content"]["status"] == "ok"
    assert "".join(out).strip() == "[] True"
    assert _wait_until_gone(kernels) == set()
