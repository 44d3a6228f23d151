"""DigitSession: the Digit Lab's state and maths, with no Qt (testable headless).

The session holds the drawing (``session.drawing``, see ``explorer.session.drawing``), the
model that looks at it, the user's edits of that model, and what the lab asks to see
(``ViewOptions``). ``compute()`` reads the drawing with the model -> ``DigitReading`` (the
network input, the engine's Trace, the probabilities); the cell explanations, receptive
fields, pool winners and ``saliency`` (gradient of the top logit w.r.t. the input via
``Model.backward``) are asked of it. ``digit_view.build_view(session)`` turns all of that
into one view per render. The model changes only here; ``listeners`` hear of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from explorer.analysis.cnn_explain import ConvExplanation, PoolExplanation, conv_cell, pool_cell, receptive_field
from explorer.engine import Model, Trace
from explorer.session.drawing import DEFAULT_PEN, Drawing, DrawingState, Stroke, network_input
from explorer.session.listeners import Listeners
from explorer.session.model_edits import ModelEdits

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Stage:
    """A panel-worthy layer output: index into Trace.outputs, kind conv/relu/pool/dense."""

    index: int
    kind: str
    name: str
    shape: tuple[int, ...]

    @property
    def title(self) -> str:
        """'conv1 · 8 × 28×28' (channels × plane) or 'dense1 · 64'."""
        if len(self.shape) == 3:
            c, h, w = self.shape
            return f"{self.name} · {c} × {h}×{w}"
        return f"{self.name} · {' × '.join(map(str, self.shape))}"


@dataclass(frozen=True)
class DigitReading:
    """The model's reading of the drawing. x: (1, 1, 28, 28) network input; trace: engine Trace;
    probs: (10,) float32; state: the drawing read."""

    x: F32
    trace: Trace
    probs: F32
    state: DrawingState | None = None


@dataclass(frozen=True)
class ViewOptions:
    """What the lab asks to see: colour scope, saliency, pool winners, the selected cell.

    selection: (stage index, channel, row, col) of a clicked map cell, or None.
    """

    scope: str = "layer"
    saliency: bool = False
    winners: bool = False
    selection: tuple[int, int, int, int] | None = None


def stages_of(model: Model, input_shape: tuple[int, ...] = (1, 1, 28, 28)) -> list[Stage]:
    """model -> the layer outputs worth a panel: conv (pre-ReLU), relu, pool, hidden dense."""
    stages: list[Stage] = []
    x = np.zeros(input_shape, np.float32)
    n_conv = n_dense = 0
    last = "input"
    layers = list(model.layers)
    for i, layer in enumerate(layers):
        x = layer.forward(x)[0]
        t, shape = layer.type_name, tuple(x.shape[1:])
        if t == "Conv2d":
            n_conv += 1
            stages.append(Stage(i, "conv", f"conv{n_conv}", shape))
            last = "conv"
        elif t == "ReLU" and last == "conv":
            stages.append(Stage(i, "relu", f"relu{n_conv}", shape))
            last = "relu"
        elif t == "MaxPool2d":
            stages.append(Stage(i, "pool", f"pool{n_conv}", shape))
            last = "pool"
        elif t == "Linear" and i < len(layers) - 1:
            n_dense += 1
            nxt = layers[i + 1].type_name if i + 1 < len(layers) else ""
            last = "dense"
            if nxt not in ("ReLU", "Tanh", "Sigmoid"):
                stages.append(Stage(i, "dense", f"dense{n_dense}", shape))
        elif t in ("ReLU", "Tanh", "Sigmoid") and last == "dense":
            stages.append(Stage(i, "dense", f"dense{n_dense}", shape))
        else:
            last = t.lower()
    return stages


class DigitSession:
    """The drawing, the model that looks at it, its edits and the view options. No Qt.

    ``compute()`` -> DigitReading | None (None while the canvas is empty: show "draw a digit").
    The drawing's own methods (strokes, undo, its file) are handed on to ``drawing``;
    ``version`` bumps on every visible change, of the drawing or of the model.
    """

    def __init__(self, model: Model) -> None:
        model.eval()
        self.drawing = Drawing()
        self._model = model
        self.stages = stages_of(model)
        self.edits = ModelEdits(model)                    # the user's edits of this model
        self.options = ViewOptions()
        self.palette: npt.NDArray[np.uint8] | None = None # the saliency's colour table (None: the view's own)
        self.listeners: Listeners[str] = Listeners()      # told "model" | "weights"
        self.weights_version = 0                          # bumps when the weights change
        self._model_changes = 0                           # model swaps, new weights, edits

    @property
    def model(self) -> Model:
        """The model the drawing is read with: the loaded one, or its edited working copy."""
        return self._model

    @model.setter
    def model(self, model: Model) -> None:
        """Another model object: its edits start empty (edits belong to the model they were made on)."""
        self._model = model
        if model is not self.edits.unedited:
            self.edits = ModelEdits(model)

    @property
    def version(self) -> int:
        """Bumps on every visible change (the drawing's or the model's)."""
        return self.drawing.version + self._model_changes

    # -- the drawing (owned by ``drawing``; these hand on to it) ---------------------
    @property
    def state(self) -> DrawingState:
        """The drawing as shown, including the stroke in progress."""
        return self.drawing.state

    @property
    def committed(self) -> DrawingState:
        """The drawing without the pen stroke in progress (an eraser acts on it directly)."""
        return self.drawing.committed

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return self.drawing.strokes

    @property
    def is_empty(self) -> bool:
        return self.drawing.is_empty

    @property
    def live_points(self) -> F32 | None:
        """(K, 2) points of the pen stroke in progress (None when none, or erasing); they only grow."""
        return self.drawing.live_points

    @property
    def live_width(self) -> float:
        return self.drawing.live_width

    @property
    def stroke_count(self) -> int:
        return self.drawing.stroke_count

    @property
    def erase_log(self) -> list[tuple[DrawingState, DrawingState, tuple[float, float, float, float]]]:
        return self.drawing.erase_log

    def begin_stroke(self, x: float, y: float, width: float = DEFAULT_PEN, erase: bool = False) -> None:
        self.drawing.begin_stroke(x, y, width, erase)

    def extend_stroke(self, x: float, y: float) -> None:
        self.drawing.extend_stroke(x, y)

    def end_stroke(self) -> None:
        self.drawing.end_stroke()

    def clear(self) -> None:
        self.drawing.clear()

    def set_background(self, ink: np.ndarray) -> None:
        self.drawing.set_background(ink)

    def set_strokes(self, strokes: list[Stroke] | tuple[Stroke, ...]) -> None:
        self.drawing.set_strokes(strokes)

    def set_drawing(self, state: DrawingState) -> None:
        self.drawing.set_drawing(state)

    def can_undo(self) -> bool:
        return self.drawing.can_undo()

    def can_redo(self) -> bool:
        return self.drawing.can_redo()

    def undo(self) -> bool:
        return self.drawing.undo()

    def redo(self) -> bool:
        return self.drawing.redo()

    def save(self, path: str | os.PathLike[str]) -> None:
        self.drawing.save(path)

    def load(self, path: str | os.PathLike[str]) -> None:
        self.drawing.load(path)

    def forget(self) -> None:
        self.drawing.forget()

    # -- what the network computes -------------------------------------------------
    def compute(self) -> DigitReading | None:
        """Preprocess the drawing and trace the model: DigitReading, or None when empty."""
        x = self.drawing.network_input()
        if x is None:
            return None
        trace = self.model.trace(x)
        probs = np.asarray(trace.probs, np.float32).reshape(-1)
        return DigitReading(x, trace, probs, self.state)

    def classify_strokes(self, strokes: list[np.ndarray] | tuple[Stroke, ...]) -> F32 | None:
        """strokes ((K, 2) arrays or Stroke) -> (10,) float32 probabilities; None if empty."""
        pts = [s if isinstance(s, Stroke) else Stroke(np.asarray(s, np.float32).reshape(-1, 2))
               for s in strokes]
        x = network_input(DrawingState(tuple(pts)))
        if x is None:
            return None
        return np.asarray(self.model.trace(x).probs, np.float32).reshape(-1)

    def explain_conv_cell(self, reading: DigitReading, index: int, channel: int,
                          row: int, col: int) -> ConvExplanation:
        """Conv2d layer ``index``, output cell (channel, row, col) -> the sum, from parameters."""
        return conv_cell(self.model, reading.x, reading.trace, index, channel, row, col)

    def explain_pool_cell(self, reading: DigitReading, index: int, channel: int,
                          row: int, col: int) -> PoolExplanation:
        """MaxPool2d layer ``index``, cell (channel, row, col) -> its window and winner."""
        return pool_cell(self.model, reading.x, reading.trace, index, channel, row, col)

    def receptive_field(self, index: int, row: int, col: int) -> tuple[int, int, int, int]:
        """(r0, c0, r1, c1) on the 28×28 input, clipped to the image."""
        r0, c0, r1, c1 = receptive_field(self.model, index, row, col)
        return max(r0, 0), max(c0, 0), min(r1, 27), min(c1, 27)

    def pool_winner_mask(self, reading: DigitReading, pool_index: int,
                         positive_only: bool = True) -> npt.NDArray[np.bool_]:
        """MaxPool2d ``pool_index`` -> (C, H, W) bool over its input: True where a pool won.

        ``positive_only``: leave out winners of all-zero windows (ties at 0 after ReLU).
        """
        src = reading.trace.outputs[pool_index - 1] if pool_index else reading.x
        c, h, w = src.shape[1:]
        win = np.asarray(reading.trace.extras[pool_index]["winner"][0], np.int64).reshape(c, -1)
        mask = np.zeros((c, h * w), bool)
        np.put_along_axis(mask, win, True, axis=1)
        if positive_only:                 # a window of zeros has no meaningful winner
            mask &= np.asarray(src[0]).reshape(c, -1) > 0
        return mask.reshape(c, h, w)

    def saliency(self, reading: DigitReading) -> F32:
        """(28, 28) float32 d logit[top class] / d input, through the engine's backward."""
        logits = self.model.forward(reading.x)
        dy = np.zeros_like(logits)
        dy[0, int(np.argmax(reading.probs))] = 1.0
        dx = self.model.backward(dy)
        self.model.zero_grad()
        return np.ascontiguousarray(np.asarray(dx, np.float32).reshape(28, 28))

    def activations(self, reading: DigitReading) -> dict[str, np.ndarray]:
        """All layer outputs of the current drawing, named for an .npz export."""
        out: dict[str, np.ndarray] = {"input": reading.x[0, 0]}
        for i, (name, y) in enumerate(zip(reading.trace.names, reading.trace.outputs)):
            key = f"{i:02d}_{name.split('·')[-1].strip()}"
            out[key] = np.asarray(y[0])
        out["probs"] = reading.probs
        return out

    # -- the model changes only here; the listeners hear of it ---------------------
    def _model_changed(self, what: str) -> None:
        self._model_changes += 1
        self.weights_version += 1
        self.listeners.tell(what)

    def set_model(self, model: Model) -> None:
        """Swap the network (edits belonged to the old one); the drawing stays."""
        model.eval()
        self._model = model
        self.stages = stages_of(model)
        self.edits = ModelEdits(model)
        self.options = replace(self.options, selection=None)
        self._model_changed("model")

    def load_weights(self, state_dict: Mapping[str, np.ndarray]) -> None:
        """New parameters for the same architecture (a model training in the Train tab)."""
        self.reset_edits()
        self.model.load_state_dict(dict(state_dict))
        self._model_changed("weights")

    def follow(self, model: Model) -> None:
        """Follow a model being trained elsewhere: its weights when the architecture is ours
        (same panels), else the model itself."""
        if self.model.arch()["layers"] == model.arch()["layers"]:
            self.load_weights(model.state_dict())
        else:
            self.set_model(model)

    def set_options(self, **changes: Any) -> None:
        """Change what the view shows: scope, saliency, winners, selection (see ViewOptions)."""
        self.options = replace(self.options, **changes)

    def set_palette(self, lut: np.ndarray) -> None:
        """(256, 3) uint8 colour table the saliency is coloured with (blue < 0 < red)."""
        self.palette = np.asarray(lut, np.uint8).reshape(256, 3)

    # -- edits apply to a working copy; the model file is never touched ---------------
    @property
    def unedited_model(self) -> Model:
        """The model as loaded (== ``model`` while nothing is edited)."""
        return self.edits.unedited

    def _apply_edits(self) -> None:
        self._model = self.edits.working_model()       # the working copy keeps its edits
        self._model_changes += 1

    def set_channel_scale(self, layer: int, channel: int, scale: float) -> None:
        """Channel (or dense unit) ``channel`` of layer ``layer`` times ``scale`` (0 = off, 1 = as learned)."""
        self.edits.set_scale(layer, channel, scale)
        self._apply_edits()

    def set_kernel(self, layer: int, c_out: int, c_in: int, kernel: np.ndarray) -> None:
        """Replace one k x k kernel slice of a Conv2d (on the working copy)."""
        self.edits.set_kernel(layer, c_out, c_in, kernel)
        self._apply_edits()

    def reset_edits(self) -> None:
        """Back to the unedited model object (every output bit for bit as before)."""
        self.edits.scales.clear()
        self.edits.kernels.clear()
        self._apply_edits()

    def unedited_probs(self, reading: DigitReading) -> F32 | None:
        """The unedited model's probabilities for ``reading``'s input; None while nothing is edited."""
        if not self.edits.active:
            return None
        return np.asarray(self.edits.unedited.trace(reading.x).probs, np.float32).reshape(-1)

    def live_probs(self, x: np.ndarray) -> F32:
        """(28, 28) network input -> (10,) float32, the same sums as ``compute()``."""
        return np.asarray(self.model.trace(np.asarray(x, np.float32).reshape(1, 1, 28, 28)).probs,
                          np.float32).reshape(-1)


def default_digit_model(seed: int = 0) -> Model:
    """Randomly initialised model of the shipped digit CNN's architecture (untrained)."""
    from explorer.training.digits import build_model

    model = build_model("cnn", seed)
    model.meta = {"name": "digits_cnn (untrained)", "trained": False}
    return model
