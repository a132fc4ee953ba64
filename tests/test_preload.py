"""Imports on a background thread while the chapters run (tillit.build.pipeline.preload): they
happen, a failing one surfaces in the real import and not on the thread, and the module lists
the build and the render preload name modules that exist."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import threading

import pytest

from tillit.book.render import run as render_run
from tillit.build.pipeline import orchestrate, preload


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """A folder on sys.path for throwaway modules; they are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(name: str, body: str) -> str:
        (tmp_path / f"{name}.py").write_text(body, encoding="utf-8")
        made.append(name)
        return name

    yield make
    preload.wait()
    for name in made:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()


def test_start_imports_on_a_thread_and_wait_lets_it_finish(modules):
    name = modules("pre_ok", "import threading\nTHREAD = threading.current_thread().name\n")
    thread = preload.start([name])
    assert thread is not None and thread.daemon
    preload.wait()
    assert not thread.is_alive()
    assert sys.modules[name].THREAD == "tillit-preload"   # imported there, not here


def test_a_failing_import_is_raised_by_the_real_import_not_the_thread(modules):
    name = modules("pre_bad", "raise ZeroDivisionError('i modulen')\n")
    errors: list = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        preload.start([name])
        preload.wait()
    finally:
        threading.excepthook = old_hook
    assert errors == []                  # nothing escaped on the thread
    assert name not in sys.modules       # a failed import leaves nothing behind
    with pytest.raises(ZeroDivisionError, match="i modulen"):
        importlib.import_module(name)    # the caller's own import raises it


def test_requested_modules_are_imported_by_start_requested_once(modules):
    a = modules("pre_req_a", "X = 1\n")
    b = modules("pre_req_b", "Y = 2\n")
    preload.request([a])
    preload.start([b])
    preload.wait()
    assert b in sys.modules and a not in sys.modules   # start imports only what it is given
    preload.start_requested()
    preload.wait()
    assert a in sys.modules
    sys.modules.pop(a)
    assert preload.start_requested() is None       # the request was used up: nothing left to import
    assert a not in sys.modules


def test_nothing_to_import_starts_no_thread():
    assert preload.start(["json", "os"]) is None


def test_a_missing_module_is_skipped_and_the_rest_imported(modules):
    name = modules("pre_after_missing", "Z = 3\n")
    preload.start(["tillit_no_such_module_here", name])
    preload.wait()
    assert sys.modules[name].Z == 3


@pytest.mark.parametrize("names", [orchestrate.AUDIT_MODULES, render_run.FALLBACK_MODULES,
                                   render_run.QUARTO_MODULES], ids=["audit", "fallback", "quarto"])
def test_the_preloaded_modules_exist(names):
    # A misspelt name would be skipped without a word and preload nothing.
    missing = [n for n in names if importlib.util.find_spec(n.partition(":")[0]) is None]
    assert missing == []
    calls = [n.split(":") for n in names if ":" in n]
    assert all(callable(getattr(importlib.import_module(m), f, None)) for m, f in calls)


def test_an_entry_with_a_function_calls_it_after_the_import(modules):
    name = modules("pre_call", "CALLS = []\ndef warm():\n    CALLS.append(1)\ndef broken():\n    raise OSError('x')\n")
    preload.start([f"{name}:broken", f"{name}:warm"])   # a failing call stops nothing after it
    preload.wait()
    assert sys.modules[name].CALLS == [1]


def test_the_render_modules_follow_the_renderer(monkeypatch):
    assert render_run.render_modules("fallback") == render_run.FALLBACK_MODULES
    assert render_run.render_modules("quarto") == render_run.QUARTO_MODULES
    monkeypatch.setattr(render_run.shutil, "which", lambda _name: None)
    assert render_run.render_modules("auto") == render_run.FALLBACK_MODULES
    monkeypatch.setattr(render_run.shutil, "which", lambda _name: "/usr/bin/quarto")
    assert render_run.render_modules("auto") == render_run.QUARTO_MODULES


def test_the_build_preloads_while_its_chapters_run_and_waits_before_it_returns(tmp_path, monkeypatch):
    from test_pipeline import make_compendium
    from tillit.build import pipeline

    root = make_compendium(tmp_path / "c")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    calls: list = []
    real_start = preload.start

    def start(mods):
        calls.append(tuple(mods))
        return real_start(mods)

    monkeypatch.setattr(preload, "start", start)
    preload.request(["json"])
    pipeline.build(root=root, progress=lambda _l: None, workers=2)
    # The audit's modules when the chapters start; the requested ones after the chapters' audit.
    assert calls == [orchestrate.AUDIT_MODULES, ("json",)]
    assert not any(t.name == "tillit-preload" and t.is_alive() for t in threading.enumerate())


def test_the_fallbacks_prepare_makes_the_notebook_exporter_ahead():
    from tillit.book import provenance
    from tillit.book.render import fallback

    provenance._lab_exporter.cache_clear()
    fallback.prepare()
    assert provenance._lab_exporter.cache_info().currsize == 1   # the render finds it made
