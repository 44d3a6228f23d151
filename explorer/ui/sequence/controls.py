"""The Sequence Lab's controls and layout: built once, wired to the lab's slots (from lab.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.units import BUILTIN_SIGNALS
from explorer.session.sequence_view import COLOUR_MODES
from explorer.ui.sequence.attention import AttentionPanel
from explorer.ui.sequence.common import MONO, cache_scroll_bars, set_tip
from explorer.ui.sequence.experiments import Experiments
from explorer.ui.sequence.gates import GatesPanel
from explorer.ui.sequence.heatmap import HiddenHeatmapPanel
from explorer.ui.sequence.memory_view import MemoryPanel
from explorer.ui.sequence.paste import PieceInserter
from explorer.ui.sequence.predictions import PredictionsPanel, ProbStrip
from explorer.ui.sequence.presets import PRESETS
from explorer.ui.sequence.textcolour import TextColourer
from explorer.ui.sequence.trajectory import TrajectoryPanel
from explorer.ui.sequence.unrolled import UnrolledPanel
from explorer.ui.widgets.fold import FoldingSplitter

if TYPE_CHECKING:
    from explorer.ui.sequence.lab import SequenceLab

REGEX = "regular expression…"


class SequenceEditor(QtWidgets.QPlainTextEdit):
    """The monospace plain-text editor (objectName ``sequenceEditor``)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sequenceEditor")
        font = QtGui.QFont(MONO)
        font.setPointSize(10)
        self.setFont(font)
        self.setTabStopDistance(4 * QtGui.QFontMetricsF(font).horizontalAdvance(" "))
        self.setPlaceholderText("Type or paste text here, or pick a preset above.")
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.WidgetWidth)
        cache_scroll_bars(self)   # Fusion repaints a ~700 px scroll bar in 1–2 ms on every key
        self.paste = PieceInserter(self)

    # -- issue 16: a long paste goes in pieces, one per event-loop turn (paste.py) ----------
    def insertPlainText(self, text: str) -> None:  # noqa: N802 (Qt)
        if not self.paste.insert(text):
            super().insertPlainText(text)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:  # noqa: N802 (Qt)
        if not (source.hasText() and self.paste.insert(source.text())):
            super().insertFromMimeData(source)


def build_ui(self: SequenceLab) -> None:
    """Every control and panel of the lab, wired to the lab's slots."""
    self.editor = SequenceEditor()
    self.colourer = TextColourer(self.editor)
    self.model_combo, self.preset_combo = QtWidgets.QComboBox(), QtWidgets.QComboBox()
    self.preset_combo.addItem("Presets…")
    self.preset_combo.addItems(list(PRESETS))
    self.notice = QtWidgets.QLabel()
    self.notice.setWordWrap(True)
    self.notice.setStyleSheet("background:#fff3c4; border:1px solid #e0c060; padding:4px; color:#5a4500;")
    self.notice.hide()
    self.strip = ProbStrip()
    self.finder_combo = QtWidgets.QComboBox()
    self.finder_combo.addItems(list(BUILTIN_SIGNALS) + [REGEX])
    self.regex_edit = QtWidgets.QLineEdit()
    self.regex_edit.setPlaceholderText(r"regex, e.g. \d+ or def \w+")
    self.regex_edit.setEnabled(False)
    self.find_button = QtWidgets.QPushButton("Find unit")
    self.unit_spin = QtWidgets.QSpinBox()
    self.unit_spin.setMinimum(-1)
    self.unit_spin.setSpecialValueText("none")
    self.state_combo = QtWidgets.QComboBox()
    self.state_combo.addItem("h(t)", "h")
    self.state_combo.addItem("tanh c(t)", "c")
    self.unit_state = "h"                       # which state the selected unit is read from
    self.rows_combo = QtWidgets.QComboBox()        # the heat map's row order (session.row_order)
    for text, data in (("similar", "similarity"), ("unit #", "unit"), ("by r", "signal")):
        self.rows_combo.addItem(text, data)
    set_tip(self.rows_combo, "Heat-map rows: similar units together (fixed per model), by unit number,\n"
            "or by correlation r with the 'Find a unit for' signal (most positive on top).")
    self.colour_combo = QtWidgets.QComboBox()
    self.colour_combo.addItems(list(COLOUR_MODES))
    self.status_label = QtWidgets.QLabel(" ")
    self.status_label.setWordWrap(True)
    self.progress = QtWidgets.QProgressBar()
    self.progress.setFormat("reading the text… %p%")
    self.progress.hide()
    for w, tip in ((self.model_combo, "The network to watch: a character model of Python code or English "
                    "prose,\nor a small model of a toy language. Same text, different cells: compare them."),
                   (self.preset_combo, "Replace the text with a ready-made example."),
                   (self.finder_combo, "Find the hidden unit whose activation correlates best (Pearson r)\n"
                    "with this signal over the current text, and select it."),
                   (self.unit_spin, "The selected hidden unit (click a row of the heat map, or use 'Find')."),
                   (self.state_combo, "Which state the unit is read from: the hidden state h(t) the "
                    "heat map shows,\nor, for an LSTM, its cell state as tanh c(t) — the memory the "
                    "cell carries;\nKarpathy's famous quote and bracket cells are cell states. "
                    "'Find' searches both."),
                   (self.colour_combo, "What colours the characters in the editor:\n"
                    "selected unit: its activation after each character (green > 0, red < 0);\n"
                    "memory: how much each character drives the prediction at the cursor;\n"
                    "surprise: green = expected by the model, red = surprising.")):
        set_tip(w, tip)
    self.heatmap, self.trajectory = HiddenHeatmapPanel(), TrajectoryPanel()
    self.predictions, self.memory_panel = PredictionsPanel(), MemoryPanel()
    self.gates, self.unrolled = GatesPanel(), UnrolledPanel()
    self.attention = AttentionPanel()          # a transformer's panel, in the gates' place
    self.attention.hide()
    self.experiments = Experiments(self)       # issue 14: Write pane, fixed points
    self.experiments.widget.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                          QtWidgets.QSizePolicy.Policy.Maximum)   # the editor keeps the room
    layout(self)
    self.editor.textChanged.connect(self._on_text_changed)
    self.editor.cursorPositionChanged.connect(self._on_cursor_moved)
    self.editor.verticalScrollBar().valueChanged.connect(self._on_cursor_moved)
    self.model_combo.currentIndexChanged.connect(self._on_model_changed)
    self.preset_combo.activated.connect(self._on_preset_chosen)
    self.finder_combo.currentTextChanged.connect(lambda t: self.regex_edit.setEnabled(t == REGEX))
    self.find_button.clicked.connect(self.find_unit)
    self.regex_edit.returnPressed.connect(self.find_unit)
    self.unit_spin.valueChanged.connect(lambda v: self.select_unit(None if v < 0 else v))
    self.state_combo.currentIndexChanged.connect(
        lambda _i: self.select_unit(self.unit, self.state_combo.currentData()))
    self.colour_combo.currentIndexChanged.connect(self._on_cursor_moved)
    self.rows_combo.currentIndexChanged.connect(self._on_cursor_moved)
    self.heatmap.cell_clicked.connect(self._on_cell_clicked)
    self.attention.head_chosen.connect(self._on_head_chosen)
    self.colour_combo.currentTextChanged.connect(self._on_colour_mode)
    self.attention.layer_chosen.connect(self._on_cursor_moved)

def layout(self: SequenceLab) -> None:
    """Left column (editor, controls), right side (panels in splitters)."""
    top = QtWidgets.QHBoxLayout()
    top.addWidget(QtWidgets.QLabel("Model:"))
    top.addWidget(self.model_combo, 2)
    top.addWidget(self.preset_combo)
    find = QtWidgets.QHBoxLayout()
    find.addWidget(QtWidgets.QLabel("Find a unit for:"))
    find.addWidget(self.finder_combo, 1)
    find.addWidget(self.find_button)
    for combo in (self.model_combo, self.preset_combo, self.finder_combo, self.colour_combo):
        combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
    # the preset picker is as wide as its prompt: the model's name keeps the rest of the row
    opt = QtWidgets.QStyleOptionComboBox()
    self.preset_combo.initStyleOption(opt)
    fm = self.preset_combo.fontMetrics()
    text = QtCore.QSize(fm.horizontalAdvance(self.preset_combo.itemText(0)) + 6, fm.height())
    self.preset_combo.setFixedWidth(self.preset_combo.style().sizeFromContents(
        QtWidgets.QStyle.ContentsType.CT_ComboBox, opt, text, self.preset_combo).width())
    unit = QtWidgets.QHBoxLayout()
    unit.addWidget(QtWidgets.QLabel("Unit:"))
    unit.addWidget(self.unit_spin)
    unit.addWidget(self.state_combo)
    unit.addWidget(QtWidgets.QLabel("Rows:"))
    unit.addWidget(self.rows_combo)
    unit.addStretch(1)
    colour = QtWidgets.QHBoxLayout()           # its own row: the column fits a 1024 px window
    colour.addWidget(QtWidgets.QLabel("Colour text by:"))
    colour.addWidget(self.colour_combo, 1)
    left = QtWidgets.QWidget()
    col = QtWidgets.QVBoxLayout(left)
    col.setContentsMargins(4, 4, 4, 4)
    for item in (top, self.notice, self.editor, self.strip, find, self.regex_edit, unit, colour,
                 self.status_label, self.progress, self.experiments.widget):
        (col.addLayout if isinstance(item, QtWidgets.QLayout) else col.addWidget)(item)
    col.setStretchFactor(self.editor, 1)
    side = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    side.addWidget(self.predictions)
    side.addWidget(self.memory_panel)
    middle = QtWidgets.QSplitter()
    middle.addWidget(self.trajectory)
    middle.addWidget(side)
    bottom = QtWidgets.QSplitter()
    bottom.addWidget(self.gates)
    bottom.addWidget(self.unrolled)
    bottom.addWidget(self.attention)
    right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    for w in (self.heatmap, middle, bottom):
        right.addWidget(w)
    right.setSizes([230, 345, 325])   # the side panels need ~160 px each
    for i, stretch in enumerate((2, 3, 3)):   # a taller window grows every row, not only the last
        right.setStretchFactor(i, stretch)
    middle.setSizes([440, 480])
    bottom.setSizes([560, 340])
    bottom.setStretchFactor(0, 1)     # a narrower window narrows the gates first: the unrolled cells keep their size
    for w, title in ((self.heatmap, "hidden state"), (self.trajectory, "trajectory"),
                     (self.predictions, "next character"), (self.memory_panel, "memory"),
                     (self.gates, "gates"), (self.unrolled, "unrolled")):
        w.setWindowTitle(title)        # its tab's title when the rows fold
    # below this size (a 1280×720 window is below it) the rows under the heat map fold into tabs (a 1024×640 window): every
    # panel stays readable, one row at a time, instead of scrolling or squashing
    self.fold = FoldingSplitter(right, QtCore.QSize(740, 780), pinned=1, proportions=[230, 345, 325])
    side.setMinimumWidth(300)
    self.splitter = QtWidgets.QSplitter()
    self.splitter.addWidget(left)
    self.splitter.addWidget(self.fold)
    self.splitter.setSizes([450, 950])
    self._splitters = {"main": self.splitter, "right": right, "middle": middle, "bottom": bottom, "side": side}
    lay = QtWidgets.QVBoxLayout(self)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(self.splitter)
