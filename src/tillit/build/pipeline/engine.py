"""The papermill engine the pipeline runs notebooks with: nbclient's, saving less often.

Papermill's own engine writes the whole executed notebook at the start and at the end of
every cell, so that a crash leaves a copy. For 04_hovedfunn (45 code cells, 2.4 MB of
figures at the end) that is ~90 writes of a growing notebook, between the cells, while the
kernel waits for its next cell: 1–3 s of the longest step. This engine writes at most every
:data:`SAVE_EVERY` seconds while the notebook runs, and always when it ends, however it ends
(completed, a failing cell, a dead kernel, an interruption): the copy kept of a failed run
(.tillit/failed/) has every output the kernel sent, as before. Papermill writes the finished
notebook itself.
"""
from __future__ import annotations

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE_NAME = "tillit"
SAVE_EVERY = 5.0  # seconds between writes of a running notebook


class ThrottledManager(NotebookExecutionManager):
    """Saves at most every SAVE_EVERY seconds, and always at the notebook's end."""

    _final = False

    def save(self, **kwargs):
        last = getattr(self, "last_save_time", None)
        if self._final or last is None or (self.now() - last).total_seconds() >= SAVE_EVERY:
            super().save(**kwargs)

    def notebook_complete(self, **kwargs):
        self._final = True
        super().notebook_complete(**kwargs)


class TillitEngine(NBClientEngine):
    """NBClientEngine with :class:`ThrottledManager` (papermill's Engine.execute_notebook,
    with the manager swapped)."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        nb_man = ThrottledManager(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                  autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register(ENGINE_NAME, TillitEngine)
