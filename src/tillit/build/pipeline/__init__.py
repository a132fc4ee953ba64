"""The pipeline runner (moving to a package; this commit only renames the module)."""
from tillit.build.pipeline.execute import *  # noqa: F401,F403
from tillit.build.pipeline.execute import (  # noqa: F401 - private names tests use
    PACKAGE_DIR, _acquire_lock, _execute_with_retry, _merge_log, KERNEL_START_ATTEMPTS, main,
)
