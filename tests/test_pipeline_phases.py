"""How a phase hands an idle worker to the next phase's warm-up (tillit.build.pipeline.orchestrate):
when a step that ran ends while another runs on, the next phase's kernel is warmed at once, not
after the main thread's next 0.2 s wait (the appendix waits for that warm-up)."""
from __future__ import annotations

from nbformat.v4 import new_code_cell

from test_pipeline import chapter_cells, fixed_package, make_compendium, write_notebook  # noqa: F401
from tillit.build import pipeline
from tillit.build.pipeline import orchestrate


def test_a_step_that_ran_and_ended_hands_its_worker_to_the_warm_up_at_once(tmp_path, monkeypatch):
    root = make_compendium(tmp_path / "c", chapters=("01_long", "02_short"), appendix=("03_app",))
    write_notebook(root / "notebooks" / "01_long.ipynb",
                   chapter_cells("01_long") + [new_code_cell("import time\ntime.sleep(2.5)")])
    write_notebook(root / "notebooks" / "03_app.ipynb", chapter_cells("03_app"))
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    events: list[tuple] = []
    real_wait, real_record, real_warm = orchestrate.wait, orchestrate._Build.record, orchestrate._Build.warm_upcoming

    def wait(*a, **k):
        events.append(("wait",))
        return real_wait(*a, **k)

    def record(self, result):
        events.append(("record", result.name))
        return real_record(self, result)

    def warm_upcoming(self, upcoming):
        events.append(("warm", tuple(upcoming)))
        return real_warm(self, upcoming)

    monkeypatch.setattr(orchestrate, "wait", wait)
    monkeypatch.setattr(orchestrate._Build, "record", record)
    monkeypatch.setattr(orchestrate._Build, "warm_upcoming", warm_upcoming)
    pipeline.build(root=root, progress=lambda _l: None, workers=2)

    short = events.index(("record", "02_short"))
    assert events[short + 1] == ("warm", ("03_app",))   # before the next wait, not after it
    prep = events.index(("record", "00_prep"))
    assert events[prep + 1] != ("warm", ("01_long", "02_short"))  # the phase ended: nothing runs on
