"""A picker of the input transforms (shift, rotate, scale, thickness): the Digit Lab's sweep
and Compare's tolerance curves offer the same list, each transform with its unit."""

from __future__ import annotations

from PySide6 import QtWidgets

from explorer.analysis.transforms import TRANSFORMS, unit_of


def transform_combo() -> QtWidgets.QComboBox:
    """A picker of the input transforms, each with its unit; its data is the transform's name."""
    combo = QtWidgets.QComboBox()
    for name in TRANSFORMS:
        combo.addItem(f"{name} ({unit_of(name)})", name)
    return combo
