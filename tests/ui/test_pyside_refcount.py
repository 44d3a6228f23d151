"""Regression guard for DESIGN.md's known hazard: PySide6 6.12.0 on CPython 3.11 drops
references to True (every Signal.emit) and None (QObject.property of an unset name, which
pyqtgraph's PlotDataItem.setData calls); a live app then aborts in bool/none_dealloc."""

import sys

from PySide6 import QtCore


class _Emitter(QtCore.QObject):
    fired = QtCore.Signal(int)


def test_signals_and_property_keep_true_and_none_alive(qtbot):
    emitter = _Emitter()
    got = []
    emitter.fired.connect(got.append)
    obj = QtCore.QObject()
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(20_000):
        emitter.fired.emit(i)
        assert obj.property("unset_name") is None
    assert len(got) == 20_000
    # immortal objects (3.12+) report a huge constant; on 3.11 a leak of 1 per call shows here
    assert sys.getrefcount(True) >= true_before - 100
    assert sys.getrefcount(None) >= none_before - 100


def test_installed_pyside_respects_the_pin():
    """On CPython 3.11 the project pins PySide6-Essentials below 6.12 (pyproject.toml)."""
    import PySide6

    major, minor = (int(p) for p in PySide6.__version__.split(".")[:2])
    if sys.version_info < (3, 12):
        assert (major, minor) < (6, 12), f"PySide6 {PySide6.__version__} crashes on Python 3.11"
    else:
        assert (major, minor) >= (6, 7)
