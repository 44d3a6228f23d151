"""Map the top-level resources/ folder into the wheel as explorer/_resources.

Everything else lives in pyproject.toml; this hook exists only because resources/ is not
inside the package (DESIGN.md fixes the top-level layout).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "explorer" / "_resources"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(HERE / "resources", target, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithResources})
