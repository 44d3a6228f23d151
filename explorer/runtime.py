"""Process-wide settings, applied explicitly by the entry points (the window, the command line,
the test suite) — never as a side effect of importing a module.

``configure_process()``:
- BLAS threads. The engine's matrix products are small (at most ~100 x 12,544), and with a
  second busy thread (the GUI, a training worker, another process) multi-threaded OpenBLAS
  spin-waits: a batch-64 training step measured a 10x worse median, and small matmuls were
  100-500x slower on a busy 2-core machine. So BLAS gets ``EXPLORER_BLAS_THREADS`` or
  ``OPENBLAS_NUM_THREADS`` threads, default 1: through the environment when numpy is not
  loaded yet, and on the loaded OpenBLAS library otherwise.
- Allocator (glibc): malloc's trim/mmap thresholds are raised, otherwise every ~2 MB im2col
  buffer is returned to the OS when freed and page-faulted back on the next step (2-3x slower
  training measured here; PyTorch avoids the same cost with its caching allocator). Opt out
  with ``EXPLORER_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import os
import sys

_done = False
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_original_env: dict[str, str | None] = {}


def blas_threads_wanted() -> int:
    raw = os.environ.get("EXPLORER_BLAS_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or "1"
    try:
        return max(1, int(raw))
    except ValueError:
        return 1


def _openblas_call(names: tuple[str, ...], *args: int) -> int | None:
    """Call the first of ``names`` found in the OpenBLAS that numpy loaded (its symbols differ
    between builds); None if no OpenBLAS is loaded or none of them is there."""
    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "openblas" in line and ".so" in line}
        for path in libs:
            lib = ctypes.CDLL(path)
            for name in names:
                if hasattr(lib, name):
                    return int(getattr(lib, name)(*args) or 0)
    except OSError:
        pass
    return None


def set_blas_threads(n: int) -> bool:
    """Set the thread count of the OpenBLAS that numpy loaded; False if none is loaded."""
    return _openblas_call(("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                           "openblas_set_num_threads"), int(n)) is not None


def blas_threads() -> int:
    """The thread count of the OpenBLAS that numpy loaded, else what the app asks for."""
    got = _openblas_call(("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                          "openblas_get_num_threads"))
    return max(1, got) if got is not None else blas_threads_wanted()


def keep_freed_memory() -> bool:
    """Raise glibc malloc's trim/mmap thresholds; False where not applicable or opted out."""
    if os.environ.get("EXPLORER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MB of freed heap
    mallopt(-3, 32 << 20)   # M_MMAP_THRESHOLD: blocks < 32 MB come from the heap
    return True


def configure_process() -> None:
    """Apply the settings above once per process (idempotent)."""
    global _done
    if _done:
        return
    _done = True
    n = str(blas_threads_wanted())
    for var in _THREAD_VARS:
        _original_env[var] = os.environ.get(var)
        os.environ.setdefault(var, n)
    if "numpy" in sys.modules:
        set_blas_threads(int(n))
    keep_freed_memory()


def unconfigured_environ() -> dict[str, str]:
    """This process's environment as it was before ``configure_process()`` pinned the thread
    variables: for child processes that must run at their own defaults (e.g. PyTorch in the
    benchmark, whose default thread count follows OMP_NUM_THREADS)."""
    env = dict(os.environ)
    for var, value in _original_env.items():
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    return env
