"""Importing the package changes nothing process-wide; configure_process() does, explicitly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "EXPLORER_BLAS_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_engine_sets_nothing():
    out = _run("import os, explorer.engine; print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    assert out == "None"


def test_configure_process_sets_one_blas_thread_and_is_idempotent():
    out = _run("import os\nfrom explorer.runtime import configure_process\n"
               "configure_process(); configure_process()\n"
               "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    assert out == "1 1"


def test_the_user_choice_of_threads_wins():
    out = _run("import os\nos.environ['EXPLORER_BLAS_THREADS'] = '2'\n"
               "from explorer.runtime import blas_threads_wanted, configure_process\n"
               "configure_process(); print(blas_threads_wanted(), os.environ['OPENBLAS_NUM_THREADS'])")
    assert out == "2 2"
