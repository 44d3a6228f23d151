"""The Train lab's two control groups: what and how to train (``TrainSettings``) and the run
buttons (``RunButtons``). Each owns its widgets and says what the user did through signals;
``explorer.ui.train.lab`` lays them out and acts on them.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from explorer.session.train import DATA, KINDS, PRESETS, TrainConfig, default_config


class TrainSettings(QtWidgets.QTabWidget):
    """Two pages: the model, its architecture and data; the optimiser and its numbers.

    ``model_chosen(kind)``: the model to train changed (another kind, preset or data set, or
    a whole configuration set with ``set_config``). A new kind brings its default settings."""

    model_chosen = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainSettings")
        self.kind = QtWidgets.QComboBox()
        for key, name in KINDS.items():
            self.kind.addItem(name, key)
        self.kind.setToolTip("Which model to train: the digit CNN, the row-by-row RNN for digits, "
                             "a small recurrent model on a toy language, or a character model on text.")
        self.preset, self.data = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        self.preset.setToolTip("Architecture preset: layer sizes and recurrent cell.")
        self.data.setToolTip("Where the examples come from (MNIST found on this machine, a toy "
                             "language, or a text corpus).")
        self.optimizer = QtWidgets.QComboBox()
        self.optimizer.addItems(["Adam", "SGD"])
        self.optimizer.setToolTip("Adam adapts a step size per weight; SGD uses momentum 0.9.")
        self.lr = QtWidgets.QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1e4)
        self.lr.setStepType(QtWidgets.QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr.setToolTip("Learning rate. Try 1000 with clipping off to see a diverging run stop "
                           "with a message and keep its last good weights.")
        self.batch = QtWidgets.QSpinBox(minimum=1, maximum=1024)
        self.epochs = QtWidgets.QSpinBox(minimum=1, maximum=500)
        self.steps = QtWidgets.QSpinBox(minimum=1, maximum=100000)
        self.clip = QtWidgets.QDoubleSpinBox(decimals=1, minimum=0.0, maximum=1000.0, singleStep=0.5)
        self.clip.setSpecialValueText("off")
        self.clip.setToolTip("Clip the gradient norm to this value before each step (0 = off). "
                             "Without clipping a too-high learning rate blows the loss up.")
        self.batch.setToolTip("Examples per optimiser step.")
        self.epochs.setToolTip("Epochs; validation runs after each one.")
        self.steps.setToolTip("Optimiser steps per epoch.")
        form_m, form_o = QtWidgets.QFormLayout(), QtWidgets.QFormLayout()
        form_m.addRow("Model", self.kind)
        form_m.addRow("Architecture", self.preset)
        form_m.addRow("Data", self.data)
        for label, w in (("Optimiser", self.optimizer), ("Learning rate", self.lr), ("Clip gradients", self.clip),
                         ("Batch size", self.batch), ("Epochs", self.epochs), ("Steps / epoch", self.steps)):
            form_o.addRow(label, w)
        # what and how as two pages: the column fits a 1024×640 window without scrolling
        for form, title in ((form_m, "what to train"), (form_o, "how to train")):
            page = QtWidgets.QWidget()
            page.setLayout(form)
            self.addTab(page, title)
        self.kind.currentIndexChanged.connect(lambda _i: self.set_config(default_config(self.kind.currentData())))
        for combo in (self.preset, self.data):
            combo.currentIndexChanged.connect(lambda _i: self.model_chosen.emit(self.kind.currentData()))

    def config(self) -> TrainConfig:
        return TrainConfig(kind=self.kind.currentData(), preset=self.preset.currentText(),
                           data=self.data.currentText(), optimizer=self.optimizer.currentText(),
                           lr=float(self.lr.value()), batch_size=self.batch.value(),
                           epochs=self.epochs.value(), steps_per_epoch=self.steps.value(),
                           clip=float(self.clip.value()))

    def set_config(self, cfg: TrainConfig) -> None:
        """Show `cfg` (the kind's presets and data sets in the lists), then ``model_chosen``."""
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(cfg.kind))
        self.kind.blockSignals(False)
        for combo, items, value in ((self.preset, list(PRESETS[cfg.kind]), cfg.preset),
                                    (self.data, DATA[cfg.kind], cfg.data)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.setCurrentText(value)
            combo.blockSignals(False)
        self.optimizer.setCurrentText(cfg.optimizer)
        self.lr.setValue(cfg.lr)
        self.clip.setValue(cfg.clip)
        self.batch.setValue(cfg.batch_size)
        self.epochs.setValue(cfg.epochs)
        self.steps.setValue(cfg.steps_per_epoch)
        self.model_chosen.emit(cfg.kind)

    def set_choosable(self, on: bool) -> None:
        """The model, architecture and data cannot change while a run goes on."""
        for w in (self.kind, self.preset, self.data):
            w.setEnabled(on)


class RunButtons(QtWidgets.QWidget):
    """Start / Pause / Step / Stop / Reset / Save model, two a row; each click is a signal."""

    start_clicked = QtCore.Signal()
    pause_toggled = QtCore.Signal(bool)
    step_clicked = QtCore.Signal()
    stop_clicked = QtCore.Signal()
    reset_clicked = QtCore.Signal()
    save_clicked = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        sp = QtWidgets.QStyle.StandardPixmap
        icon = self.style().standardIcon
        self.start_btn = QtWidgets.QPushButton(icon(sp.SP_MediaPlay), "Start")
        self.pause_btn = QtWidgets.QPushButton(icon(sp.SP_MediaPause), "Pause")
        self.pause_btn.setCheckable(True)
        self.step_btn = QtWidgets.QPushButton(icon(sp.SP_MediaSkipForward), "Step")
        self.stop_btn = QtWidgets.QPushButton(icon(sp.SP_MediaStop), "Stop")
        self.reset_btn = QtWidgets.QPushButton(icon(sp.SP_BrowserReload), "Reset")
        self.save_btn = QtWidgets.QPushButton(icon(sp.SP_DialogSaveButton), "Save model…")
        tips = {self.start_btn: "Start training (continues from the current weights after a stop).",
                self.pause_btn: "Pause / resume; the thread waits between two steps.",
                self.step_btn: "Run exactly one optimiser step, then pause.",
                self.stop_btn: "Stop after the current step; the weights are kept.",
                self.reset_btn: "Throw the weights away: a fresh, seeded model.",
                self.save_btn: "Save the model now (atomic: a temporary file, then a rename)."}
        for b, t in tips.items():
            b.setToolTip(t)
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, b in enumerate((self.start_btn, self.pause_btn, self.step_btn, self.stop_btn,
                               self.reset_btn, self.save_btn)):
            grid.addWidget(b, i // 2, i % 2)
        self.start_btn.clicked.connect(self.start_clicked)
        self.pause_btn.toggled.connect(self.pause_toggled)
        self.step_btn.clicked.connect(self.step_clicked)
        self.stop_btn.clicked.connect(self.stop_clicked)
        self.reset_btn.clicked.connect(self.reset_clicked)
        self.save_btn.clicked.connect(self.save_clicked)

    def show_running(self, run: bool) -> None:
        self.start_btn.setEnabled(not run)
        self.pause_btn.setEnabled(run)
        self.stop_btn.setEnabled(run)

    def show_paused(self, paused: bool) -> None:
        """The worker paused or resumed: the button follows without asking again."""
        self.pause_btn.blockSignals(True)
        self.pause_btn.setChecked(paused)
        self.pause_btn.blockSignals(False)
        self.pause_btn.setText("Resume" if paused else "Pause")


def describe(cfg: TrainConfig) -> str:
    """The layers and the parameter count of the model ``cfg`` builds (or why it cannot)."""
    try:
        from explorer.session.train import build_model
        n_in = n_out = 98 if cfg.kind == "text" else 0
        if cfg.kind == "toy":
            from explorer.data import tasks
            spec = tasks.get_task(cfg.data)
            n_in, n_out = len(spec.alphabet), spec.n_classes
        m = build_model(cfg, n_in, n_out)
    except Exception as exc:  # noqa: BLE001 - a description only
        return str(exc)
    layers = " → ".join(layer.type_name for layer in m.layers)
    return f"{layers}\n{m.n_params():,} parameters"
