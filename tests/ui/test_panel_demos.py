"""Every Digit Lab panel module runs alone with demo data (``python -m explorer.ui.digit.<panel>``).

Each module's ``demo()`` builder (or the one its ``__main__`` block runs) builds its widget
offscreen here; the event loop is not started.
"""

import importlib
import runpy
import sys

import numpy as np
import pytest
from PySide6 import QtWidgets

from explorer.ui.digit import demo as demo_data
from explorer.ui.digit import lab_demo
from explorer.ui.widgets import demo as widget_demo

BUILDERS = [
    ("explorer.ui.digit.feature_maps", "demo"),
    ("explorer.ui.digit.inspector", "demo"),
    ("explorer.ui.digit.gallery", "demo"),
    ("explorer.ui.digit.keep", "demo"),
    ("explorer.ui.digit.dream_panel", "demo"),
    ("explorer.ui.digit.edit_panel", "demo"),
    ("explorer.ui.digit.evidence", "demo"),
    ("explorer.ui.digit.replay", "demo"),
    ("explorer.ui.digit.sweep_panel", "demo"),
    ("explorer.ui.widgets.probabilities", "demo"),
    ("explorer.ui.digit.pen_time", "demo"),
    ("explorer.ui.digit.pen_trajectory", "demo"),
    ("explorer.ui.digit.pen_gates", "demo"),
    ("explorer.ui.digit.order_panel", "demo"),
    ("explorer.ui.digit.canvas", "demo"),
    ("explorer.ui.digit.lab_demo", "demo"),
]


@pytest.mark.parametrize(("module", "name"), BUILDERS)
def test_demo_builds_its_panel(qtbot, module, name):
    widget = getattr(importlib.import_module(module), name)()
    qtbot.addWidget(widget)
    assert isinstance(widget, QtWidgets.QWidget)
    widget.show()
    assert widget.isVisible() and widget.width() > 50 and widget.height() > 20


def test_demo_lab_shows_the_demo_digit(qtbot):
    lab = lab_demo.demo()
    qtbot.addWidget(lab)
    probs = lab.probabilities()
    assert probs is not None and int(np.argmax(probs)) == 7      # the shipped model reads the '7'
    assert lab.saliency_action.isChecked() and lab.view.saliency_rgba is not None   # saliency on, on the canvas


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # runpy: the module was imported before
def test_each_panel_module_runs_its_demo_as_main(monkeypatch):
    """``python -m <module>`` calls run(<its builder>): checked without starting the event loop."""
    called = []
    for runner in (demo_data, widget_demo):        # a shared widget's demo runs through ui/widgets
        monkeypatch.setattr(runner, "run", lambda build: called.append(build) or 0)
    for module in {m for m, _ in BUILDERS}:
        saved = sys.modules.get(module)
        with pytest.raises(SystemExit):
            runpy.run_module(module, run_name="__main__")
        if saved is not None:
            sys.modules[module] = saved
    assert len(called) == len(BUILDERS)
