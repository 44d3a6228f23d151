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


def test_children_can_get_the_environment_before_the_threads_were_pinned():
    """The benchmark runs PyTorch in a child at its own defaults: the thread variables that
    configure_process() added are absent there, and one the user set keeps the user's value."""
    out = _run("import os\nos.environ['MKL_NUM_THREADS'] = '3'\n"
               "from explorer.runtime import configure_process, unconfigured_environ\n"
               "configure_process(); env = unconfigured_environ()\n"
               "print(os.environ['OMP_NUM_THREADS'], env.get('OMP_NUM_THREADS'), env.get('OPENBLAS_NUM_THREADS'),"
               " os.environ['MKL_NUM_THREADS'], env['MKL_NUM_THREADS'])")
    assert out == "1 None None 3 3"


def test_the_torch_benchmark_child_runs_at_torch_default_threads():
    import pytest
    pytest.importorskip("torch")
    out = _run("import json, torch\nfrom explorer.runtime import configure_process\nconfigure_process()\n"
               "from explorer.commands.bench import torch_rows\n"
               "print(json.dumps([torch_rows(True)['threads'], torch_rows(True, threads=1)['threads']]))")
    import json
    default, one = json.loads(out.splitlines()[-1])
    assert one == 1.0
    assert default == float(_run("import torch; print(torch.get_num_threads())"))  # a plain process
