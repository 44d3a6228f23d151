"""The engine (and the data layer, once it exists) import without Qt (STYLE.md point 1, R9)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_engine_imports_without_qt():
    modules = ["explorer.engine"]
    if (ROOT / "explorer" / "data" / "__init__.py").exists():
        modules.append("explorer.data")
    probe = (f"import sys; import {', '.join(modules)}; "
             "bad = [m for m in ('PySide6', 'pyqtgraph') if m in sys.modules]; "
             "assert not bad, bad; print('ok')")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_probe_can_fail():
    """Negative control: the same probe does notice a Qt import (if Qt is installed)."""
    if importlib.util.find_spec("PySide6") is None:
        pytest.skip("PySide6 is not installed: nothing to detect")
    probe = ("import sys, PySide6; "
             "bad = [m for m in ('PySide6', 'pyqtgraph') if m in sys.modules]; assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=120)
    assert done.returncode != 0
