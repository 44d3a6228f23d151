"""SequenceLab: type a sequence and watch an RNN / LSTM / GRU carry its state through time.

One keystroke: editor.textChanged -> a 0 ms single-shot timer (bursts coalesce) ->
SequenceSession.set_text + advance (from the first changed character only; long pastes in
timed chunks with a progress bar) -> LatestFrame.submit(cursor) -> build_view(session, cursor) ->
``_route(view)``: each panel is fed its part of the SequenceView. Cursor moves only re-render.
The lab computes nothing itself: it builds its control groups (the model picker, the unit
finder, the unit selector) and panels, lays them out, connects their signals and routes each
view to the panels.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.pca import PCABasis
from explorer.analysis.units import UnitScore
from explorer.session.sequence import SequenceSession
from explorer.session.sequence_view import (
    ATTENTION_MODE,
    COLOUR_MODES,
    HOP,
    FrameRequest,
    SequenceView,
    build_view,
    time_window,
)
from explorer.ui.sequence.attention import AttentionPanel
from explorer.ui.sequence.common import set_tip
from explorer.ui.sequence.editor import SequenceEditor
from explorer.ui.sequence.experiments import Experiments
from explorer.ui.sequence.gates import GatesPanel
from explorer.ui.sequence.heatmap import HiddenHeatmapPanel
from explorer.ui.sequence.memory_panel import MemoryPanel
from explorer.ui.sequence.model_picker import ModelPicker
from explorer.ui.sequence.paste import LONG as PASTE_LONG
from explorer.ui.sequence.predictions import PredictionsPanel, ProbStrip
from explorer.ui.sequence.presets import PRESETS, default_preset
from explorer.ui.sequence.textcolour import PosMap, TextColourer
from explorer.ui.sequence.trajectory import TRAIL, TrajectoryPanel
from explorer.ui.sequence.unit_finder import REGEX, UnitFinder
from explorer.ui.sequence.unit_selector import UnitSelector
from explorer.ui.sequence.unrolled import UnrolledPanel
from explorer.ui.widgets.fold import FoldingSplitter
from explorer.ui.widgets.guard import RenderGuard
from explorer.ui.widgets.latest import LatestFrame

SYNC_STEPS = 3000          # at most this many pending steps are computed inside one event
SYNC_NOW_CHARS = 100_000   # a text up to this long is synced inside the edit's own event
CHUNK_SECONDS = 0.008      # a chunk of a long paste takes about this long (0.03 and 0.015 froze the window visibly)
UNTRAINED_NOTICE = ("No trained sequence model found in resources/models — this is an UNTRAINED {cell} with "
                    "random weights. Train one with 'cnn-rnn-explorer train text --corpus code --cell lstm "
                    "--out …'.")
PALETTES = {"signed": ((20, 170, 60), (220, 40, 40)), "memory": ((235, 140, 0), (235, 140, 0)),
            "attention": ((40, 110, 230), (40, 110, 230))}
__all__ = ["HOP", "COLOUR_MODES", "REGEX", "SequenceLab", "time_window"]


class SequenceLab(QtWidgets.QWidget):
    """The Sequence Lab tab; ``editor`` and ``hidden_states()`` are the automation contract."""

    rendered = QtCore.Signal()             # every panel has been fed the current text and cursor
    processing = QtCore.Signal(int, int)   # (done, total) while a long text is read in chunks
    status = QtCore.Signal(str)            # Lab protocol: a message for the status bar
    model_changed = QtCore.Signal()        # Lab protocol: model_label() has a new text
    memory_shown = QtCore.Signal()         # the Memory panel has the frame's influence (see _route)

    def __init__(self, settings: QtCore.QSettings | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.session: SequenceSession | None = None
        self.basis: PCABasis | None = None
        self.view: SequenceView | None = None      # the last frame routed to the panels
        self.frames = 0
        self._shown: tuple[str, str | None] | None = None   # (kind, task) of the model on show
        self._model_label = ""
        self._pos = PosMap("")
        self._chunk_steps = 500
        self._skipped: set[QtCore.QObject] = set()   # panels on a hidden tab the last frame was not computed for
        self._controls: dict[str, object] | None = None   # frame_request's part the controls set (None: read them)
        self._drawing = False
        self._build()
        self._lay_out()
        self._connect()
        self._sync_timer = QtCore.QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(0)
        self._sync_timer.timeout.connect(self._sync_text)
        # one "latest frame wins" scheduler (as the Digit Lab's); ~1 ms: a key is not held back
        # a panel that raises never stops the next frames: said in the status, unit dropped
        self.render_guard = RenderGuard(self._draw, self.say, self._drop_unit)
        self.scheduler = LatestFrame(self.render_guard, fps=1000, parent=self)
        # the Memory panel's numbers (collected as it paints, when the worker computes them): a
        # failure is said, never raised out of a paint, and the other panels' frames go on
        self._memory_guard = RenderGuard(lambda _request: self._show_memory(), self.say,
                                         panel=type(self.memory_panel).__name__)
        self._chunk_timer = QtCore.QTimer(self)
        self._chunk_timer.setInterval(0)
        self._chunk_timer.timeout.connect(self._process_chunk)
        self.model_picker.fill()
        self._restore()

    # -- building: control groups and panels, laid out and connected ----------------------
    def _build(self) -> None:
        self.editor = SequenceEditor()
        self.colourer = TextColourer(self.editor)
        self.model_picker = ModelPicker()
        self.finder = UnitFinder(lambda: self.unit_states() if self.session is not None else {},
                                 self.editor.toPlainText)
        self.unit_selector = UnitSelector()
        # handles for tests and the shell: the widgets stay owned by their groups
        self.model_combo, self.preset_combo = self.model_picker.combo, self.model_picker.preset_combo
        self.finder_combo, self.regex_edit, self.find_button = self.finder.combo, self.finder.regex_edit, self.finder.button
        self.unit_spin, self.state_combo = self.unit_selector.spin, self.unit_selector.state_combo
        self.rows_combo = self.unit_selector.rows_combo
        self.notice = QtWidgets.QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background:#fff3c4; border:1px solid #e0c060; padding:4px; color:#5a4500;")
        self.notice.hide()
        self.strip = ProbStrip()
        self.colour_combo = QtWidgets.QComboBox()
        self.colour_combo.addItems(list(COLOUR_MODES))
        self.colour_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.colour_combo.setMinimumContentsLength(8)
        set_tip(self.colour_combo, "What colours the characters in the editor:\n"
                "selected unit: its activation after each character (green > 0, red < 0);\n"
                "memory: how much each character drives the prediction at the cursor;\n"
                "surprise: green = expected by the model, red = surprising.")
        self.status_label = QtWidgets.QLabel(" ")
        self.status_label.setWordWrap(True)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("reading the text… %p%")
        self.progress.hide()
        self.heatmap, self.trajectory = HiddenHeatmapPanel(), TrajectoryPanel()
        self.predictions, self.memory_panel = PredictionsPanel(), MemoryPanel()
        self.gates, self.unrolled = GatesPanel(), UnrolledPanel()
        self.attention = AttentionPanel()          # a transformer's panel, in the gates' place
        self.attention.hide()
        self.experiments = Experiments(self.trajectory, self.editor, self)   # Write pane, fixed points
        self.experiments.widget.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                              QtWidgets.QSizePolicy.Policy.Maximum)   # the editor keeps the room

    def _lay_out(self) -> None:
        """Left column (editor, controls), right side (panels in splitters)."""
        colour = QtWidgets.QHBoxLayout()           # its own row: the column fits a 1024 px window
        colour.addWidget(QtWidgets.QLabel("Colour text by:"))
        colour.addWidget(self.colour_combo, 1)
        left = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(left)
        col.setContentsMargins(4, 4, 4, 4)
        for item in (self.model_picker, self.notice, self.editor, self.strip, self.finder, self.unit_selector, colour,
                     self.status_label, self.progress, self.experiments.widget):
            if isinstance(item, QtWidgets.QLayout):
                col.addLayout(item)
            else:
                col.addWidget(item)
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
        for panel, title in ((self.heatmap, "hidden state"), (self.trajectory, "trajectory"),
                         (self.predictions, "next character"), (self.memory_panel, "memory"),
                         (self.gates, "gates"), (self.unrolled, "unrolled")):
            panel.setWindowTitle(title)    # its tab's title when the rows fold
        # below this size (a 1280×720 window is below it) the rows under the heat map fold into tabs (a 1024×640
        # window): every panel stays readable, one row at a time, instead of scrolling or squashing
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

    def _connect(self) -> None:
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.cursorPositionChanged.connect(self._on_cursor_moved)
        self.editor.verticalScrollBar().valueChanged.connect(self._on_cursor_moved)
        self.model_picker.session_chosen.connect(self._on_session_chosen)
        self.model_picker.preset_chosen.connect(self.load_preset)
        self.model_picker.said.connect(self.say)
        self.finder.said.connect(self.say)
        self.finder.unit_found.connect(self._on_unit_found)
        self.unit_selector.unit_selected.connect(self._on_unit_selected)
        self.unit_selector.rows_chosen.connect(self._on_cursor_moved)
        self.colour_combo.currentIndexChanged.connect(self._on_cursor_moved)
        self.heatmap.cell_clicked.connect(self._on_cell_clicked)
        self.attention.head_chosen.connect(self._on_head_chosen)
        self.colour_combo.currentTextChanged.connect(self._on_colour_mode)
        self.attention.layer_chosen.connect(self._on_cursor_moved)
        self.experiments.clamp_changed.connect(self.request_render)
        self.rendered.connect(lambda: self.experiments.follow(self.view, self.session))
        for panel in (self.gates, self.memory_panel, self.unrolled, self.trajectory, self.predictions):
            panel.installEventFilter(self)         # shown again: a frame for it (see eventFilter)
        self.strip.installEventFilter(self)        # resized: it holds another number of cells
        # what the controls ask of a frame is read again only after one of them changed
        for changed in (self.unit_selector.unit_selected, self.unit_selector.rows_chosen,
                        self.colour_combo.currentIndexChanged, self.finder.combo.currentIndexChanged,
                        self.finder.regex_edit.textChanged, self.experiments.clamp_changed,
                        self.attention.layer_chosen, self.attention.head_chosen):
            changed.connect(self._controls_changed)

    # -- models ------------------------------------------------------------------------
    def load_model(self, index: int) -> None:
        """Open model `index` of the picker; keeps the text when the new model reads the same kind."""
        self.model_picker.load(index)

    def open_model_file(self, path: str, label: str | None = None) -> None:
        """Add a model file to the picker (e.g. one you trained) and show it."""
        self.model_picker.open_file(path, label)

    def _on_session_chosen(self, session: SequenceSession, key: str, label: str) -> None:
        """The picker opened a model: the first one, or one of another family, becomes the lab's
        session; another of the same family goes through ``session.set_model`` (heard as a listener)."""
        if self.session is None or type(self.session) is not type(session):
            self.use_session(session, key=key, label=label)
        else:
            self._model_label = label
            self.session.set_model(session.model, name=session.name, basis_key=key)
        self._save("sequence/model", label)

    def use_session(self, session: SequenceSession, key: str | None = None, label: str = "") -> None:
        """Show `session` (its model) in every panel; the PCA basis is fitted once per `key`
        (the session's policy). The text stays when the new model reads the same kind of text;
        otherwise a preset that suits the model is loaded."""
        self._model_label = label or session.name                    # Lab protocol: model_label()
        old = self._show_session(session, key)
        same_kind = old is not None and (old.kind, old.task) == (session.kind, session.task)
        if same_kind or (not self.editor.toPlainText() and old is not None):
            self._sync_text()
        else:
            self.load_preset(default_preset(session.task, label or session.name))
        self.model_changed.emit()

    def _on_model_set(self, session: SequenceSession) -> None:
        """The session's listener: its model changed (set_model / load_weights). The text stays
        when the new model reads the same kind of text; otherwise a preset that suits it."""
        if session is not self.session:
            return
        shown = self._shown
        self._apply_model(session)
        if shown == (session.kind, session.task) or not self.editor.toPlainText():
            self._sync_text()
        else:
            self.load_preset(default_preset(session.task, self._model_label or session.name))
        self.model_changed.emit()

    def _show_session(self, session: SequenceSession, key: str | None) -> SequenceSession | None:
        """Adopt `session`: basis, panels' fixed parts, listener. Returns the session shown before."""
        self._chunk_timer.stop()
        old = self.session
        if old is not None and self._on_model_set in old.listeners:
            old.listeners.remove(self._on_model_set)
        self.session = session
        if key is not None:
            session.basis_key = key
        if self._on_model_set not in session.listeners:
            session.listeners.add(self._on_model_set)
        self._apply_model(session)
        return old

    def _apply_model(self, session: SequenceSession) -> None:
        """The panels' fixed parts for the session's (new) model."""
        self._controls_changed()                   # (the controls below are reset without signals)
        self.notice.setVisible(bool(session.model.meta.get("untrained")))
        self.notice.setText(UNTRAINED_NOTICE.format(cell=session.cell))
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            self.basis = session.trajectory_basis()          # fitted once, frozen: the session's policy
            session.row_order()                              # the heat map's row order: once per model
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self.heatmap.set_units(session.hidden_size)
        if session.rec is None:
            self.heatmap.set_scale(session.state_level, "Residual stream after the last layer — dimensions × time",
                                   "residual value", "dimension")
        else:
            self.heatmap.set_scale(1.0, "Hidden state h(t) — units × time", "activation h")
        self.trajectory.set_basis(self.basis)
        self.experiments.on_session(session)
        self.gates.set_model(session.gate_names, session.hidden_size, self.heatmap.window_chars, session.cell)
        self._show_attention(session)
        self.unit_selector.set_model(session.hidden_size, session.cell == "LSTM")
        text_model = session.kind == "text"
        self.predictions.set_title("Next character at the cursor" if text_model else
                                   f"Output at the cursor ({session.task})")
        self.strip.title = "P(actual character), before reading it" if text_model else "P(right answer)"
        self.model_combo.setToolTip(session.description())
        self._shown = (session.kind, session.task)
        self._controls_changed()

    def _show_attention(self, session: SequenceSession) -> None:
        """A transformer has no gates and is not unrolled through a state: its attention panel takes
        the place of both, and the text can be coloured by a head. A recurrent model: the reverse."""
        attention = session.rec is None
        self.fold.set_panels_visible({self.gates: not attention, self.unrolled: not attention, self.attention: attention})
        combo = self.colour_combo
        at = combo.findText(ATTENTION_MODE)
        combo.blockSignals(True)
        if attention:
            layers, heads, context = (int(getattr(session, k)) for k in ("n_layers", "n_heads", "context"))
            self.attention.set_model(layers, heads, context)
            if at < 0:
                combo.addItem(ATTENTION_MODE)
        elif at >= 0:
            if combo.currentIndex() == at:
                combo.setCurrentIndex(combo.findText("nothing"))
            combo.removeItem(at)
        combo.blockSignals(False)

    # -- text ----------------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        self.editor.setPlainText(PRESETS[name][0])
        cur = self.editor.textCursor()
        cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
        self.editor.setTextCursor(cur)

    def replace_text(self, text: str, cursor: int | None = None, unit: int | None = None,
                     unit_state: str = "h") -> None:
        """Replace the whole text as one undoable edit. A long text goes in like a long paste,
        in pieces (the window is never blocked long); the cursor (a character index) and the
        selected unit are set once all of it is in."""
        def place() -> None:
            self.editor.pieces.finished.disconnect(place) if waiting else None
            self._sync_text()
            self.move_cursor(len(text) if cursor is None else min(cursor, len(text)))
            self.select_unit(unit, unit_state)

        edit = self.editor.textCursor()
        edit.select(QtGui.QTextCursor.SelectionType.Document)
        if self.editor.pieces.busy or len(text) < PASTE_LONG:
            edit.insertText(text)                # one undo step (and one sync) for a short text
            self.editor.setTextCursor(edit)
            waiting = False
            place()
            return
        self.editor.setTextCursor(edit)
        waiting = True
        self.editor.pieces.finished.connect(place)
        self.editor.insertPlainText(text)

    def is_idle(self) -> bool:
        """Whether the lab has caught up with its editor: no edit waiting to be handed over, no
        paste streaming in, no frame or analysis chunk queued (what a measurement waits for)."""
        s = self.session
        return not ((s is not None and (s.pending or s.text != self.editor.toPlainText()))
                    or self._sync_timer.isActive() or self.editor.pieces.busy
                    or self.scheduler.timer.isActive() or self._chunk_timer.isActive())

    def _on_text_changed(self) -> None:
        """A short text is handed over at once and its frame drawn at once, inside the edit's
        own event: before Qt paints the editor, so it paints once per key (the cursor's move,
        signalled just before, is in that frame). A long text, or one during a long paste,
        is handed over on the next turn of the event loop (a burst of changes coalesces)."""
        if self.editor.document().characterCount() <= SYNC_NOW_CHARS and not self.editor.pieces.busy:
            self._sync_timer.stop()
            self._sync_text()
            self.scheduler.flush()
        else:
            self._sync_timer.start()

    def _on_cursor_moved(self, *_: object) -> None:
        if not self._chunk_timer.isActive():
            self.request_render()

    def request_render(self) -> None:
        """Schedule a frame (the latest request wins)."""
        self.scheduler.submit(True)

    def _sync_text(self) -> None:
        """Hand the editor's text to the session; compute now, or in chunks if it is long."""
        if self.session is None:
            return
        text = self.editor.toPlainText()
        # the colourer maps the visible range with it too: the frame's range is in this text's
        # characters (with the last text's map, a key at the end was cut off one short)
        self._pos = self.colourer.pos = PosMap(text)
        self.session.set_text(text, compute=False)
        if self.session.pending <= SYNC_STEPS:
            self.session.advance()
            self._chunk_timer.stop()
            self.progress.hide()
            self.request_render()
        elif not self._chunk_timer.isActive():
            self.progress.setRange(0, self.session.length)
            self.progress.show()
            self._chunk_timer.start()

    def _process_chunk(self) -> None:
        s = self.session
        if s is None or not s.pending:
            self._chunk_timer.stop()
            self.progress.hide()
            self.request_render()
            return
        t0 = time.perf_counter()
        done = s.advance(self._chunk_steps)
        dt = max(time.perf_counter() - t0, 1e-4)
        self._chunk_steps = int(np.clip(min(done * CHUNK_SECONDS / dt, 2 * done), 50, 2048))  # the next chunk fits CHUNK_SECONDS
        self.progress.setRange(0, s.length)
        self.progress.setValue(s.n_done)
        self.processing.emit(s.n_done, s.length)

    def hidden_states(self) -> np.ndarray:
        """(T, H) float32 hidden states of the editor's current text (computed now if needed)."""
        if self.session is None:
            return np.zeros((0, 0), np.float32)
        if self.session.text != self.editor.toPlainText():
            self.session.set_text(self.editor.toPlainText(), compute=False)
        return self.session.hidden_states()

    def unit_states(self) -> dict[str, np.ndarray]:
        """{"h": (T, H)} and, for an LSTM, {"c": tanh of the cell state (T, H)}: what units are read from."""
        states = {"h": self.hidden_states()}
        cells = self.session.cell_states() if self.session is not None else None
        if cells is not None:
            states["c"] = np.tanh(cells)
        return states

    def cursor_index(self) -> int:
        """The cursor as a character index into the text (0..T)."""
        return self._pos.to_char(self.editor.textCursor().position())

    def move_cursor(self, index: int) -> None:
        cur = self.editor.textCursor()
        cur.setPosition(self._pos.to_doc(index))
        self.editor.setTextCursor(cur)

    # -- units ---------------------------------------------------------------------------
    @property
    def unit(self) -> int | None:
        """The selected unit (None: none); the unit selector owns it."""
        return self.unit_selector.unit

    @property
    def unit_state(self) -> str:
        """Which state the selected unit is read from: "h", or "c" (an LSTM's tanh c)."""
        return self.unit_selector.state

    @property
    def last_ranking(self) -> list[UnitScore]:
        """The unit finder's last ranking, best first."""
        return self.finder.last_ranking

    def select_unit(self, unit: int | None, state: str | None = None) -> None:
        """Select a unit (None: none) of the hidden state "h" or, for an LSTM, the cell state "c"."""
        if self.session is None:
            return
        self.unit_selector.select(unit, state)
        self._controls_changed()
        self._on_unit_selected()

    def _on_unit_selected(self, *_: object) -> None:
        """A unit was selected: the text is coloured by it unless something else colours it."""
        if self.unit is not None and self.colour_combo.currentText() == "nothing":
            self.colour_combo.setCurrentIndex(0)
        self.request_render()

    def _on_unit_found(self, unit: int, state: str) -> None:
        self.select_unit(unit, state)
        self.colour_combo.setCurrentIndex(0)

    def _on_colour_mode(self, mode: str) -> None:
        """Colouring by attention without a chosen head: the first head of the shown layer."""
        if mode == ATTENTION_MODE and self.attention.head is None:
            self.attention.choose_head((self.attention.layer, 0))

    def _on_head_chosen(self, head: object) -> None:
        """A head of the attention panel was chosen (None: none): colour the text by it."""
        mode = ATTENTION_MODE if head is not None else "nothing"
        if self.colour_combo.findText(mode) >= 0:
            self.colour_combo.setCurrentIndex(self.colour_combo.findText(mode))
        self.request_render()

    def _on_cell_clicked(self, t: int, unit: int) -> None:
        self.select_unit(unit)
        self.move_cursor(t + 1)

    def find_unit(self) -> None:
        """Rank units by |r| with the chosen signal over the current text and select the best."""
        if self.session is not None:
            self.finder.find_units()

    # -- rendering: ask the session for one frame, route it --------------------------------
    def frame_request(self) -> FrameRequest:
        """What the controls ask the session for (sizes of the panels, selection, colour mode).
        The controls' part is read once per change of a control (a key changes none of them);
        the editor's visible range is read every time."""
        if self._controls is None:
            self._controls = self.controls_request()
        return FrameRequest(visible=self.colourer.visible_range(), **self._controls)  # type: ignore[arg-type]

    def controls_request(self) -> dict[str, object]:
        """FrameRequest's fields the controls and panels set, read from them now."""
        return dict(window=self.heatmap.window_chars, trail=TRAIL, strip_cells=self.strip.capacity(),
                    unit=self.unit, unit_state=self.unit_state, colour_mode=self.colour_combo.currentText(),
                    rows=self.rows_combo.currentData(), signal_name=self.finder.signal_name(),
                    clamp=self.experiments.write_panel.clamp if self.session is not None
                    and self.session.rec is not None else None,
                    attention_layer=self.attention.layer, attention_head=self.attention.head,
                    gates=self.gates.isVisibleTo(self), memory=self.memory_panel.isVisibleTo(self),
                    unrolled=self.unrolled.isVisibleTo(self), trajectory=self.trajectory.isVisibleTo(self),
                    predictions=self.predictions.isVisibleTo(self))

    def _controls_changed(self, *_: object) -> None:
        self._controls = None

    def render(self) -> None:  # type: ignore[override]  # the lab's own verb (tests, shell); Qt's render(target) is never called on it
        """Render now: the session's frame for the current text and cursor, routed to the panels."""
        self.scheduler.stop()                      # this frame covers any frame already queued
        self.render_guard(None)
        self.memory_panel.feed_now()               # every panel fed before this returns

    def _drop_unit(self) -> None:
        """After a frame that failed: the next one without the selected unit (one retry)."""
        if self.unit is not None:
            self.select_unit(None)

    def _draw(self, _request: object) -> None:
        s = self.session
        if s is None or s.pending or self._sync_timer.isActive():
            return                                 # the text sync renders when it is done
        req = self.frame_request()
        self._skipped = {w for w, on in ((self.gates, req.gates), (self.memory_panel, req.memory),
                                         (self.unrolled, req.unrolled), (self.trajectory, req.trajectory),
                                         (self.predictions, req.predictions)) if not on}
        self._drawing = True
        try:
            self._route(build_view(s, self.cursor_index(), req))
        finally:
            self._drawing = False

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        """A panel the last frame skipped (on a hidden tab) is shown: render now, before it paints.
        A watched panel shown, hidden or resized: the controls' part of the request is read again."""
        kind = event.type()
        if kind in (QtCore.QEvent.Type.Show, QtCore.QEvent.Type.Hide, QtCore.QEvent.Type.Resize):
            self._controls = None
        if kind == QtCore.QEvent.Type.Show and obj in self._skipped and not self._drawing:
            self._skipped = set()
            self.render()
        return False

    def _route(self, v: SequenceView) -> None:
        """Each panel gets its part of the view; nothing is computed here."""
        self.view = v
        self.heatmap.set_rows(v.rows)
        self.heatmap.show_states(v.h_rows, v.start, v.step, v.unit_row, v.chars, v.x_range)
        if v.gates:
            self.gates.show_gates(v.gates, v.start, v.step, v.unit, v.x_range)
        if v.attention is not None:
            self.attention.show_attention(v.attention)
        if v.request.trajectory:                   # (a hidden one keeps its last frame until shown)
            self.trajectory.show_points(v.trail, v.trail_chars, first=v.trail_first)
        if v.request.predictions:
            self.predictions.show_top(v.top, v.actual, v.clamped_p)
        self.strip.set_cells(v.strip_chars, v.strip_probs, v.cursor - 1 - v.strip_start, v.strip_unknown)
        if v.attention is None:                    # a transformer is not unrolled through a state
            self.unrolled.show_steps(v.steps, v.unit, v.cell)
        if v.pending_memory.elsewhere:             # the worker computes it while the others paint:
            self.memory_panel.show_when_painted(self._feed_memory)  # collected as the panel paints
        else:
            self._feed_memory()                   # now (and any numbers still promised are dropped)
        if self.model_combo.toolTip() != v.description:
            self.model_combo.setToolTip(v.description)
        self.colourer.set_palette(*PALETTES[v.colour_palette])
        values, offset = v.colour if v.colour is not None else (None, 0)
        self.colourer.apply(values, v.unknown, offset, self._pos, v.request.visible)   # measured for the frame
        self.frames += 1
        self.rendered.emit()

    def _feed_memory(self) -> None:
        self._memory_guard(None)                   # -> _show_memory

    def _show_memory(self) -> None:
        """The Memory panel gets the last frame's influence (collected: the worker's answer, or
        computed here if the worker did not take the job or is late: the same numbers)."""
        v = self.view
        if v is None:
            return
        m = v.memory
        if m is None:
            self.memory_panel.show_memory(0, None, "", "", False)
        else:
            self.memory_panel.show_memory(m.start, m.weights, v.memory_chars, m.label, m.actual, v.memory_noun)
        self.memory_shown.emit()

    # -- settings & teardown -------------------------------------------------------------
    def _save(self, key: str, value: object) -> None:
        if self._settings is not None:
            self._settings.setValue(key, value)

    def _restore(self) -> None:
        wanted = self._settings.value("sequence/model") if self._settings is not None else None
        index = max(self.model_combo.findText(str(wanted)), 0) if wanted else 0
        if self.model_combo.count():
            self.model_picker.show_index(index)
            self.load_model(index)
        self.restore_settings()

    # -- Lab protocol (explorer.ui.widgets.lab_protocol) ----------------------------------------
    def say(self, text: str) -> None:
        """Show a message under the finder and in the window's status bar (tags stripped)."""
        self.status_label.setText(text)
        self.status.emit(QtGui.QTextDocumentFragment.fromHtml(text).toPlainText())

    def model_label(self) -> str:
        s = self.session
        if s is None:
            return "sequence model: none"
        name = self._model_label or s.name
        size = f"{s.hidden_size} units" if s.cell in name else f"{s.cell}, {s.hidden_size} units"
        if s.rec is None:
            size = (f"transformer, {getattr(s, 'n_layers', 0)} layers × {getattr(s, 'n_heads', 0)} heads, "
                    f"width {s.hidden_size}")
        return f"sequence model: <b>{name}</b> · {size}"

    def save_settings(self, s: QtCore.QSettings | None = None) -> None:
        """Splitter sizes (the model is saved when picked)."""
        s = s if s is not None else self._settings
        if s is None:
            return
        for name, sp in self._splitters.items():
            s.setValue(f"sequence/splitter_{name}", self.fold.wide_state() if sp is self.fold.rows else sp.saveState())

    def restore_settings(self, s: QtCore.QSettings | None = None) -> None:
        """Splitter sizes; the model and text are restored when the lab is built."""
        s = s if s is not None else self._settings
        if s is None:
            return
        for name, sp in self._splitters.items():
            state = s.value(f"sequence/splitter_{name}")
            if isinstance(state, QtCore.QByteArray):
                self.fold.restore_wide_state(state) if sp is self.fold.rows else sp.restoreState(state)

    def shutdown(self) -> None:
        """Stop every timer (no timer is left running after close)."""
        for timer in (self._sync_timer, self._chunk_timer):
            timer.stop()
        self.scheduler.stop()
        self.experiments.shutdown()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)
