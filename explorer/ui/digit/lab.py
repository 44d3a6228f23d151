"""DigitLab: canvas, what the network sees, every layer live, prediction, inspector.

A pen movement: the canvas extends the session's stroke and the lab submits the session's
version to ``LatestFrame``; at most once per frame the lab builds a ``DigitView``
(``digit_view.build_view``) and routes its fields to the panels (it computes nothing itself);
stale frames are dropped. A move after a quiet frame interval is drawn inside its own event, so
the canvas's new ink and every panel repaint in one window update. The model changes only
through the session, which tells its listeners (the lab). The lab composes: it builds its
actions, three columns and the pen page, lays them out and connects them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.cnn_explain import worked_conv_example, worked_pool_example
from explorer.engine import Model
from explorer.session.digit_view import DigitView, build_view
from explorer.session.digits import DigitReading, DigitSession, Stage
from explorer.session.pen_reader import SHIPPED, NotAPenModel, PenLive, PenView, load_pen_model
from explorer.ui.digit.canvas import DigitCanvas, load_ink
from explorer.ui.digit.experiments import DigitExperiments
from explorer.ui.digit.feature_maps import KernelColumn, LayerColumn
from explorer.ui.digit.inspector import InspectorPanel
from explorer.ui.digit.keep import KeepBar
from explorer.ui.digit.pen_gates import PenGatesPanel
from explorer.ui.digit.pen_time import PenTimePanel
from explorer.ui.digit.pen_trajectory import PenTrajectoryPanel
from explorer.ui.digit.steady import SteadySplitter
from explorer.ui.help.pen import PAGES
from explorer.ui.widgets.colors import SCOPES, ScaleLegend, diverging
from explorer.ui.widgets.export import grab_png, save_image, save_npz
from explorer.ui.widgets.fit import scrolled
from explorer.ui.widgets.fold import FoldingSplitter
from explorer.ui.widgets.guard import RenderGuard
from explorer.ui.widgets.howto import HowToButton
from explorer.ui.widgets.latest import LatestFrame
from explorer.ui.widgets.mosaic import MosaicPanel
from explorer.ui.widgets.probabilities import ProbabilityPanel
from explorer.ui.widgets.report import report_error

if TYPE_CHECKING:
    from explorer.ui.digit.gallery import GalleryWindow

GRAY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])


def _rect(r: tuple[float, float, float, float] | None) -> QtCore.QRectF | None:
    return None if r is None else QtCore.QRectF(*r)


class _LeftColumn(QtWidgets.QWidget):
    """The left column: keeps the canvas's height to a ceiling that follows the column's size.

    Its own resizeEvent, not an event filter: a Python filter on it was called for every event
    the column gets, a paint behind each canvas stroke among them."""

    def __init__(self, canvas: DigitCanvas) -> None:
        super().__init__()
        self._canvas = canvas

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        # a ceiling, not a fixed height: a fixed one kept the window from getting smaller
        self._canvas.setMaximumHeight(max(200, int(min(self.width() - 8, self.height() * 0.58))))


class DigitLab(QtWidgets.QWidget):
    """The Digits tab. ``probabilities()`` -> (10,) float32, or None while the canvas is empty."""

    status = QtCore.Signal(str)
    model_changed = QtCore.Signal()    # Lab protocol: model_label() has a new text
    _notice: str | None = None         # model_label(): a warning (e.g. untrained model)
    _source: str | None = None         # model_label(): where the model comes from
    # called with what is about to replace a non-empty drawing (Clear, an image): the window
    # keeps a copy of the work in File → Recover (explorer.ui.shell.recover)
    before_replace: Callable[[str], object] | None = None
    # built by _make_actions, _build and _rebuild_columns
    undo_action: QtGui.QAction
    redo_action: QtGui.QAction
    clear_action: QtGui.QAction
    eraser_action: QtGui.QAction
    wider_action: QtGui.QAction
    narrower_action: QtGui.QAction
    saliency_action: QtGui.QAction
    winners_action: QtGui.QAction
    left: QtWidgets.QWidget
    pen_slider: QtWidgets.QSlider
    scope_box: QtWidgets.QComboBox
    input_panel: MosaicPanel
    saliency_panel: MosaicPanel
    legend: ScaleLegend
    keeper: KeepBar
    layers: LayerColumn
    kernels: KernelColumn
    layer_scroll: QtWidgets.QScrollArea
    prob_panel: ProbabilityPanel
    inspector: InspectorPanel
    right_tabs: QtWidgets.QTabWidget
    splitter: QtWidgets.QSplitter
    right_splitter: QtWidgets.QSplitter
    middle_tabs: QtWidgets.QTabWidget       # the CNN's feature maps | the pen RNN's page
    pen_combo: QtWidgets.QComboBox
    pen_note: QtWidgets.QLabel
    pen_help: HowToButton
    pen_time: PenTimePanel
    pen_trajectory: PenTrajectoryPanel
    pen_gates: PenGatesPanel
    pen_split: QtWidgets.QSplitter
    pen_fold: FoldingSplitter

    def __init__(self, model: Model, parent: QtWidgets.QWidget | None = None, *,
                 pen_model: Model | None = None) -> None:
        super().__init__(parent)
        self.session = DigitSession(model)
        pen_notice = None
        if pen_model is None:
            pen_model, pen_notice = load_pen_model("pen LSTM")
        self.pen = PenLive(pen_model, "pen LSTM")          # the pen RNN reading the same drawing
        self.pen_source = "pen LSTM"                       # a SHIPPED label or a model file's path
        self.pen_view: PenView | None = None
        self._pen_warm = False
        self._pen_shown: tuple[object, ...] | None = None     # what the pen panels show (see _render_pen)
        self.session.set_palette(diverging().getLookupTable(0.0, 1.0, 256, alpha=False))
        self.view: DigitView | None = None
        self._layers_view: DigitView | None = None      # the frame the layer maps show
        self._saliency_blank = False                    # the saliency panel shows zeros already
        self.last_error: str | None = None
        self.gallery: GalleryWindow | None = None
        self._pending_splits: list[tuple[QtWidgets.QSplitter, QtCore.QByteArray]] = []
        self.canvas = DigitCanvas(self.session)
        # a panel that raises never stops the next frames: said in the status, selection dropped
        self.render_guard = RenderGuard(self._render, self.status.emit, self._drop_selection)
        self.scheduler = LatestFrame(self.render_guard, fps=60, parent=self, at_once=True)
        self.pen_scheduler = LatestFrame(self._render_pen, fps=30, parent=self)   # the CNN over pen time, catching up
        self._make_actions()
        self._build()
        self.show_pen_notice(pen_notice)
        self.pen_combo.activated.connect(lambda i: self.choose_pen_model(self.pen_combo.itemData(i)))
        self.pen_time.target_changed.connect(lambda t: self.set_pen_target(None if t < 0 else t))
        self.middle_tabs.currentChanged.connect(lambda _: self._on_middle_tab())
        self._update_actions()
        self.experiments = DigitExperiments(self.session, self.current_input, lambda: self.pen.model,
                                            lambda: self.canvas.pen_width, self)
        # every panel fits the column at 1024×640 (nothing scrolls away); edits get their own tab
        self.right_tabs.addTab(self.experiments.edit_panel, "edit")
        self.right_tabs.addTab(self.experiments.tabs, "experiments")
        self.experiments.attach(self.layers, self.kernels)
        self.experiments.edited.connect(self._on_experiment_changed)
        self.experiments.drawing_replaced.connect(self._on_experiment_changed)
        self.experiments.kernel_picked.connect(lambda: self.right_tabs.setCurrentWidget(self.experiments.edit_panel))
        self.canvas.drawing_changed.connect(self._on_drawing_changed)
        self.canvas.stroke_finished.connect(self._update_actions)
        self.canvas.image_dropped.connect(self.open_image)
        self.session.listeners.add(self._on_model_changed)
        self.refresh_now()

    # -- building: actions, the three columns, the pen page ---------------------------------------
    def _action(self, text: str, slot: Callable[..., object],
                shortcut: str | QtGui.QKeySequence | QtGui.QKeySequence.StandardKey | QtCore.Qt.Key | None = None,
                checkable: bool = False, tip: str = "") -> QtGui.QAction:
        act = QtGui.QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
            act.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        act.setCheckable(checkable)
        act.setToolTip(tip or text)
        (act.toggled if checkable else act.triggered).connect(slot)
        self.addAction(act)
        return act

    def _make_actions(self) -> None:
        self.undo_action = self._action("Undo stroke", self.undo, QtGui.QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("Redo stroke", self.redo, "Ctrl+Shift+Z")
        self.clear_action = self._action("Clear", self.clear, QtCore.Qt.Key.Key_Delete, tip="Clear the canvas (Delete)")
        self.eraser_action = self._action("Eraser", self._on_eraser, "E", True, "Eraser: cut strokes where it passes (E)")
        self.wider_action = self._action("Wider pen", lambda: self.set_pen_width(self.canvas.pen_width + 3), "]")
        self.narrower_action = self._action("Narrower pen", lambda: self.set_pen_width(self.canvas.pen_width - 3), "[")
        self.saliency_action = self._action("Saliency", self._on_saliency, "S", True,
                                      "Colour the pixels that push the top class up (red) or down (blue)")
        self.winners_action = self._action("Pool winners", self._on_winners, "W", True,
                                     "Darken, on each conv/ReLU map, the cells the next max-pool keeps")

    def _left_column(self) -> QtWidgets.QWidget:
        tools = QtWidgets.QToolBar()
        tools.setIconSize(QtCore.QSize(16, 16))
        for act in (self.undo_action, self.redo_action, self.clear_action, self.eraser_action):
            tools.addAction(act)
        self.pen_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.pen_slider.setRange(4, 40)
        self.pen_slider.setValue(int(self.canvas.pen_width))
        self.pen_slider.setToolTip("Pen width (on the canvas; the network always sees an MNIST-like pen)")
        self.pen_slider.valueChanged.connect(self.set_pen_width)
        pen_row = QtWidgets.QHBoxLayout()
        pen_row.addWidget(QtWidgets.QLabel("pen width"))
        pen_row.addWidget(self.pen_slider, 1)

        self.input_panel = MosaicPanel("network input", (
            "Your drawing preprocessed like MNIST: white ink on black, longer side 20 px,\n"
            "centre of mass at the centre of a 28×28 field. This is the network's input."),
            1, 28, 28, 1, GRAY, (0.0, 1.0))
        self.saliency_panel = MosaicPanel("saliency", (
            "Gradient of the top class's score (logit) with respect to each input pixel,\n"
            "from the engine's backward pass: red pixels push that class up, blue push it down."),
            1, 28, 28, 1, diverging())
        self.saliency_panel.setVisible(False)
        seen = QtWidgets.QHBoxLayout()
        seen.addWidget(self.input_panel)
        seen.addWidget(self.saliency_panel)

        self.legend = ScaleLegend()
        self.scope_box = QtWidgets.QComboBox()
        for key, text in SCOPES.items():
            self.scope_box.addItem(text, key)
        self.scope_box.setCurrentIndex(list(SCOPES).index(self.scope))
        self.scope_box.setToolTip("Divide values by the largest |value| of each map, each layer, or the whole network")
        self.scope_box.currentIndexChanged.connect(lambda _: self.set_scope(self.scope_box.currentData()))
        scale_row = QtWidgets.QHBoxLayout()
        scale_row.addWidget(QtWidgets.QLabel("colour scale"))
        scale_row.addWidget(self.scope_box)
        toggles = QtWidgets.QHBoxLayout()
        for act in (self.saliency_action, self.winners_action):
            box = QtWidgets.QCheckBox(act.text())
            box.setToolTip(act.toolTip())
            box.toggled.connect(act.setChecked)
            act.toggled.connect(box.setChecked)
            toggles.addWidget(box)
        toggles.addStretch(1)

        left = self.left = _LeftColumn(self.canvas)
        lv = QtWidgets.QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addWidget(tools)
        lv.addWidget(self.canvas)
        lv.addLayout(pen_row)
        # -- my examples: keep the drawing as an example, the gallery --
        self.keeper = KeepBar(self.session)
        self.keeper.status.connect(self.status)
        self.keeper.gallery_requested.connect(self.show_gallery)
        self.canvas.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)   # so digit keys reach the lab
        lv.addWidget(self.keeper)
        lv.addLayout(seen, 1)
        lv.addLayout(scale_row)
        lv.addWidget(self.legend)
        lv.addLayout(toggles)
        return left

    def _build(self) -> None:
        left = self._left_column()
        self.layers = LayerColumn(self.session.stages)
        self.layers.cell_clicked.connect(self.inspect)
        self.kernels = KernelColumn(self.session.model)
        self.layer_scroll = QtWidgets.QScrollArea()
        self.layer_scroll.setWidgetResizable(True)
        self.layer_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.layer_scroll.setWidget(self.layers)

        self.prob_panel = ProbabilityPanel(title="<b>CNN prediction</b> · reads the picture · softmax over 10 classes")
        self.inspector = InspectorPanel()
        self.inspector.worked_conv_requested.connect(lambda: self.show_worked("conv"))
        self.inspector.worked_pool_requested.connect(lambda: self.show_worked("pool"))
        self.right_tabs = QtWidgets.QTabWidget()
        self.right_tabs.addTab(self.inspector, "inspector")
        self.right_tabs.addTab(scrolled(self.kernels), "kernels")   # the learned kernels; scroll for a deep net
        self.right_splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.right_splitter.addWidget(self.prob_panel)
        self.right_splitter.addWidget(self.right_tabs)
        self.right_splitter.setStretchFactor(0, 1)     # a shorter window shrinks both: the prediction goes
        self.right_splitter.setStretchFactor(1, 2)     # compact, the tabs keep most of the room
        self.right_splitter.setSizes([250, 610])     # a short window: the prediction goes compact (≥ 160 px)
        SteadySplitter(self.right_splitter)          # the prediction's new text stops at its panel

        self.middle_tabs = QtWidgets.QTabWidget()
        self.middle_tabs.setObjectName("digitMiddleTabs")
        self.middle_tabs.addTab(self.layer_scroll, "CNN layers")
        self.middle_tabs.addTab(scrolled(self._pen_page()), "pen RNN")   # scrolls only below ~170 px
        self.middle_tabs.setTabToolTip(0, "The CNN reads the picture: every layer's maps, live")
        self.middle_tabs.setTabToolTip(1, "The pen RNN reads the pen as it moves: its probabilities over pen time\n"
                                         "beside the CNN's, its hidden state and its gates, live")
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        for w in (left, self.middle_tabs, self.right_splitter):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 1)     # a narrower window shrinks the maps and the right column alike
        self.splitter.setSizes([350, 570, 480])
        SteadySplitter(self.splitter)            # a new text in a panel no longer repaints the whole window
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)

    def _pen_page(self) -> QtWidgets.QWidget:
        """The pen RNN's page: its model, probabilities over pen time (both readers), state and gates."""
        self.pen_combo = QtWidgets.QComboBox()
        self.pen_combo.setToolTip("The pen model reading the drawing (File → Open model… adds one)")
        for label in SHIPPED:
            self.pen_combo.addItem(label, label)
        self.pen_combo.setMinimumContentsLength(5)
        self.pen_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.pen_note = QtWidgets.QLabel()                 # "⚠ untrained", the reason in its tooltip
        self.pen_note.setStyleSheet("color:#b35900")
        self.pen_note.setMinimumWidth(10)
        self.pen_help = HowToButton("pen RNN", PAGES["reader"], compact=True)
        self.pen_time = PenTimePanel()
        self.pen_trajectory = PenTrajectoryPanel()
        self.pen_gates = PenGatesPanel()
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        which = QtWidgets.QLabel("pen model")
        which.setMinimumWidth(1)
        top.addWidget(which)
        top.addWidget(self.pen_combo)
        top.addWidget(self.pen_note, 1)
        top.addWidget(self.pen_help)
        self.pen_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        lower = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        lower.addWidget(self.pen_trajectory)
        lower.addWidget(self.pen_gates)
        lower.setChildrenCollapsible(False)          # unfolded, neither comes back at zero width
        self.pen_trajectory.setWindowTitle("hidden state")     # their tabs' titles when the rows fold
        self.pen_gates.setWindowTitle("gates")
        self.pen_split.addWidget(self.pen_time)
        self.pen_split.addWidget(lower)
        self.pen_split.setStretchFactor(0, 5)
        self.pen_split.setStretchFactor(1, 4)
        SteadySplitter(self.pen_split)           # a new readout text no longer repaints the whole page
        SteadySplitter(lower)
        # a narrow or short middle column (1024x640): the state and the gates fold into tabs
        # under the probabilities, each readable, instead of squashing side by side
        self.pen_fold = FoldingSplitter(self.pen_split, QtCore.QSize(330, 560), pinned=1, proportions=[5, 4])
        page = QtWidgets.QWidget()
        page.setObjectName("penPage")
        lay = QtWidgets.QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.pen_fold, 1)
        return page

    def _rebuild_columns(self) -> None:
        """A new architecture: new layer and kernel columns (the drawing and the rest stay)."""
        old_layers = self.layer_scroll.takeWidget()
        if old_layers is not None:
            old_layers.deleteLater()
        self.layers = LayerColumn(self.session.stages)
        self.layers.cell_clicked.connect(self.inspect)
        self.layer_scroll.setWidget(self.layers)
        old = self.right_tabs.widget(1)                 # the kernels' scroll area
        self.right_tabs.removeTab(1)
        if old is not None:
            old.deleteLater()
        self.kernels = KernelColumn(self.session.model)
        self.right_tabs.insertTab(1, scrolled(self.kernels), "kernels")

    # -- public API ---------------------------------------------------------------------
    @property
    def reading(self) -> DigitReading | None:
        """The last rendered reading of the drawing (input, trace, probabilities); None while empty."""
        return None if self.view is None else self.view.reading

    @property
    def scope(self) -> str:
        return self.session.options.scope

    @property
    def selection(self) -> tuple[Stage, int, int, int] | None:
        """The selected map cell (stage, channel, row, col), or None."""
        sel = self.session.options.selection
        stage = None if sel is None else next((s for s in self.session.stages if s.index == sel[0]), None)
        return None if sel is None or stage is None else (stage, sel[1], sel[2], sel[3])

    @selection.setter
    def selection(self, value: tuple[Stage, int, int, int] | None) -> None:
        stage = None if value is None else value[0]
        self.session.set_options(selection=None if value is None or stage is None
                                 else (stage.index, int(value[1]), int(value[2]), int(value[3])))

    def probabilities(self) -> np.ndarray | None:
        """The current 10 class probabilities (10,) float32; None while the canvas is empty.

        Renders a pending frame first, so the answer always matches the drawing.
        """
        self.scheduler.flush()
        return None if self.view is None or self.view.probs is None else self.view.probs.copy()

    def pen_probabilities(self) -> np.ndarray | None:
        """The pen RNN's 10 class probabilities (10,) float32 for the drawing's pen strokes; None
        while there is no pen step (an empty canvas, or an opened image with nothing drawn on it).

        Equal to ``classify strokes.json --model <pen model>`` for the same strokes."""
        self.scheduler.flush()
        self.pen.reader.follow_session(self.session)
        return self.pen.reader.probabilities()

    def current_pen_view(self) -> PenView:
        """The pen panels' current frame (computed now, with every CNN step filled in)."""
        self.scheduler.flush()
        self.pen.follow(self.session, self._current_probs())
        while self.pen.fill(self.session, 64):
            pass
        return self.pen.view()

    def set_pen_model(self, model: Model, label: str | None = None, source: str | None = None) -> bool:
        """Read the pen with ``model`` (a pen model file); a model that cannot: a message, nothing changes."""
        try:
            live = PenLive(model, label or str(model.meta.get("name", "pen model")))
        except NotAPenModel as exc:
            self.show_error("Not a pen model", str(exc))
            return False
        live.target = self.pen.target
        self.pen = live
        self.pen_source = source or label or live.name
        i = self.pen_combo.findData(self.pen_source)
        if i < 0:
            self.pen_combo.addItem(label or live.name, self.pen_source)
            i = self.pen_combo.count() - 1
        self.pen_combo.setCurrentIndex(i)
        trained = model.meta.get("trained", True) is not False
        self.show_pen_notice(None if trained else "untrained pen model: its guesses are random")
        self._render_pen()
        self.model_changed.emit()
        return True

    def show_pen_notice(self, notice: str | None) -> None:
        """A short warning beside the pen model picker (the whole sentence in its tooltip)."""
        self.pen_note.setText("" if not notice else "⚠ " + notice.split(" (")[0].split(":")[0])
        self.pen_note.setToolTip(notice or "")

    def choose_pen_model(self, source: str) -> bool:
        """A pen model from the picker: a shipped label (``SHIPPED``) or a model file's path."""
        if source == self.pen_source:
            return True
        return self.restore_pen_model(source)

    def restore_pen_model(self, source: str) -> bool:
        """Load the pen model named by ``source`` (shipped label or path); failure: a status line."""
        from explorer.engine import ModelFileError, load_model
        if source in SHIPPED:
            model, notice = load_pen_model(source)
            ok = self.set_pen_model(model, source, source)
            if ok and notice:
                self.show_pen_notice(notice)
            return ok
        if source.startswith("session:"):                 # came inside a session file: nothing on disk
            return False
        try:
            model = load_model(source)
        except (ModelFileError, OSError) as exc:
            self.status.emit(f"pen model {Path(source).name} not opened: {exc}")
            return False
        return self.set_pen_model(model, Path(source).name, source)

    def set_pen_target(self, target: int | None) -> None:
        """What 'right' means for "when did it know?": a digit, or None (each reader's last answer)."""
        self.pen.target = None if target is None else int(target)
        self.pen_time.set_target(self.pen.target)
        self._render_pen()

    def panels(self) -> dict[str, QtWidgets.QWidget]:
        """Exportable panels by title (the layer maps caught up if the pen page hid them)."""
        self._show_layers(force=True)
        out: dict[str, QtWidgets.QWidget] = {"canvas": self.canvas, "network input": self.input_panel,
                                             "prediction": self.prob_panel, "inspector": self.inspector,
                                             "probabilities over pen time": self.pen_time,
                                             "pen RNN hidden state": self.pen_trajectory,
                                             "pen RNN gates": self.pen_gates}
        for st in self.session.stages:
            out[st.title] = self.layers.panels[st.name]
        for p in self.kernels.panels:
            out[p.title.text().replace("<b>", "").replace("</b>", "")] = p
        return out

    def set_model(self, model: Model) -> None:
        """Swap the network through the session; the drawing stays, the panels follow."""
        self.session.set_model(model)

    def follow_model(self, model: Model) -> None:
        """A model training elsewhere (the Train tab): its weights if it is our architecture."""
        self.session.follow(model)

    def set_pen_width(self, width: float) -> None:
        """Pen diameter, kept within the slider's 4-40; NaN or infinity is ignored."""
        if not np.isfinite(width):
            return
        width = float(np.clip(width, 4, 40))
        self.canvas.pen_width = width
        if self.pen_slider.value() != int(width):
            self.pen_slider.setValue(int(width))

    def set_scope(self, scope: str) -> None:
        if scope not in SCOPES:
            return
        self.session.set_options(scope=scope)
        i = list(SCOPES).index(scope)
        if self.scope_box.currentIndex() != i:
            self.scope_box.setCurrentIndex(i)
        self.refresh_now()

    def undo(self) -> None:
        if self.session.undo():
            self.refresh_now()

    def redo(self) -> None:
        if self.session.redo():
            self.refresh_now()

    def clear(self) -> None:
        """Empty the canvas (undoable; the window keeps a copy of the drawing first)."""
        had = not self.session.committed.is_empty
        if had and self.before_replace is not None:
            self.before_replace("before Clear")
        self.session.clear()
        self.refresh_now()
        if had:
            self.status.emit("cleared — Ctrl+Z brings the drawing back")

    def open_image(self, path: str | os.PathLike[str]) -> bool:
        """Replace the drawing with an image file (undoable). Bad file: message, drawing unchanged."""
        try:
            ink = load_ink(Path(path))
        except (ValueError, OSError) as exc:
            self.show_error("Could not open the image", str(exc))
            return False
        if self.before_replace is not None and not self.session.committed.is_empty:
            self.before_replace(f"before opening {Path(path).name}")
        self.session.set_background(ink)
        self.refresh_now()
        self.status.emit(f"opened {Path(path).name}")
        return True

    def save_drawing_png(self, path: str | os.PathLike[str], side: int = 280) -> Path:
        return save_image(self.canvas.to_image(side), path)

    def export_panel(self, title: str, path: str | os.PathLike[str]) -> Path:
        return grab_png(self.panels()[title], path)

    def export_activations(self, path: str | os.PathLike[str]) -> Path | None:
        """Every layer output of the current drawing to .npz; None (and a message) when empty."""
        self.scheduler.flush()
        if self.reading is None:
            self.show_error("Nothing to export", "draw a digit first")
            return None
        return save_npz(self.session.activations(self.reading), path)

    def show_error(self, title: str, text: str) -> None:
        """One-line message in the status bar + a non-blocking message box (tests patch this)."""
        self.last_error = text
        self.status.emit(text)
        self._message_box(title, text)

    def _message_box(self, title: str, text: str) -> None:
        report_error(self, title, text)                       # the one non-blocking box (tests patch this)

    def current_input(self) -> np.ndarray | None:
        """The (28, 28) network input of the drawing as it is now (None while empty)."""
        self.scheduler.flush()
        reading = self.reading
        return None if reading is None else reading.x[0, 0].copy()

    def _on_experiment_changed(self, message: str) -> None:
        """An edit, or a version of the drawing put on the canvas: show it now and say it."""
        self.refresh_now()
        self.status.emit(message)

    def refresh_now(self) -> None:
        """Recompute and repaint at once (after undo, open, scope change)."""
        self.scheduler.submit(self.session.version)
        self.scheduler.flush()
        self.canvas.update()
        self._update_actions()

    def stop(self) -> None:
        """Stop timers (closeEvent)."""
        self.scheduler.stop()
        self.pen_scheduler.stop()
        self.experiments.stop()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.stop()
        super().closeEvent(event)

    # -- handlers -----------------------------------------------------------------------
    def _drop_selection(self) -> None:
        """After a frame that failed: start the next one without the selection (a cell the
        model may not have) and with the inspector cleared."""
        if self.session.options.selection is not None:
            self.session.set_options(selection=None)
            self.inspector.clear()

    def _on_drawing_changed(self) -> None:
        self.scheduler.submit(self.session.version)

    def _on_model_changed(self, what: str) -> None:
        """The session's model changed: new columns for a new architecture, then a new frame."""
        if what == "model":
            self._rebuild_columns()
            self.experiments.attach(self.layers, self.kernels)
            self.inspector.clear()
            self.describe_model()                            # a new model: its own name again
        self.refresh_now()

    def _update_actions(self) -> None:
        self.undo_action.setEnabled(self.session.can_undo())
        self.redo_action.setEnabled(self.session.can_redo())

    def _on_eraser(self, on: bool) -> None:
        self.canvas.eraser = on
        self.status.emit("eraser: drag over strokes to cut them" if on else "pen")

    def _on_saliency(self, on: bool) -> None:
        self.saliency_panel.setVisible(on)
        self.session.set_options(saliency=on)
        self.refresh_now()

    def _on_winners(self, on: bool) -> None:
        self.session.set_options(winners=on)
        self.refresh_now()

    # -- rendering: route one DigitView to the panels --------------------------------------
    def _render(self, _version: object) -> None:
        view = self.view = build_view(self.session)
        self.input_panel.view.show_maps(view.input[None])
        self._show_layers()
        self.legend.set_label(view.legend)
        self.prob_panel.set_probs(view.probs)
        self.keeper.show_probs(view.probs)
        self._show_saliency(view)
        self._show_selection(view)
        if view.ghost is not None or self.prob_panel.bars.ghost is not None:
            self.prob_panel.bars.set_ghost(view.ghost)          # the unedited model's answer while edited
        self.experiments.render(view)
        if self.middle_tabs.currentIndex() == 1:
            self._render_pen()
        else:             # behind its page the pen RNN reads the move once this frame has painted
            self.pen_scheduler.submit(self.session.version)

    def _show_layers(self, force: bool = False) -> None:
        """The layer maps get the frame while their page is shown (or ``force``): behind the pen
        RNN's page they are fed once, when they come back (``panels()``, for an export, catches
        them up too)."""
        view = self.view
        if view is None or view is self._layers_view or not (force or self.middle_tabs.currentIndex() == 0):
            return
        self._layers_view = view
        self.layers.show_view(view)

    def _on_middle_tab(self) -> None:
        self._show_layers()
        self._render_pen()

    def _current_probs(self) -> np.ndarray | None:
        """The CNN's reading of the drawing as it is now (None if the last frame is older)."""
        view = self.view
        return None if view is None or view.version != self.session.version else view.probs

    def _render_pen(self, _version: object = None) -> None:
        """The pen RNN follows the drawing; its panels are fed while its page is shown."""
        self.pen.follow(self.session, self._current_probs())
        if self.middle_tabs.currentIndex() != 1:
            return
        missing = self.pen.fill(self.session)
        key = (id(self.pen), self.pen.reader.version, missing, self.pen.target, self.pen.reader.background)
        if key == self._pen_shown:            # a pen move that made no new pen step: nothing to redraw
            return
        self._pen_shown = key
        frame = self.pen_view = self.pen.view()
        self.pen_time.show_view(frame)
        self.pen_trajectory.show_view(frame)
        self.pen_gates.show_view(frame)
        if missing:
            self.pen_scheduler.submit(self.session.version)

    def _show_saliency(self, view: DigitView) -> None:
        if view.saliency is None:
            if not self._saliency_blank:       # blanked once, not on every frame while off
                self._saliency_blank = True
                self.saliency_panel.view.show_maps(np.zeros((1, 28, 28), np.float32))
            self.canvas.set_overlay(None)
            return
        self._saliency_blank = False
        self.saliency_panel.view.show_maps(view.saliency[None])
        tip = self.saliency_panel.toolTip().split("\n\nscale")[0]
        self.saliency_panel.setToolTip(f"{tip}\n\nscale ±{view.saliency_scale:.3g}")
        self.canvas.set_overlay(view.saliency_rgba, _rect(view.saliency_rect))

    def _show_selection(self, view: DigitView) -> None:
        for p in self.layers.panels.values():
            p.view.select(-1, 0, 0)
        self.input_panel.view.select(-1, 0, 0)
        sel = view.selection
        self.canvas.set_field(None if sel is None else _rect(sel.canvas_field))
        if sel is None:
            return
        for h in sel.highlights:
            panel = self.input_panel if h.panel == "input" else self.layers.panels[h.panel]
            panel.view.select(h.channel, *h.cells)
        if sel.pool is not None:
            self.inspector.show_pool(sel.pool, sel.caption)
        elif sel.conv is not None:
            self.inspector.show_conv(sel.conv, sel.caption)
        else:
            self.inspector.subtitle.setText(sel.caption)

    # -- inspector ----------------------------------------------------------------------
    def inspect(self, stage: Stage, channel: int, row: int, col: int) -> None:
        """A map cell was clicked: explain it and outline its receptive field."""
        if stage.kind == "dense":
            self.status.emit(f"{stage.name} unit: a dense unit looks at every pooled cell — no local field")
            return
        self.selection = (stage, channel, row, col)
        self.right_tabs.setCurrentWidget(self.inspector)
        self.refresh_now()

    def show_worked(self, kind: str) -> None:
        """The textbook convolution ("conv") or max-pool ("pool") in the inspector."""
        self.right_tabs.setCurrentWidget(self.inspector)
        self.selection = None
        self.refresh_now()
        if kind == "conv":
            self.inspector.show_conv(worked_conv_example(),
                                     "Worked example: a 3×3 patch of an image times a 3×3 kernel, no bias.")
        else:
            self.inspector.show_pool(worked_pool_example(), "Worked example: 2×2 max-pool of [[1, 2], [3, 0]].")

    # -- my examples ----------------------------------------------------------------
    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt)
        """Keys 0-9 keep the drawing as an example of that digit."""
        if not self.keeper.handle_key(ev):
            super().keyPressEvent(ev)

    def show_gallery(self) -> QtWidgets.QDialog | None:
        """The examples gallery, built once and reloaded on later calls."""
        if self.keeper.folder is None:
            self.status.emit("no folder for examples is set")
            return None
        from explorer.ui.digit.gallery import GalleryWindow
        if self.gallery is None:
            gallery = self.gallery = GalleryWindow(self.keeper.folder, lambda: self.session.model, self)
            gallery.status.connect(self.status)
            self.keeper.kept.connect(lambda _ex: gallery.reload() if gallery.isVisible() else None)
        else:
            self.gallery.reload()
        self.gallery.show()
        return self.gallery

    def save_settings(self, s: QtCore.QSettings) -> None:
        s.setValue("digits/pen_width", float(self.canvas.pen_width))
        s.setValue("digits/scope", self.scope)
        s.setValue("digits/saliency", self.saliency_action.isChecked())
        s.setValue("digits/winners", self.winners_action.isChecked())
        s.setValue("digits/splitter", self.splitter.saveState())
        s.setValue("digits/right_splitter", self.right_splitter.saveState())
        s.setValue("digits/middle_tab", self.middle_tabs.currentIndex())
        s.setValue("digits/pen_model", self.pen_source)
        s.setValue("digits/pen_target", -1 if self.pen.target is None else int(self.pen.target))

    def _apply_settings(self, s: QtCore.QSettings) -> list[tuple[QtWidgets.QSplitter, QtCore.QByteArray]]:
        """Apply saved settings; returns the splitter states to apply again once laid out."""
        as_bool = lambda v: str(v).lower() in ("true", "1")  # noqa: E731 (INI stores text)
        if s.value("digits/pen_width") is not None:
            self.set_pen_width(float(s.value("digits/pen_width")))
        self.set_scope(str(s.value("digits/scope", self.scope)))
        self.saliency_action.setChecked(as_bool(s.value("digits/saliency", False)))
        self.winners_action.setChecked(as_bool(s.value("digits/winners", False)))
        tab = s.value("digits/middle_tab")
        if tab is not None and str(tab).lstrip("-").isdigit() and 0 <= int(tab) < self.middle_tabs.count():
            self.middle_tabs.setCurrentIndex(int(tab))
        target = s.value("digits/pen_target")
        if target is not None and str(target).lstrip("-").isdigit() and -1 <= int(target) <= 9:
            self.set_pen_target(None if int(target) < 0 else int(target))
        source = s.value("digits/pen_model")
        if isinstance(source, str) and source and source != self.pen_source:
            self.restore_pen_model(source)
        pending = []
        for key, split in (("digits/splitter", self.splitter), ("digits/right_splitter", self.right_splitter)):
            v = s.value(key)
            if isinstance(v, QtCore.QByteArray):
                split.restoreState(v)
                pending.append((split, v))
        return pending

    def restore_settings(self, s: QtCore.QSettings) -> None:
        self._pending_splits += self._apply_settings(s)   # again once laid out (showEvent)

    # -- Lab protocol (explorer.ui.widgets.lab_protocol) ----------------------------------------
    def describe_model(self, notice: str | None = None, source: str | None = None) -> None:
        """What model_label() says: a warning (``notice``), where the model comes from, or its name."""
        self._notice, self._source = notice, source
        self.model_changed.emit()

    def model_label(self) -> str:
        """Lab protocol: a warning, where the model comes from, or its name and held-out accuracy."""
        if self._notice:
            return f"<span style='color:#b35900'>⚠ {self._notice}</span>"
        if self._source:
            return f"digit model: <b>{self._source}</b>"
        meta = getattr(self.session.model, "meta", {})
        acc = meta.get("val_acc")
        held = f" · {100 * float(acc):.1f}% on held-out digits" if acc is not None else ""
        pen = self.pen_combo.currentText() or "pen RNN"
        return f"digit model: <b>{meta.get('name', meta.get('arch', 'CNN'))}</b>{held} · pen: <b>{pen}</b>"

    def shutdown(self) -> None:
        self.stop()

    def showEvent(self, ev: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt)
        super().showEvent(ev)
        if not self._pen_warm:                 # fit the trajectory's basis before the first stroke needs it
            self._pen_warm = True
            QtCore.QTimer.singleShot(400, lambda: self.pen.basis())
        for split, state in self._pending_splits:
            split.restoreState(state)
        self._pending_splits = []
