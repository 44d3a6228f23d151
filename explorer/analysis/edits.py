"""Model edits on a copy, and what a digit model reads; Qt-free.

``edited_copy(model, scales, kernels)``: a *copy* of the model whose conv channel / dense
unit ``(L, C)`` has its weights and bias multiplied by a scale (0 = switched off: since
ReLU(s z) = s ReLU(z) for s >= 0, scaling the weights and bias scales the output) and whose
kernels ``(L, C_out, C_in)`` are replaced. The model passed in is never changed.
``net_input`` / ``predict_probs``: a 28x28 image as a CNN or a row-RNN reads it, and its answer.
"""

from __future__ import annotations

import numpy as np

from explorer.engine import Conv2d, Linear, Model, log_softmax
from explorer.errors import ExplorerError

__all__ = ["Channel", "ExperimentError", "Kernel", "channel_count", "copy_model", "edited_copy", "net_input", "parse_channels",
           "predict_probs", "reads_rows"]

Channel = tuple[int, int]
Kernel = tuple[int, int, int]


class ExperimentError(ExplorerError, ValueError):
    """A bad layer:channel, dream target or transform value (one readable sentence)."""


# -- switching channels off / editing kernels ----------------------------------------
def channel_count(model: Model, layer: int) -> int:
    """Output channels of a Conv2d (or units of a Linear) at state-dict index ``layer``."""
    if not 0 <= layer < len(model.layers):
        raise ExperimentError(f"layer {layer} does not exist (the model has layers 0-{len(model.layers) - 1})")
    lay = model.layers[layer]
    if not isinstance(lay, Conv2d | Linear):
        raise ExperimentError(f"layer {layer} is a {lay.type_name}, which has no channels to edit "
                              f"(choose a Conv2d or Linear layer)")
    return int(lay.params["weight"].shape[0])


def _check_channel(model: Model, layer: int, channel: int) -> None:
    n = channel_count(model, layer)
    if not 0 <= channel < n:
        raise ExperimentError(f"layer {layer} has channels 0-{n - 1}, not {channel}")


def parse_channels(spec: str, model: Model) -> list[Channel]:
    """"0:5,3:2" -> [(0, 5), (3, 2)], checked against ``model``; ExperimentError if bad."""
    out: list[Channel] = []
    for part in str(spec).split(","):
        bits = part.strip().split(":")
        try:
            layer, channel = (int(b) for b in bits) if len(bits) == 2 else (None, None)
        except ValueError:
            layer = channel = None
        if layer is None or channel is None:
            raise ExperimentError(f"{part.strip()!r} is not LAYER:CHANNEL (e.g. 0:5)")
        _check_channel(model, layer, channel)
        out.append((layer, channel))
    return out


def copy_model(model: Model) -> Model:
    """An independent copy (same architecture, copied parameters, inference mode)."""
    twin = Model.from_arch(model.arch())
    twin.astype(model.dtype)
    twin.load_state_dict(model.state_dict())
    return twin.eval()


def edited_copy(model: Model, scales: dict[Channel, float] | None = None,
                kernels: dict[Kernel, np.ndarray] | None = None) -> Model:
    """A copy of ``model`` with kernels replaced, then channel (L, C) weights+bias times scale."""
    twin = copy_model(model)
    for (layer, c_out, c_in), k in (kernels or {}).items():
        _check_channel(model, layer, c_out)
        w = twin.layers[layer].params["weight"]
        if w.ndim != 4 or not 0 <= c_in < w.shape[1]:
            raise ExperimentError(f"layer {layer} has no kernel {c_out}/{c_in}")
        w[c_out, c_in] = np.asarray(k, dtype=w.dtype).reshape(w.shape[2:])
    for (layer, channel), s in (scales or {}).items():
        _check_channel(model, layer, channel)
        s = float(s)
        if not (np.isfinite(s) and 0.0 <= s <= 2.0):
            raise ExperimentError(f"a channel scale must be between 0 and 2, got {s}")
        for name in ("weight", "bias"):
            twin.layers[layer].params[name][channel] *= np.asarray(s, twin.dtype)
    return twin


def reads_rows(model: Model) -> bool:
    """True for a row-RNN (it reads the image as 28 rows), False for a CNN."""
    return bool(model.layers) and bool(getattr(model.layers[0], "recurrent", False))


def net_input(model: Model, x: np.ndarray) -> np.ndarray:
    """A 28x28 image -> what the model reads: (1, 1, 28, 28) for a CNN, (1, 28, 28) rows for a row-RNN."""
    img = np.asarray(x, model.dtype).reshape(28, 28)
    return img[None] if reads_rows(model) else img[None, None]


def predict_probs(model: Model, x: np.ndarray) -> np.ndarray:
    """A 28x28 image -> (1, 10) float64 class probabilities (the same sums as
    ``training.digits.predict_proba``, which analysis may not import)."""
    logits = model.predict(net_input(model, x))
    return np.exp(log_softmax(logits.astype(np.float64)))
