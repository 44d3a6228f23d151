"""Where shipped resources live, for a source checkout and for an installed wheel alike.

The repository keeps models in a top-level ``resources/`` folder; the wheel maps that
folder into the package as ``explorer/_resources`` (see ``setup.py``). This module is the
one place that knows both spellings.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The folder holding ``models/`` and icons: packaged copy first, then the checkout's."""
    packaged = _PACKAGE_DIR / "_resources"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "resources"


def models_dir() -> Path:
    return resources_dir() / "models"


def model_path(name: str) -> Path:
    """Path of a shipped model file, e.g. ``model_path("digits_cnn.npz")``."""
    return models_dir() / name
