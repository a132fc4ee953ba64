"""The pipeline runner: notebooks in order, cached on content, chapters in parallel.

One step = one notebook executed in-process with papermill (the kernel is the only child
process). Each step is keyed on a content hash of what decides its result; an unchanged step
whose recorded outputs are still on disk with the same hashes is skipped. Everything a step
writes goes to a staging folder first and is moved into place only when the notebook has run
to the end, so a failure or an interruption never leaves half-written files that a later
build would trust. See docs/pipeline.md.

The modules follow the seams:

* :mod:`.files` – content hashes, walks, atomic moves;
* :mod:`.params` – the notebook's parameters cell and the resolved, validated parameters;
* :mod:`.cache` – cache keys and the manifest;
* :mod:`.execute` – running one notebook in staging and moving its outputs into place;
* :mod:`.warm` – kernels started, with their setup cell's imports, while a core is idle;
* :mod:`.engine` – the papermill engine: nbclient's, saving a running notebook less often;
* :mod:`.orchestrate` – the build, the lock, `run_step` and `python -m tillit.build.pipeline`.

Heavy imports (papermill, nbclient, psutil, pandas) are deferred to the moment they are
needed, so a no-op rebuild stays well under a second.
"""
from __future__ import annotations

from tillit.build.pipeline.cache import (
    KEY_VERSION,
    MANIFEST_NAME,
    MERGED_LOGS,
    cells_digest,
    environment_hash,
    input_hashes,
    key_parts,
    manifest_path,
    package_hash,
    read_manifest,
    record_render,
    step_key,
)
from tillit.build.pipeline.execute import (
    STAGING_DIR,
    BuildLockedError,
    PipelineError,
    StepResult,
    run_notebook,
)
from tillit.build.pipeline.files import file_sha256, tree_hashes
from tillit.build.pipeline.orchestrate import LOCK_NAME, build, main, run_step
from tillit.build.pipeline.params import KERNEL_NAME, is_prepare_step, notebook_parameters, resolve_parameters
from tillit.config import load_pipeline, load_run_params

__all__ = [
    "KEY_VERSION", "KERNEL_NAME", "LOCK_NAME", "MANIFEST_NAME", "MERGED_LOGS", "STAGING_DIR",
    "BuildLockedError", "PipelineError", "StepResult",
    "build", "cells_digest", "environment_hash", "file_sha256", "input_hashes", "is_prepare_step",
    "key_parts", "load_pipeline", "load_run_params", "main", "manifest_path", "notebook_parameters",
    "package_hash", "read_manifest", "record_render", "resolve_parameters", "run_notebook", "run_step",
    "step_key", "tree_hashes",
]
