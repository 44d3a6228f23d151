"""The Train lab's widgets: controls on the left, curves and pictures on the right.

``build(lab)`` creates them as attributes of ``lab`` (a ``TrainLab``) and connects them to
its slots; ``explorer.ui.train.lab`` keeps the behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from explorer.session.train import KINDS, TrainConfig
from explorer.ui.train.panels import CurvePanel, KernelPanel, TrajectoryPanel
from explorer.ui.widgets.fit import scrolled
from explorer.ui.widgets.style import header, note

if TYPE_CHECKING:
    from explorer.ui.train.lab import TrainLab


def build(lab: TrainLab) -> None:
    """Every widget of the lab, laid out, with its tooltip and its connection."""
    lab.kind = QtWidgets.QComboBox()
    for key, name in KINDS.items():
        lab.kind.addItem(name, key)
    lab.kind.setToolTip("Which model to train: the digit CNN, the row-by-row RNN for digits, "
                        "a small recurrent model on a toy language, or a character model on text.")
    lab.preset, lab.data = QtWidgets.QComboBox(), QtWidgets.QComboBox()
    lab.preset.setToolTip("Architecture preset: layer sizes and recurrent cell.")
    lab.data.setToolTip("Where the examples come from (MNIST found on this machine, a toy "
                        "language, or a text corpus).")
    lab.optimizer = QtWidgets.QComboBox()
    lab.optimizer.addItems(["Adam", "SGD"])
    lab.optimizer.setToolTip("Adam adapts a step size per weight; SGD uses momentum 0.9.")
    lab.lr = QtWidgets.QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1e4)
    lab.lr.setStepType(QtWidgets.QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    lab.lr.setToolTip("Learning rate. Try 1000 with clipping off to see a diverging run stop "
                      "with a message and keep its last good weights.")
    lab.batch = QtWidgets.QSpinBox(minimum=1, maximum=1024)
    lab.epochs = QtWidgets.QSpinBox(minimum=1, maximum=500)
    lab.steps = QtWidgets.QSpinBox(minimum=1, maximum=100000)
    lab.clip = QtWidgets.QDoubleSpinBox(decimals=1, minimum=0.0, maximum=1000.0, singleStep=0.5)
    lab.clip.setSpecialValueText("off")
    lab.clip.setToolTip("Clip the gradient norm to this value before each step (0 = off). "
                        "Without clipping a too-high learning rate blows the loss up.")
    lab.batch.setToolTip("Examples per optimiser step.")
    lab.epochs.setToolTip("Epochs; validation runs after each one.")
    lab.steps.setToolTip("Optimiser steps per epoch.")
    form_m, form_o = QtWidgets.QFormLayout(), QtWidgets.QFormLayout()
    form_m.addRow("Model", lab.kind)
    form_m.addRow("Architecture", lab.preset)
    form_m.addRow("Data", lab.data)
    for label, w in (("Optimiser", lab.optimizer), ("Learning rate", lab.lr), ("Clip gradients", lab.clip),
                     ("Batch size", lab.batch), ("Epochs", lab.epochs), ("Steps / epoch", lab.steps)):
        form_o.addRow(label, w)
    box_m, box_o = QtWidgets.QWidget(), QtWidgets.QWidget()
    box_m.setLayout(form_m)
    box_o.setLayout(form_o)
    lab.summary = note("")
    lab.summary.setTextFormat(QtCore.Qt.TextFormat.PlainText)

    sp = QtWidgets.QStyle.StandardPixmap
    icon = lab.style().standardIcon
    lab.start_btn = QtWidgets.QPushButton(icon(sp.SP_MediaPlay), "Start")
    lab.pause_btn = QtWidgets.QPushButton(icon(sp.SP_MediaPause), "Pause")
    lab.pause_btn.setCheckable(True)
    lab.step_btn = QtWidgets.QPushButton(icon(sp.SP_MediaSkipForward), "Step")
    lab.stop_btn = QtWidgets.QPushButton(icon(sp.SP_MediaStop), "Stop")
    lab.reset_btn = QtWidgets.QPushButton(icon(sp.SP_BrowserReload), "Reset")
    lab.save_btn = QtWidgets.QPushButton(icon(sp.SP_DialogSaveButton), "Save model…")
    tips = {lab.start_btn: "Start training (continues from the current weights after a stop).",
            lab.pause_btn: "Pause / resume; the thread waits between two steps.",
            lab.step_btn: "Run exactly one optimiser step, then pause.",
            lab.stop_btn: "Stop after the current step; the weights are kept.",
            lab.reset_btn: "Throw the weights away: a fresh, seeded model.",
            lab.save_btn: "Save the model now (atomic: a temporary file, then a rename)."}
    for b, t in tips.items():
        b.setToolTip(t)
    grid = QtWidgets.QGridLayout()
    for i, b in enumerate((lab.start_btn, lab.pause_btn, lab.step_btn, lab.stop_btn,
                           lab.reset_btn, lab.save_btn)):
        grid.addWidget(b, i // 2, i % 2)
    lab.progress = QtWidgets.QProgressBar()
    lab.progress.setFormat("step %v / %m")
    lab.progress.setToolTip("Optimiser steps of this run, and the estimated time left.")
    lab.eta = QtWidgets.QLabel("ready")
    lab.message = QtWidgets.QLabel("")
    lab.message.setWordWrap(True)

    left = QtWidgets.QVBoxLayout()
    left.addWidget(header("Train lab", "Train a model and watch it learn."))
    left.addWidget(note("Pick a model and its data, then Start. You can keep drawing or typing "
                        "in the other labs: they can use the model while it learns."))
    # what and how as two pages: the column fits a 1024×640 window without scrolling
    settings = QtWidgets.QTabWidget()
    settings.setObjectName("trainSettings")
    for w, title in ((box_m, "what to train"), (box_o, "how to train")):
        settings.addTab(w, title)
    left.addWidget(settings)
    left.addLayout(grid)
    left.addWidget(lab.progress)
    left.addWidget(lab.eta)
    left.addWidget(lab.message)
    left.addWidget(lab.summary)
    # -- fine-tune the digit model on my examples: its own window --
    from explorer.ui.train.finetune_panel import FinetunePanel
    lab.finetune_panel = FinetunePanel(lab)
    lab.finetune_panel.setWindowFlag(QtCore.Qt.WindowType.Window)
    lab.finetune_panel.resize(900, 620)
    lab.finetune_btn = QtWidgets.QPushButton("Fine-tune on my examples…")
    lab.finetune_btn.setToolTip("Teach the Digit Lab's model your handwriting from the examples "
                                "you kept (Digits tab: draw, then press the digit key)")
    lab.finetune_btn.clicked.connect(lambda: (lab.finetune_panel.show(), lab.finetune_panel.raise_()))
    left.addWidget(lab.finetune_btn)
    left.addStretch(1)
    inner = QtWidgets.QWidget()
    inner.setLayout(left)
    side = scrolled(inner)                    # scrolls when the window is short
    side.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    side.setFixedWidth(345)

    lab.loss_panel = CurvePanel("loss", "Loss (cross-entropy)", "loss (nats)",
                                "Cross-entropy of each training batch (light), its running mean "
                                "(blue) and the validation loss after each epoch (green). Lower is better; "
                                "a gap between blue and green means over-fitting.")
    lab.acc_panel = CurvePanel("acc", "Accuracy", "fraction correct",
                               "Fraction of correct answers on each training batch and on the "
                               "held-out validation set after each epoch.")
    lab.kernels = KernelPanel()
    lab.trajectory = TrajectoryPanel()
    lab.picture = QtWidgets.QStackedWidget()
    lab.picture.addWidget(lab.kernels)
    lab.picture.addWidget(lab.trajectory)
    right = QtWidgets.QGridLayout()
    right.addWidget(lab.loss_panel, 0, 0)
    right.addWidget(lab.acc_panel, 0, 1)
    right.addWidget(lab.picture, 1, 0, 1, 2)
    right.setRowStretch(0, 1)
    right.setRowStretch(1, 1)
    outer = QtWidgets.QHBoxLayout(lab)
    outer.addWidget(side)
    outer.addLayout(right, 1)

    lab.kind.currentIndexChanged.connect(lab._kind_changed)
    for w in (lab.preset, lab.data):
        w.currentIndexChanged.connect(lab._model_changed)
    lab.start_btn.clicked.connect(lab.start)
    lab.pause_btn.toggled.connect(lab.set_paused)
    lab.step_btn.clicked.connect(lab.step)
    lab.stop_btn.clicked.connect(lab.stop)
    lab.reset_btn.clicked.connect(lab.reset)
    lab.save_btn.clicked.connect(lab._save_dialog)


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
