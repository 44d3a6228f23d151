"""A regular (non-editable) install finds the shipped resources: build the wheel offline and look inside."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_resources_and_paths_resolves_them(tmp_path):
    pytest.importorskip("setuptools")
    out = tmp_path / "wheel"
    # Build from a copy: building in the checkout writes build/ and *.egg-info there, and two
    # Pythons testing the same checkout at once would trip over each other's build folder.
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    for name in ("explorer", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    wheels = list(out.glob("cnn_rnn_explorer-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    shipped = sorted(p.relative_to(ROOT / "resources").as_posix()
                     for p in (ROOT / "resources").rglob("*") if p.is_file())
    assert shipped, "resources/ is empty"
    for rel in shipped:
        assert f"explorer/_resources/{rel}" in names
    # The installed copy resolves its own resources, not the checkout's.
    probe = "import explorer.paths as p; print(p.models_dir())"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site"), "PATH": ""})
    assert res.returncode == 0, res.stderr
    assert Path(res.stdout.strip()) == tmp_path / "site" / "explorer" / "_resources" / "models"
    assert "explorer/cli.py" in names and "explorer/engine/model.py" in names
