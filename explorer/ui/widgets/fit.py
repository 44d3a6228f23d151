"""Helpers that keep the window usable on a small screen (1024×640 and up)."""

from __future__ import annotations

from PySide6 import QtWidgets


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a frameless, resizable scroll area: a column of fixed-height panels then
    scrolls instead of imposing its height on the whole window."""
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area
