"""Dreams, Qt-free: ask a class or a unit what it wants to see.

``dream(model, target, settings)``: gradient ascent on the input through ``Model.backward``
until a class reads at ``GOAL_P`` or a unit's activation stops rising. The settings choose
the ascent: ``DreamSettings`` moves free pixels (with L2, blur and jitter regularisers,
pixels clamped to [0, 1]); ``pen_dreams.PenSettings`` moves the points of a few pen
strokes. Deterministic per seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol, cast

import numpy as np

from explorer.analysis.edits import ExperimentError, copy_model, net_input, parse_channels, predict_probs
from explorer.analysis.transforms import grey_morph
from explorer.engine import Model, log_softmax

__all__ = ["GOAL_P", "PATIENCE", "Ascent", "Dream", "DreamSettings", "DreamTarget", "check_steps", "dream", "dream_steps",
           "jittered_gradient", "objective", "parse_target", "quantised", "target_activation"]

Seed = int | np.random.SeedSequence
Steps = Iterator[tuple[int, np.ndarray, float]]


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


def objective(model: Model, x: np.ndarray, target: DreamTarget, with_grad: bool
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
    return objective(model, net_input(model, x), target, False)[0]


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

    def start_image(self, seed: int, start: str | np.ndarray) -> np.ndarray:
        """The image a pixel dream starts from: ``start`` (blank, seeded noise or an image)."""
        return _start_image(start, np.random.default_rng(seed))

    def ascent(self, model: Model, target: DreamTarget, seed: Seed, start: str | np.ndarray, cap: int) -> Steps:
        """One attempt of at most ``cap`` steps (see ``dream_steps``)."""
        return dream_steps(model, target, replace(self, steps=cap), seed, start)


class Ascent(Protocol):
    """What ``dream`` needs of its settings: a step cap, a start image and the ascent itself
    (``DreamSettings`` for free pixels, ``pen_dreams.PenSettings`` for pen strokes)."""

    @property
    def steps(self) -> int: ...

    def start_image(self, seed: int, start: str | np.ndarray) -> np.ndarray: ...

    def ascent(self, model: Model, target: DreamTarget, seed: Seed, start: str | np.ndarray, cap: int) -> Steps: ...


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
    value, grad = objective(twin, net_input(twin, shifted), target, True)
    twin.zero_grad()
    assert grad is not None                   # asked for (True above)
    return value, np.roll(grad.reshape(28, 28), (-int(dy), -int(dx)), axis=(0, 1))


def dream_steps(model: Model, target: DreamTarget, settings: DreamSettings = DreamSettings(),
                seed: Seed = 0, start: str | np.ndarray = "blank") -> Steps:
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
            x = np.clip(x - settings.thin * grey_morph(x, -2), 0.0, 1.0)
        if settings.box:
            x = x * _BOX
        x = _ink_budget(x, settings.ink)
        yield step, x.astype(np.float32), value


def quantised(image: np.ndarray) -> np.ndarray:
    """(28, 28) ink in [0, 1] -> the same image in 8-bit steps (what a PNG holds), float32."""
    return cast("np.ndarray", (np.rint(np.clip(image, 0, 1) * 255.0) / 255.0).astype(np.float32))


def dream(model: Model, target: DreamTarget, settings: Ascent | None = None, seed: int = 0,
          start: str | np.ndarray = "blank", on_step: Callable[[int, np.ndarray, float], bool | None] | None = None
          ) -> Dream:
    """Run a dream until it reaches its goal -> Dream. ``settings``: DreamSettings (free pixels,
    from ``start``) or ``pen_dreams.PenSettings`` (a few pen strokes, seeded); their
    ``steps`` is a cap on the steps of all attempts together.

    Every step is measured on the 8-bit image (what a PNG holds), the one returned. A class
    dream stops once that image reads as its class with p >= GOAL_P; a channel / unit dream
    once its activation has not risen for PATIENCE steps. A class dream that stalls below its
    goal (the strokes stuck in a local optimum) starts again from new seeded strokes / jitter
    (seeds ``(seed, attempt)``): how long one ascent takes depends on the float path of the
    machine's BLAS, the goal does not. The result is the best image seen (the start included).
    ``on_step(step, image, activation)`` (step counted over all attempts) returning True stops."""
    ascent: Ascent = DreamSettings() if settings is None else settings
    check_steps(ascent.steps)

    def attempt(n: int, cap: int) -> Steps:
        return ascent.ascent(model, target, seed if n == 0 else np.random.SeedSequence([seed, n]), start, cap)

    x0 = ascent.start_image(seed, start)
    best = quantised(x0)
    start_act = best_act = target_activation(model, best, target)
    taken, n, stop = 0, 0, "cap"
    while taken < ascent.steps and stop == "cap":
        since, top = 0, -np.inf                            # this attempt's best and how long ago
        for _, image, act in attempt(n, ascent.steps - taken):
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


