"""The Digit Lab's actions and layout: toolbar, canvas column, layer column, right column.

``make_actions(lab)`` and ``build(lab)`` set the widgets as attributes of the lab (the names
tests and other modules use: ``lab.canvas``, ``lab.layers``, ``lab.kernels``, ``lab.prob_panel``,
``lab.inspector``, ``lab.right_tabs`` ...); ``rebuild_columns(lab)`` after a new architecture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.pen_reader import SHIPPED
from explorer.ui.digit.feature_maps import KernelColumn, LayerColumn
from explorer.ui.digit.inspector import InspectorPanel
from explorer.ui.digit.keep import KeepBar
from explorer.ui.digit.pen_gates import PenGatesPanel
from explorer.ui.digit.pen_time import PenTimePanel
from explorer.ui.digit.pen_trajectory import PenTrajectoryPanel
from explorer.ui.digit.steady import SteadySplitter
from explorer.ui.help.pen import PAGES
from explorer.ui.widgets.colors import SCOPES, ScaleLegend, diverging
from explorer.ui.widgets.fit import scrolled
from explorer.ui.widgets.fold import FoldingSplitter
from explorer.ui.widgets.howto import HowToButton
from explorer.ui.widgets.mosaic import MosaicPanel
from explorer.ui.widgets.probabilities import ProbabilityPanel

if TYPE_CHECKING:
    from collections.abc import Callable

    from explorer.ui.digit.lab import DigitLab

GRAY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])


def _action(lab: DigitLab, text: str, slot: Callable[..., object],
            shortcut: str | QtGui.QKeySequence | QtGui.QKeySequence.StandardKey | QtCore.Qt.Key | None = None,
            checkable: bool = False, tip: str = "") -> QtGui.QAction:
    act = QtGui.QAction(text, lab)
    if shortcut is not None:
        act.setShortcut(QtGui.QKeySequence(shortcut))
        act.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
    act.setCheckable(checkable)
    act.setToolTip(tip or text)
    (act.toggled if checkable else act.triggered).connect(slot)
    lab.addAction(act)
    return act


def make_actions(lab: DigitLab) -> None:
    lab.undo_action = _action(lab, "Undo stroke", lab.undo, QtGui.QKeySequence.StandardKey.Undo)
    lab.redo_action = _action(lab, "Redo stroke", lab.redo, "Ctrl+Shift+Z")
    lab.clear_action = _action(lab, "Clear", lab.clear, QtCore.Qt.Key.Key_Delete, tip="Clear the canvas (Delete)")
    lab.eraser_action = _action(lab, "Eraser", lab._on_eraser, "E", True, "Eraser: cut strokes where it passes (E)")
    lab.wider_action = _action(lab, "Wider pen", lambda: lab.set_pen_width(lab.canvas.pen_width + 3), "]")
    lab.narrower_action = _action(lab, "Narrower pen", lambda: lab.set_pen_width(lab.canvas.pen_width - 3), "[")
    lab.saliency_action = _action(lab, "Saliency", lab._on_saliency, "S", True,
                                  "Colour the pixels that push the top class up (red) or down (blue)")
    lab.winners_action = _action(lab, "Pool winners", lab._on_winners, "W", True,
                                 "Darken, on each conv/ReLU map, the cells the next max-pool keeps")


def _left_column(lab: DigitLab) -> QtWidgets.QWidget:
    tools = QtWidgets.QToolBar()
    tools.setIconSize(QtCore.QSize(16, 16))
    for act in (lab.undo_action, lab.redo_action, lab.clear_action, lab.eraser_action):
        tools.addAction(act)
    lab.pen_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
    lab.pen_slider.setRange(4, 40)
    lab.pen_slider.setValue(int(lab.canvas.pen_width))
    lab.pen_slider.setToolTip("Pen width (on the canvas; the network always sees an MNIST-like pen)")
    lab.pen_slider.valueChanged.connect(lab.set_pen_width)
    pen_row = QtWidgets.QHBoxLayout()
    pen_row.addWidget(QtWidgets.QLabel("pen width"))
    pen_row.addWidget(lab.pen_slider, 1)

    lab.input_panel = MosaicPanel("network input", (
        "Your drawing preprocessed like MNIST: white ink on black, longer side 20 px,\n"
        "centre of mass at the centre of a 28×28 field. This is the network's input."),
        1, 28, 28, 1, GRAY, (0.0, 1.0))
    lab.saliency_panel = MosaicPanel("saliency", (
        "Gradient of the top class's score (logit) with respect to each input pixel,\n"
        "from the engine's backward pass: red pixels push that class up, blue push it down."),
        1, 28, 28, 1, diverging())
    lab.saliency_panel.setVisible(False)
    seen = QtWidgets.QHBoxLayout()
    seen.addWidget(lab.input_panel)
    seen.addWidget(lab.saliency_panel)

    lab.legend = ScaleLegend()
    lab.scope_box = QtWidgets.QComboBox()
    for key, text in SCOPES.items():
        lab.scope_box.addItem(text, key)
    lab.scope_box.setCurrentIndex(list(SCOPES).index(lab.scope))
    lab.scope_box.setToolTip("Divide values by the largest |value| of each map, each layer, or the whole network")
    lab.scope_box.currentIndexChanged.connect(lambda _: lab.set_scope(lab.scope_box.currentData()))
    scale_row = QtWidgets.QHBoxLayout()
    scale_row.addWidget(QtWidgets.QLabel("colour scale"))
    scale_row.addWidget(lab.scope_box)
    toggles = QtWidgets.QHBoxLayout()
    for act in (lab.saliency_action, lab.winners_action):
        box = QtWidgets.QCheckBox(act.text())
        box.setToolTip(act.toolTip())
        box.toggled.connect(act.setChecked)
        act.toggled.connect(box.setChecked)
        toggles.addWidget(box)
    toggles.addStretch(1)

    left = lab.left = QtWidgets.QWidget()
    left.installEventFilter(lab)
    lv = QtWidgets.QVBoxLayout(left)
    lv.setContentsMargins(4, 4, 4, 4)
    lv.addWidget(tools)
    lv.addWidget(lab.canvas)
    lv.addLayout(pen_row)
    # -- my examples (issue 12): keep the drawing as an example, the gallery --
    lab.keeper = KeepBar(lab.session)
    lab.keeper.status.connect(lab.status)
    lab.keeper.gallery_requested.connect(lab.show_gallery)
    lab.canvas.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)   # so digit keys reach the lab
    lv.addWidget(lab.keeper)
    lv.addLayout(seen, 1)
    lv.addLayout(scale_row)
    lv.addWidget(lab.legend)
    lv.addLayout(toggles)
    return left


def build(lab: DigitLab) -> None:
    left = _left_column(lab)
    lab.layers = LayerColumn(lab.session.stages)
    lab.layers.cell_clicked.connect(lab.inspect)
    lab.kernels = KernelColumn(lab.session.model)
    lab.layer_scroll = QtWidgets.QScrollArea()
    lab.layer_scroll.setWidgetResizable(True)
    lab.layer_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    lab.layer_scroll.setWidget(lab.layers)

    lab.prob_panel = ProbabilityPanel(title="<b>CNN prediction</b> · reads the picture · softmax over 10 classes")
    lab.inspector = InspectorPanel()
    lab.inspector.worked_conv_requested.connect(lambda: lab.show_worked("conv"))
    lab.inspector.worked_pool_requested.connect(lambda: lab.show_worked("pool"))
    lab.right_tabs = QtWidgets.QTabWidget()
    lab.right_tabs.addTab(lab.inspector, "inspector")
    lab.right_tabs.addTab(scrolled(lab.kernels), "kernels")   # the learned kernels; scroll for a deep net
    lab.right_splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    lab.right_splitter.addWidget(lab.prob_panel)
    lab.right_splitter.addWidget(lab.right_tabs)
    lab.right_splitter.setStretchFactor(0, 1)     # a shorter window shrinks both: the prediction goes
    lab.right_splitter.setStretchFactor(1, 2)     # compact, the tabs keep most of the room
    lab.right_splitter.setSizes([250, 610])     # a short window: the prediction goes compact (≥ 160 px)
    SteadySplitter(lab.right_splitter)          # the prediction's new text stops at its panel

    lab.middle_tabs = QtWidgets.QTabWidget()
    lab.middle_tabs.setObjectName("digitMiddleTabs")
    lab.middle_tabs.addTab(lab.layer_scroll, "CNN layers")
    lab.middle_tabs.addTab(scrolled(_pen_page(lab)), "pen RNN")   # scrolls only below ~170 px
    lab.middle_tabs.setTabToolTip(0, "The CNN reads the picture: every layer's maps, live")
    lab.middle_tabs.setTabToolTip(1, "The pen RNN reads the pen as it moves: its probabilities over pen time\n"
                                     "beside the CNN's, its hidden state and its gates, live")
    lab.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
    for w in (left, lab.middle_tabs, lab.right_splitter):
        lab.splitter.addWidget(w)
    lab.splitter.setStretchFactor(1, 1)
    lab.splitter.setStretchFactor(2, 1)     # a narrower window shrinks the maps and the right column alike
    lab.splitter.setSizes([350, 570, 480])
    SteadySplitter(lab.splitter)            # a new text in a panel no longer repaints the whole window
    lay = QtWidgets.QVBoxLayout(lab)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(lab.splitter)


def _pen_page(lab: DigitLab) -> QtWidgets.QWidget:
    """The pen RNN's page: its model, probabilities over pen time (both readers), state and gates."""
    lab.pen_combo = QtWidgets.QComboBox()
    lab.pen_combo.setToolTip("The pen model reading the drawing (File → Open model… adds one)")
    for label in SHIPPED:
        lab.pen_combo.addItem(label, label)
    lab.pen_combo.setMinimumContentsLength(5)
    lab.pen_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    lab.pen_note = QtWidgets.QLabel()                 # "⚠ untrained", the reason in its tooltip
    lab.pen_note.setStyleSheet("color:#b35900")
    lab.pen_note.setMinimumWidth(10)
    lab.pen_help = HowToButton("pen RNN", PAGES["reader"], compact=True)
    lab.pen_time = PenTimePanel()
    lab.pen_trajectory = PenTrajectoryPanel()
    lab.pen_gates = PenGatesPanel()
    top = QtWidgets.QHBoxLayout()
    top.setContentsMargins(4, 2, 4, 0)
    which = QtWidgets.QLabel("pen model")
    which.setMinimumWidth(1)
    top.addWidget(which)
    top.addWidget(lab.pen_combo)
    top.addWidget(lab.pen_note, 1)
    top.addWidget(lab.pen_help)
    lab.pen_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    lower = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
    lower.addWidget(lab.pen_trajectory)
    lower.addWidget(lab.pen_gates)
    lower.setChildrenCollapsible(False)          # unfolded, neither comes back at zero width
    lab.pen_trajectory.setWindowTitle("hidden state")     # their tabs' titles when the rows fold
    lab.pen_gates.setWindowTitle("gates")
    lab.pen_split.addWidget(lab.pen_time)
    lab.pen_split.addWidget(lower)
    lab.pen_split.setStretchFactor(0, 5)
    lab.pen_split.setStretchFactor(1, 4)
    SteadySplitter(lab.pen_split)           # a new readout text no longer repaints the whole page
    SteadySplitter(lower)
    # a narrow or short middle column (1024x640): the state and the gates fold into tabs
    # under the probabilities, each readable, instead of squashing side by side
    lab.pen_fold = FoldingSplitter(lab.pen_split, QtCore.QSize(330, 560), pinned=1, proportions=[5, 4])
    page = QtWidgets.QWidget()
    page.setObjectName("penPage")
    lay = QtWidgets.QVBoxLayout(page)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    lay.addLayout(top)
    lay.addWidget(lab.pen_fold, 1)
    return page


def rebuild_columns(lab: DigitLab) -> None:
    """A new architecture: new layer and kernel columns (the drawing and the rest stay)."""
    old_layers = lab.layer_scroll.takeWidget()
    if old_layers is not None:
        old_layers.deleteLater()
    lab.layers = LayerColumn(lab.session.stages)
    lab.layers.cell_clicked.connect(lab.inspect)
    lab.layer_scroll.setWidget(lab.layers)
    old = lab.right_tabs.widget(1)                 # the kernels' scroll area
    lab.right_tabs.removeTab(1)
    if old is not None:
        old.deleteLater()
    lab.kernels = KernelColumn(lab.session.model)
    lab.right_tabs.insertTab(1, scrolled(lab.kernels), "kernels")


def panels(lab: DigitLab) -> dict[str, QtWidgets.QWidget]:
    """Exportable panels by title."""
    out: dict[str, QtWidgets.QWidget] = {"canvas": lab.canvas, "network input": lab.input_panel,
                                         "prediction": lab.prob_panel, "inspector": lab.inspector,
                                         "probabilities over pen time": lab.pen_time,
                                         "pen RNN hidden state": lab.pen_trajectory,
                                         "pen RNN gates": lab.pen_gates}
    for st in lab.session.stages:
        out[st.title] = lab.layers.panels[st.name]
    for p in lab.kernels.panels:
        out[p.title.text().replace("<b>", "").replace("</b>", "")] = p
    return out


def save_settings(lab: DigitLab, s: QtCore.QSettings) -> None:
    s.setValue("digits/pen_width", float(lab.canvas.pen_width))
    s.setValue("digits/scope", lab.scope)
    s.setValue("digits/saliency", lab.saliency_action.isChecked())
    s.setValue("digits/winners", lab.winners_action.isChecked())
    s.setValue("digits/splitter", lab.splitter.saveState())
    s.setValue("digits/right_splitter", lab.right_splitter.saveState())
    s.setValue("digits/middle_tab", lab.middle_tabs.currentIndex())
    s.setValue("digits/pen_model", lab.pen_source)
    s.setValue("digits/pen_target", -1 if lab.pen.target is None else int(lab.pen.target))


def restore_settings(lab: DigitLab, s: QtCore.QSettings) -> list[tuple[QtWidgets.QSplitter, QtCore.QByteArray]]:
    """Apply saved settings; returns the splitter states to apply again once laid out."""
    as_bool = lambda v: str(v).lower() in ("true", "1")  # noqa: E731 (INI stores text)
    if s.value("digits/pen_width") is not None:
        lab.set_pen_width(float(s.value("digits/pen_width")))
    lab.set_scope(str(s.value("digits/scope", lab.scope)))
    lab.saliency_action.setChecked(as_bool(s.value("digits/saliency", False)))
    lab.winners_action.setChecked(as_bool(s.value("digits/winners", False)))
    tab = s.value("digits/middle_tab")
    if tab is not None and str(tab).lstrip("-").isdigit() and 0 <= int(tab) < lab.middle_tabs.count():
        lab.middle_tabs.setCurrentIndex(int(tab))
    target = s.value("digits/pen_target")
    if target is not None and str(target).lstrip("-").isdigit() and -1 <= int(target) <= 9:
        lab.set_pen_target(None if int(target) < 0 else int(target))
    source = s.value("digits/pen_model")
    if isinstance(source, str) and source and source != lab.pen_source:
        lab.restore_pen_model(source)
    pending = []
    for key, split in (("digits/splitter", lab.splitter), ("digits/right_splitter", lab.right_splitter)):
        v = s.value(key)
        if isinstance(v, QtCore.QByteArray):
            split.restoreState(v)
            pending.append((split, v))
    return pending


def show_gallery(lab: DigitLab) -> QtWidgets.QDialog | None:
    """The examples gallery (issue 12), built once and reloaded on later calls."""
    if lab.keeper.folder is None:
        lab.status.emit("no folder for examples is set")
        return None
    from explorer.ui.digit.gallery import GalleryWindow
    if lab.gallery is None:
        gallery = lab.gallery = GalleryWindow(lab.keeper.folder, lambda: lab.session.model, lab)
        gallery.status.connect(lab.status)
        lab.keeper.kept.connect(lambda _ex: gallery.reload() if gallery.isVisible() else None)
    else:
        lab.gallery.reload()
    lab.gallery.show()
    return lab.gallery


def model_label(lab: DigitLab) -> str:
    """Lab protocol: a warning, where the model comes from, or its name and held-out accuracy."""
    if lab._notice:
        return f"<span style='color:#b35900'>⚠ {lab._notice}</span>"
    if lab._source:
        return f"digit model: <b>{lab._source}</b>"
    meta = getattr(lab.session.model, "meta", {})
    acc = meta.get("val_acc")
    held = f" · {100 * float(acc):.1f}% on held-out digits" if acc is not None else ""
    pen = lab.pen_combo.currentText() or "pen RNN"
    return f"digit model: <b>{meta.get('name', meta.get('arch', 'CNN'))}</b>{held} · pen: <b>{pen}</b>"
