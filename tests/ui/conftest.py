"""GUI test fixtures: offscreen Qt, pyqtgraph fast-path options, tiny random models."""

import os
import tempfile

os.environ["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM") or "offscreen"
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="explorer-cfg-"))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _pyqtgraph_config():
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)


def tiny_cnn(seed: int = 0):
    """Conv2d(1,2,3,p=1) ReLU MaxPool2d(2) Conv2d(2,3,3,p=1) ReLU MaxPool2d(2) Flatten Linear(147,8) ReLU Linear(8,10)."""
    from explorer.engine import Conv2d, Flatten, Linear, MaxPool2d, Model, ReLU

    rng = np.random.default_rng(seed)
    return Model([Conv2d(1, 2, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                  Conv2d(2, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                  Linear(147, 8, rng=rng), ReLU(), Linear(8, 10, rng=rng)])


@pytest.fixture
def model():
    return tiny_cnn(0)


@pytest.fixture
def ini(tmp_path):
    return str(tmp_path / "explorer.ini")


def settings_at(path: str) -> QtCore.QSettings:
    return QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)


def seven_points():
    """A '7' in reference units (280 across): top bar then the diagonal."""
    a = [(80 + t, 60) for t in np.linspace(0, 120, 25)]
    b = [(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 35)]
    return a + b


def draw(qtbot, canvas, points):
    """A real stroke: press, one mouseMove per point, release (left button)."""
    left = QtCore.Qt.MouseButton.LeftButton
    qtbot.mousePress(canvas, left, pos=canvas.from_ref(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, canvas.from_ref(*p))
    qtbot.mouseRelease(canvas, left, pos=canvas.from_ref(*points[-1]))


def grab_rgb(widget: QtWidgets.QWidget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return arr[: img.height(), : img.width(), :3].copy()


def argb(img: QtGui.QImage) -> np.ndarray:
    """An image's pixels as (height, width) 0xAARRGGBB words, to compare two paints exactly."""
    img = img.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    a = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return a[:, :img.width()].copy()


def shown(qtbot, widget, width: int, height: int):
    """Hand ``widget`` to qtbot, resize it, show it and wait until it is exposed -> widget."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    with qtbot.waitExposed(widget):
        widget.show()
    return widget


@pytest.fixture
def sequence_lab(qtbot):
    """A shown 1200x800 Sequence Lab (no settings), closed afterwards."""
    from explorer.ui.sequence import SequenceLab

    w = shown(qtbot, SequenceLab(settings=None), 1200, 800)
    yield w
    w.close()


@pytest.fixture
def digit_lab(qtbot, model):
    """A shown 1300x850 Digit Lab on the tiny CNN."""
    from explorer.ui.digit.lab import DigitLab

    return shown(qtbot, DigitLab(model), 1300, 850)


@pytest.fixture
def ui():
    """Helpers for GUI tests: ui.draw(qtbot, canvas, pts), ui.grab_rgb(w), ui.seven_points(),
    ui.shown(qtbot, widget, width, height)."""
    import types
    return types.SimpleNamespace(draw=draw, grab_rgb=grab_rgb, seven_points=seven_points,
                                 settings_at=settings_at, tiny_cnn=tiny_cnn, shown=shown)
