"""The user's examples, shared by two labs: the Digit Lab keeps drawings as examples (its keep
bar and gallery), the Train tab's fine-tuning learns from them, and a fine-tuned model the user
saves becomes the Digit Lab's model. Both labs get the folder from here; neither knows the other.

The folder is ``<app data>/my_digits``, beside the settings file (honours XDG_CONFIG_HOME).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore

from explorer.data.examples import EXAMPLES_DIRNAME

if TYPE_CHECKING:
    from explorer.engine import Model
    from explorer.ui.digit.lab import DigitLab
    from explorer.ui.train.finetune_panel import FinetunePanel
    from explorer.ui.train.lab import TrainLab


def examples_folder(settings: QtCore.QSettings) -> Path:
    """``<app data>/my_digits``: beside the settings file."""
    return Path(settings.fileName()).resolve().parent / EXAMPLES_DIRNAME


def link_examples(window: QtCore.QObject, digit: DigitLab, train: TrainLab | None,
                  folder: str | Path | None = None) -> StopOnClose | None:
    """One examples folder for the Digit Lab's keep bar, its gallery and the Train tab's
    fine-tuning (``folder``, or the one beside ``window.settings``); -> the watcher that stops
    a running fine-tuning when ``window`` closes (keep it), None without a Train tab."""
    folder = Path(folder) if folder is not None else examples_folder(window.settings)  # type: ignore[attr-defined]  # the main window's (typed QObject: no import cycle)
    digit.keeper.set_folder(folder)
    panel = getattr(train, "finetune_panel", None)
    if panel is None:
        return None
    panel.set_sources(folder, lambda: digit.session.model)
    panel.model_saved.connect(lambda model, _path: use_finetuned(digit, model))
    watch = StopOnClose(panel, window)
    window.installEventFilter(watch)
    return watch


class StopOnClose(QtCore.QObject):
    """Stops a running fine-tuning thread when the window closes (before the window saves and
    waits for its workers, so that wait is not spent on it)."""

    def __init__(self, panel: FinetunePanel, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self.panel = panel

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if ev.type() == QtCore.QEvent.Type.Close:
            self.panel.stop()
        return False


def use_finetuned(digit: DigitLab, model: Model) -> None:
    """The model just fine-tuned and saved becomes the Digit Lab's (its gallery re-reads)."""
    digit.set_model(model)
    gallery = digit.gallery
    if gallery is not None and gallery.isVisible():
        gallery.reload()
    digit.describe_model(source="fine-tuned on my examples")
    digit.status.emit("the Digit Lab now reads with the fine-tuned model")
