"""Digit experiments, Qt-free: switch channels off, bend the input, ask a unit what it wants.

- ``edited_copy(model, scales, kernels)``: a *copy* of the model whose conv channel / dense
  unit ``(L, C)`` has its weights and bias multiplied by a scale (0 = switched off: since
  ReLU(s z) = s ReLU(z) for s >= 0, scaling the weights and bias scales the output) and whose
  kernels ``(L, C_out, C_in)`` are replaced. The model passed in is never changed.
- ``transform_input(x, name, value)``: shift / rotate / scale / thickness applied to the
  28x28 network input with our own bilinear resampling (numpy only); ``sweep`` runs the
  model over a range of values -> ``Sweep(values, probs, labels)``.
- ``dream(model, target, ...)``: gradient ascent on the input through ``Model.backward``
  with L2, blur and jitter regularisers, pixels clamped to [0, 1]; deterministic per seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from explorer.engine import Conv2d, Linear, Model, log_softmax
from explorer.errors import ExplorerError

__all__ = ["GOAL_P", "PATIENCE", "TRANSFORMS", "Dream", "DreamSettings", "DreamTarget", "ExperimentError", "Sweep", "accuracy_under",
           "channel_count", "check_steps", "copy_model", "dream", "dream_steps", "edited_copy", "identity_value",
           "jittered_gradient", "net_input", "parse_channels", "parse_target", "predict_probs", "quantised", "sweep",
           "sweep_values", "target_activation", "transform_input", "unit_of"]

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


def _reads_rows(model: Model) -> bool:
    return bool(model.layers) and bool(getattr(model.layers[0], "recurrent", False))


def net_input(model: Model, x: np.ndarray) -> np.ndarray:
    """A 28x28 image -> what the model reads: (1, 1, 28, 28) for a CNN, (1, 28, 28) rows for a row-RNN."""
    img = np.asarray(x, model.dtype).reshape(28, 28)
    return img[None] if _reads_rows(model) else img[None, None]


def predict_probs(model: Model, x: np.ndarray) -> np.ndarray:
    """A 28x28 image -> (1, 10) float64 class probabilities (the same sums as
    ``training.digits.predict_proba``, which analysis may not import)."""
    logits = model.predict(net_input(model, x))
    return np.exp(log_softmax(logits.astype(np.float64)))


# -- invariance transforms on the 28x28 input -----------------------------------------
TRANSFORMS = ("shift-x", "shift-y", "rotate", "scale", "thickness")
_IDENTITY = {"shift-x": 0.0, "shift-y": 0.0, "rotate": 0.0, "scale": 1.0, "thickness": 0.0}
_UNITS = {"shift-x": "px", "shift-y": "px", "rotate": "degrees", "scale": "x", "thickness": "px (dilate + / erode -)"}


def sweep_values(name: str) -> np.ndarray:
    """The values a sweep visits (identity included): shifts +-8 px, rotation +-60 deg,
    scale 0.5-1.5x, thickness -3..+3 grey erosions / dilations."""
    if name in ("shift-x", "shift-y"):
        return np.arange(-8, 9, dtype=np.float64)
    if name == "rotate":
        return np.arange(-60, 61, 5, dtype=np.float64)
    if name == "scale":
        return np.round(np.linspace(0.5, 1.5, 21), 6)
    if name == "thickness":
        return np.arange(-3, 4, dtype=np.float64)
    raise ExperimentError(f"unknown transform {name!r} (choose one of {', '.join(TRANSFORMS)})")


def identity_value(name: str) -> float:
    sweep_values(name)                      # validates the name
    return _IDENTITY[name]


def unit_of(name: str) -> str:
    return _UNITS[name]


def _bilinear(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample ``img`` (H, W) at float coordinates (zero outside) -> array shaped like ys."""
    h, w = img.shape
    padded = np.zeros((h + 2, w + 2), np.float64)
    padded[1:-1, 1:-1] = img
    ys = np.clip(ys + 1.0, 0.0, h + 1.0)
    xs = np.clip(xs + 1.0, 0.0, w + 1.0)
    y0 = np.minimum(np.floor(ys).astype(np.int64), h)
    x0 = np.minimum(np.floor(xs).astype(np.int64), w)
    fy, fx = ys - y0, xs - x0
    top = padded[y0, x0] * (1 - fx) + padded[y0, x0 + 1] * fx
    bottom = padded[y0 + 1, x0] * (1 - fx) + padded[y0 + 1, x0 + 1] * fx
    return cast("np.ndarray", top * (1 - fy) + bottom * fy)


def _affine(img: np.ndarray, angle_deg: float = 0.0, scale: float = 1.0,
            dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """Rotate (clockwise on screen for +angle) and scale about the image centre, then shift."""
    h, w = img.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    if angle_deg == 0.0:
        c, s = 1.0, 0.0                       # exact: the identity samples every pixel exactly
    u, v = xx - cx - dx, yy - cy - dy          # output -> source: undo shift, rotation, scale
    src_x = (c * u + s * v) / scale + cx
    src_y = (-s * u + c * v) / scale + cy
    return _bilinear(img, src_y, src_x)


def _grey_morph(img: np.ndarray, steps: int) -> np.ndarray:
    """steps > 0: grey dilation (max over a plus-shaped 3x3), < 0: erosion (min), |steps| times."""
    out = img.astype(np.float64)
    op = np.maximum if steps > 0 else np.minimum
    for _ in range(abs(steps)):
        p = np.pad(out, 1, constant_values=0.0)
        h, w = out.shape
        out = op.reduce([p[1:h + 1, 1:w + 1], p[0:h, 1:w + 1], p[2:h + 2, 1:w + 1],
                         p[1:h + 1, 0:w], p[1:h + 1, 2:w + 2]])
    return out


def transform_input(x: np.ndarray, name: str, value: float) -> np.ndarray:
    """x: (28, 28) or (1, 1, 28, 28) network input -> the same shape, transformed, float32.

    shift-x / shift-y: pixels (+ = right / down); rotate: degrees (+ = clockwise);
    scale: factor about the centre; thickness: integer grey dilations (+) / erosions (-).
    """
    identity_value(name)
    value = float(value)
    if not np.isfinite(value):
        raise ExperimentError(f"the {name} value must be a finite number, got {value}")
    arr = np.asarray(x, np.float64)
    img = arr.reshape(arr.shape[-2:])
    if name == "shift-x":
        out = _affine(img, dx=value)
    elif name == "shift-y":
        out = _affine(img, dy=value)
    elif name == "rotate":
        out = _affine(img, angle_deg=value)
    elif name == "scale":
        if value <= 0:
            raise ExperimentError(f"the scale must be positive, got {value}")
        out = _affine(img, scale=value)
    else:
        if value != round(value):
            raise ExperimentError(f"thickness takes whole steps, got {value}")
        out = _grey_morph(img, int(round(value)))
    return cast("np.ndarray", np.clip(out, 0.0, 1.0).astype(np.float32).reshape(arr.shape))


@dataclass(frozen=True)
class Sweep:
    """transform; values: (V,); probs: (V, 10) float64; labels: (V,) int; images: (V, 28, 28)."""

    transform: str
    values: np.ndarray
    probs: np.ndarray
    labels: np.ndarray
    images: np.ndarray

    def flips(self) -> list[float]:
        """Values where the label differs from the label at the identity (nearest first)."""
        ident = identity_value(self.transform)
        base = self.labels[int(np.argmin(np.abs(self.values - ident)))]
        changed = [float(v) for v, lab in zip(self.values, self.labels) if lab != base]
        return sorted(changed, key=lambda v: abs(v - ident))


def sweep(model: Model, x: np.ndarray, name: str, values: np.ndarray | None = None,
          probs: Callable[[np.ndarray], np.ndarray] | None = None) -> Sweep:
    """x: (28, 28) network input -> class probabilities of ``model`` at each transform value.

    Each image runs alone (batch 1), exactly as a plain forward would run it, so the row
    at the identity equals the ``classify`` probabilities; ``probs`` ((28, 28) -> (1, 10))
    replaces ``predict_probs`` (the lab passes its own live sums).
    """
    vals = sweep_values(name) if values is None else np.asarray(values, np.float64)
    img = np.asarray(x, np.float32).reshape(28, 28)
    images = np.stack([transform_input(img, name, v) for v in vals])
    fn = probs if probs is not None else (lambda im: predict_probs(model, im))
    out = np.concatenate([np.asarray(fn(im), np.float64).reshape(1, 10) for im in images])
    return Sweep(name, vals, out, out.argmax(axis=1), images)


# -- dreams: what a unit wants to see ------------------------------------------------------
@dataclass(frozen=True)
class DreamTarget:
    """kind "class" (index = K, objective log-probability) or "unit" (layer L, channel C)."""

    kind: str
    index: int
    layer: int = -1

    @property
    def text(self) -> str:
        return f"class:{self.index}" if self.kind == "class" else f"{self.layer}:{self.index}"


def parse_target(spec: str, model: Model) -> DreamTarget:
    """"class:K" or "L:C" -> DreamTarget (checked against ``model``); ExperimentError if bad."""
    s = str(spec).strip()
    if s.startswith("class:"):
        try:
            k = int(s[6:])
        except ValueError:
            k = -1
        if not 0 <= k <= 9:
            raise ExperimentError(f"{spec!r}: the class must be a digit 0-9 (e.g. class:7)")
        return DreamTarget("class", k)
    try:
        (layer, channel), = parse_channels(s, model)
    except ExperimentError as exc:
        raise ExperimentError(f"dream target {spec!r} is neither class:K nor LAYER:CHANNEL ({exc})") from None
    return DreamTarget("unit", channel, layer)


def _objective(model: Model, x: np.ndarray, target: DreamTarget, with_grad: bool
               ) -> tuple[float, np.ndarray | None]:
    """-> (activation, d activation / d x or None). class: log P(K); unit: mean of channel C of
    layer L's output (a Conv2d's map, a Linear's unit), through a Model of the layers up to L."""
    net = model if target.kind == "class" else Model(model.layers[:target.layer + 1])
    if not with_grad:
        out = net.predict(x).astype(np.float64)
    else:
        out = net.forward(x).astype(np.float64)
    if target.kind == "class":
        logp = log_softmax(out)
        value = float(logp[0, target.index])
        d_out = -np.exp(logp)
        d_out[0, target.index] += 1.0
    else:
        sel = out[:, target.index]
        value = float(sel.mean())
        d_out = np.zeros_like(out)
        d_out[:, target.index] = 1.0 / sel.size
    if not with_grad:
        return value, None
    grad = net.backward(d_out.astype(model.dtype))
    return value, np.asarray(grad, np.float64)


def target_activation(model: Model, x: np.ndarray, target: DreamTarget) -> float:
    """The dream objective for a (1, 1, 28, 28) input (class: log-probability of K)."""
    return _objective(model, net_input(model, x), target, False)[0]


def _blur(img: np.ndarray, amount: float) -> np.ndarray:
    """Mix ``img`` with its 3x3 binomial blur (zero padding); amount in [0, 1]."""
    p = np.pad(img, 1)
    h, w = img.shape
    rows = 0.25 * p[0:h, :] + 0.5 * p[1:h + 1, :] + 0.25 * p[2:h + 2, :]
    blurred = 0.25 * rows[:, 0:w] + 0.5 * rows[:, 1:w + 1] + 0.25 * rows[:, 2:w + 2]
    return (1 - amount) * img + amount * blurred


def _box_mask(radius: float = 13.0) -> np.ndarray:
    """A soft disc: 1 near the centre, falling as exp(-(r / radius)^4) - where the preprocessing
    puts a digit's mass; keeps a dream off the border, where zero padding makes gradients big."""
    r2 = ((np.arange(28)[:, None] - 13.5) ** 2 + (np.arange(28)[None, :] - 13.5) ** 2) / radius ** 2
    return np.exp(-(r2 ** 2))


_BOX = _box_mask()


def _ink_budget(img: np.ndarray, mean_ink: float) -> np.ndarray:
    """Scale the image so its mean ink is ``mean_ink`` (pixels clipped at 1): an MNIST digit's
    mean is about 0.13. Without it a dream stays faint (the L2 pull wins) or grows blobs."""
    if mean_ink <= 0:
        return img
    for _ in range(6):                          # clipping lowers the mean: a few rounds
        m = img.mean()
        if m < 1e-9:
            break
        img = np.clip(img * (mean_ink / m), 0.0, 1.0)
    return img


@dataclass(frozen=True)
class DreamSettings:
    """steps; lr (step in pixel units per normalised gradient); l2 (pull towards 0 = no ink);
    blur (mix with a 3x3 blur every step); jitter (random shift, px, before each gradient);
    ink (mean ink after each step; an MNIST digit has ~0.13); thin (eat ink > 2 px inside solid
    areas); box (fade ink outside a central disc). ``steps`` is a cap: ``dream`` stops at its
    goal (see ``dream``). Defaults tuned on the shipped CNN; thin / box gave more stroke-like
    shapes but lower probabilities."""

    steps: int = 2000
    lr: float = 0.1
    l2: float = 0.02
    blur: float = 0.3
    jitter: int = 1
    ink: float = 0.10
    thin: float = 0.0
    box: bool = False


#: a class dream's goal: the class read at this probability on the 8-bit image
GOAL_P = 0.95
#: steps without a new best (on the 8-bit image) after which an ascent counts as stalled
PATIENCE = 300


@dataclass(frozen=True)
class Dream:
    """image: (28, 28) float32 in [0, 1] (ink 1), 8-bit values; start / final activation; probs (10,);
    steps: how many steps it took; stop: why it ended - "goal" (a class read at p >= GOAL_P),
    "plateau" (a channel's activation no longer rising), "cap" (the step cap) or "stopped"."""

    target: DreamTarget
    image: np.ndarray
    start_activation: float
    final_activation: float
    probs: np.ndarray
    steps: int = 0
    stop: str = "cap"


def _start_image(start: str | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if isinstance(start, np.ndarray):
        return np.clip(np.asarray(start, np.float64).reshape(28, 28), 0, 1)
    if start == "blank":
        return np.zeros((28, 28))
    if start == "noise":
        return rng.uniform(0.0, 0.2, (28, 28))
    raise ExperimentError(f"a dream starts from blank, noise or an image, not {start!r}")


def check_steps(steps: int) -> None:
    """ExperimentError unless a dream has at least one step."""
    if steps < 1:
        raise ExperimentError(f"a dream needs at least 1 step, got {steps}")


def jittered_gradient(twin: Model, image: np.ndarray, target: DreamTarget, rng: np.random.Generator,
                      jitter: int) -> tuple[float, np.ndarray]:
    """Shift ``image`` (28, 28) by a random jitter, take the objective and its gradient on
    ``twin`` (grads cleared after) and shift the gradient back -> (value, d value / d image (28, 28))."""
    j = int(jitter)
    dy, dx = rng.integers(-j, j + 1, size=2) if j > 0 else (0, 0)
    shifted = np.roll(image, (int(dy), int(dx)), axis=(0, 1))
    value, grad = _objective(twin, net_input(twin, shifted), target, True)
    twin.zero_grad()
    assert grad is not None                   # asked for (True above)
    return value, np.roll(grad.reshape(28, 28), (-int(dy), -int(dx)), axis=(0, 1))


def dream_steps(model: Model, target: DreamTarget, settings: DreamSettings = DreamSettings(),
                seed: int | np.random.SeedSequence = 0, start: str | np.ndarray = "blank") -> Iterator[tuple[int, np.ndarray, float]]:
    """Yield (step, image (28, 28) float32, activation) after every step (the panel draws them).

    Each step: shift the image by a random jitter, take the gradient of the objective
    through ``Model.backward``, shift it back, ascend with a normalised step, add the L2
    pull towards no ink, clamp to [0, 1], blur. Same seed, same sequence of images.
    """
    check_steps(settings.steps)
    rng = np.random.default_rng(seed)
    x = _start_image(start, rng)
    twin = copy_model(model)                  # grads accumulate on the copy, never the model
    for step in range(1, settings.steps + 1):
        value, g = jittered_gradient(twin, x, target, rng, settings.jitter)
        g = g / (np.abs(g).max() + 1e-12)
        x = x + settings.lr * g - settings.l2 * x
        x = _blur(np.clip(x, 0.0, 1.0), settings.blur)
        if settings.thin > 0:                 # eat ink more than 2 px inside a solid area
            x = np.clip(x - settings.thin * _grey_morph(x, -2), 0.0, 1.0)
        if settings.box:
            x = x * _BOX
        x = _ink_budget(x, settings.ink)
        yield step, x.astype(np.float32), value


def quantised(image: np.ndarray) -> np.ndarray:
    """(28, 28) ink in [0, 1] -> the same image in 8-bit steps (what a PNG holds), float32."""
    return cast("np.ndarray", (np.rint(np.clip(image, 0, 1) * 255.0) / 255.0).astype(np.float32))


def dream(model: Model, target: DreamTarget, settings: Any = None, seed: int = 0,
          start: str | np.ndarray = "blank", on_step: Callable[[int, np.ndarray, float], bool | None] | None = None
          ) -> Dream:
    """Run a dream until it reaches its goal -> Dream. ``settings``: DreamSettings (free pixels,
    from ``start``) or ``experiments_pen.PenSettings`` (a few pen strokes, seeded); their
    ``steps`` is a cap on the steps of all attempts together.

    Every step is measured on the 8-bit image (what a PNG holds), the one returned. A class
    dream stops once that image reads as its class with p >= GOAL_P; a channel / unit dream
    once its activation has not risen for PATIENCE steps. A class dream that stalls below its
    goal (the strokes stuck in a local optimum) starts again from new seeded strokes / jitter
    (seeds ``(seed, attempt)``): how long one ascent takes depends on the float path of the
    machine's BLAS, the goal does not. The result is the best image seen (the start included).
    ``on_step(step, image, activation)`` (step counted over all attempts) returning True stops."""
    from explorer.analysis.experiments_pen import PenSettings, pen_dream_steps, pen_start_image
    settings = DreamSettings() if settings is None else settings
    check_steps(settings.steps)
    pen = isinstance(settings, PenSettings)

    def attempt(n: int, cap: int) -> Iterator[tuple[int, np.ndarray, float]]:
        s = seed if n == 0 else np.random.SeedSequence([seed, n])
        if pen:
            return pen_dream_steps(model, target, replace(settings, steps=cap), s)
        return dream_steps(model, target, replace(settings, steps=cap), s, start)

    x0 = pen_start_image(settings, seed) if pen else _start_image(start, np.random.default_rng(seed))
    best = quantised(x0)
    start_act = best_act = target_activation(model, best, target)
    taken, n, stop = 0, 0, "cap"
    while taken < settings.steps and stop == "cap":
        since, top = 0, -np.inf                            # this attempt's best and how long ago
        for _, image, act in attempt(n, settings.steps - taken):
            taken += 1
            q = quantised(image)
            now = target_activation(model, q, target)
            if now > best_act:                             # the ascent is noisy (jitter, regularisers):
                best, best_act = q, now                    # keep the best image it passed through
            if target.kind == "class" and predict_probs(model, best)[0, target.index] >= GOAL_P:
                stop = "goal"
            since = 0 if now > top + 1e-4 * max(1.0, abs(top)) else since + 1
            top = max(top, now)
            if stop == "cap" and since >= PATIENCE and target.kind == "unit":
                stop = "plateau"
            if on_step is not None and on_step(taken, image, act):
                stop = "stopped"
            if stop != "cap" or since >= PATIENCE:         # a class stalled below its goal: new strokes
                break
        n += 1
    final = target_activation(model, best, target)
    return Dream(target, best, start_act, final, predict_probs(model, best)[0], taken, stop)


def accuracy_under(model: Model, images: np.ndarray, labels: np.ndarray, name: str,
                   values: np.ndarray | None = None, cancel: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """images: (N, 28, 28), labels: (N,) -> (values (V,), accuracy (V,)) of ``model`` on the
    transformed images: the tolerance of a network over many digits, not one drawing."""
    vals = sweep_values(name) if values is None else np.asarray(values, np.float64)
    acc = np.full(len(vals), np.nan)
    for i, v in enumerate(vals):
        if cancel is not None and cancel():
            break
        xt = np.stack([transform_input(x, name, v) for x in images])
        logits = model.predict(xt[:, None] if not _reads_rows(model) else xt)
        acc[i] = float((logits.argmax(-1) == labels).mean())
    return vals, acc
