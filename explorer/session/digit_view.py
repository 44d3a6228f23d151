"""DigitView: one typed, Qt-free view per render of the Digit Lab, already in the panels' units.

``build_view(session)`` builds it from the session's public queries; the lab calls it once
per render and only routes its fields to panels. Coordinates: network input rows/cols are 0..28 (a rectangle ``(r0, c0, r1, c1)``
is *inclusive* cells); canvas rectangles are ``(x, y, w, h)`` in reference canvas units
(a ``REF`` x ``REF`` square, y down), what ``DigitCanvas.set_field`` / ``set_overlay`` take.
Map values are divided by their colour-scope scale, so every map lies in [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from explorer.analysis.cnn_explain import ConvExplanation, PoolExplanation
from explorer.engine import Model
from explorer.session.digits import DigitReading, DigitSession, Stage, ViewOptions
from explorer.session.drawing import canvas_transform

F32 = npt.NDArray[np.float32]
Rect = tuple[float, float, float, float]          # (x, y, w, h) in reference canvas units
Cells = tuple[int, int, int, int]                 # (r0, c0, r1, c1) inclusive, input / map cells
SCOPES = ("map", "layer", "network")


@dataclass(frozen=True, eq=False)
class StageView:
    """One stage panel's data. maps: (C, H, W) float32 in [-1, 1] (dense: (1, rows, cols));
    scale: the divisor (None: each map by its own max |v|); winners: (C, H, W) bool or None."""

    stage: Stage
    maps: F32
    scale: float | None
    winners: npt.NDArray[np.bool_] | None = None

    @property
    def note(self) -> str:
        return "each map ÷ its own max |v|" if self.scale is None else f"scale ±{self.scale:.3g}"


@dataclass(frozen=True)
class Highlight:
    """An outlined block of one panel: panel name ('input' or a stage name), channel, cells."""

    panel: str
    channel: int
    cells: Cells


@dataclass(frozen=True, eq=False)
class SelectionView:
    """The selected cell, explained: its receptive field on the input and on the canvas,
    the outlines to draw, and the inspector's numbers (conv or pool) with a caption."""

    stage: Stage
    channel: int
    row: int
    col: int
    input_field: Cells
    highlights: tuple[Highlight, ...]
    canvas_field: Rect | None = None
    conv: ConvExplanation | None = None
    pool: PoolExplanation | None = None
    caption: str = ""


@dataclass(frozen=True)
class ModelInfo:
    """The model's description: name, held-out accuracy (0..1 or None), stage titles."""

    name: str
    accuracy: float | None
    layers: tuple[str, ...]

    @property
    def text(self) -> str:
        held = "" if self.accuracy is None else f" · {100 * self.accuracy:.1f}% on held-out digits"
        return f"{self.name}{held}"


@dataclass(frozen=True, eq=False)
class DigitView:
    """Everything the Digit Lab draws for one render.

    input: (28, 28) float32 network input (zeros while empty); stages: one StageView per
    Stage; probs / ghost: (10,) float32 or None (ghost = the unedited model's answer while
    experiments edit it); saliency: (28, 28) float32 in [-1, 1] and saliency_rgba
    (28, 28, 4) uint8 with saliency_rect, its canvas rectangle (None when off or empty).
    reading: the model's reading of the drawing (None while the canvas is empty).
    """

    version: int
    options: ViewOptions
    reading: DigitReading | None
    input: F32
    stages: tuple[StageView, ...]
    legend: str
    probs: F32 | None
    ghost: F32 | None
    saliency: F32 | None
    saliency_scale: float | None
    saliency_rgba: npt.NDArray[np.uint8] | None
    saliency_rect: Rect | None
    selection: SelectionView | None
    model: ModelInfo

    @property
    def empty(self) -> bool:
        return self.reading is None

    def stage(self, name: str) -> StageView:
        return next(s for s in self.stages if s.stage.name == name)


# -- the pieces (pure functions) ---------------------------------------------------------------
def max_abs(a: np.ndarray) -> float:
    """max |a|, never 0 (so dividing by it is safe)."""
    return max(float(np.abs(a).max()) if a.size else 1.0, 1e-6)


def grid_shape(n: int) -> tuple[int, int]:
    """n dense units -> (rows, cols) of a wide strip (64 -> 4×16)."""
    rows = max((r for r in range(1, int(np.sqrt(n)) + 1) if n % r == 0 and r <= max(np.sqrt(n) / 2, 1)),
               default=1)
    return rows, n // rows


def stage_maps(stages: list[Stage], reading: DigitReading | None, scope: str) -> tuple[list[StageView], str]:
    """Every stage's outputs divided by the scope's scale (zeros when empty) + the legend text."""
    outs: dict[str, F32] = {}
    for st in stages:
        y = np.zeros(st.shape, np.float32) if reading is None else reading.trace.outputs[st.index][0]
        outs[st.name] = y if len(st.shape) == 3 else y.reshape(1, *grid_shape(y.size))
    net = max((max_abs(y) for y in outs.values()), default=1.0) if scope == "network" else None
    views = []
    for st in stages:
        maps = np.asarray(outs[st.name], np.float32)
        if scope == "map" and maps.ndim == 3 and len(st.shape) == 3:
            m = np.maximum(np.abs(maps).max(axis=(1, 2), keepdims=True), 1e-6)
            views.append(StageView(st, np.ascontiguousarray(maps / m, np.float32), None))
            continue
        scale = net if net else max_abs(maps)
        views.append(StageView(st, np.ascontiguousarray(maps / np.float32(scale), np.float32), float(scale)))
    if scope == "network":
        legend = f"{max((v.scale or 1e-6) for v in views) if views else 1.0:.3g}"
    else:
        legend = "each map's max" if scope == "map" else "its layer's max"
    return views, legend


def feeding_pool(stages: list[Stage], i: int) -> Stage | None:
    """The max-pool that keeps cells of conv/ReLU stage ``stages[i]`` (only ReLU/pool between), or None."""
    if stages[i].kind not in ("conv", "relu"):
        return None
    pool = next((p for p in stages[i + 1:] if p.kind == "pool"), None)
    if pool is None or not all(s.kind in ("relu", "pool") for s in stages[i + 1: stages.index(pool)]):
        return None
    return pool


def canvas_rect(reading: DigitReading, r0: float, c0: float, r1: float, c1: float) -> Rect:
    """Input-pixel edges (rows r0..r1, cols c0..c1, continuous) -> (x, y, w, h) reference units."""
    assert reading.state is not None
    scale, tx, ty = canvas_transform(reading.state, reading.x)
    return ((c0 - tx) / scale, (r0 - ty) / scale, (c1 - c0) / scale, (r1 - r0) / scale)


def diverging_lut() -> npt.NDArray[np.uint8]:
    """(256, 3) uint8 blue -> light grey -> red (the UI hands its own colour table instead)."""
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    blue, mid, red = np.array([58, 76, 192]), np.array([221, 221, 221]), np.array([180, 4, 38])
    rgb = np.where(t < 0, mid + (blue - mid) * -t, mid + (red - mid) * t)
    return np.asarray(np.clip(rgb, 0, 255), dtype=np.uint8)


def colour_saliency(s: F32, lut: npt.NDArray[np.uint8]) -> tuple[F32, float, npt.NDArray[np.uint8]]:
    """(28, 28) gradient -> (s / m in [-1, 1], m, (28, 28, 4) uint8 RGBA: colour by sign, alpha by size)."""
    m = max_abs(s)
    unit = (s / m).astype(np.float32)
    idx = np.clip((unit + 1) * 127.5, 0, 255).astype(np.uint8)
    rgba = np.empty((*s.shape, 4), np.uint8)
    rgba[..., :3] = lut[idx]
    rgba[..., 3] = (np.clip(np.abs(unit) * 1.6, 0, 1) * 200).astype(np.uint8)
    return unit, m, rgba


def model_info(model: Model, stages: list[Stage]) -> ModelInfo:
    meta = getattr(model, "meta", None) or {}
    acc = meta.get("val_acc")
    try:
        accuracy = None if acc is None else float(acc)
    except (TypeError, ValueError):
        accuracy = None
    return ModelInfo(str(meta.get("name", meta.get("arch", "CNN"))), accuracy, tuple(st.title for st in stages))


ExplainConv = Callable[[DigitReading, int, int, int, int], ConvExplanation]
ExplainPool = Callable[[DigitReading, int, int, int, int], PoolExplanation]


def selection_view(stages: list[Stage], sel: tuple[int, int, int, int], reading: DigitReading | None,
                   field: Cells, explain_conv: ExplainConv, explain_pool: ExplainPool) -> SelectionView | None:
    """The selected cell -> outlines, receptive field (input cells and canvas units), explanation."""
    index, ch, row, col = sel
    stage = next((s for s in stages if s.index == index), None)
    if stage is None or stage.kind == "dense":
        return None
    r0, c0, r1, c1 = field
    marks = [Highlight(stage.name, ch, (row, col, row, col)), Highlight("input", 0, field)]
    where = f"{stage.name} · map {ch}, row {row}, column {col}"
    if reading is None:
        return SelectionView(stage, ch, row, col, field, tuple(marks), caption=f"{where}: draw a digit")
    rect = canvas_rect(reading, r0, c0, r1 + 1, c1 + 1)
    if stage.kind == "pool":
        ex = explain_pool(reading, stage.index, ch, row, col)
        k, s = ex.where["k"], ex.where["stride"]
        prev = next((p for p in stages if p.index == stage.index - 1), None)
        if prev is not None:
            marks.append(Highlight(prev.name, ch, (row * s, col * s, row * s + k - 1, col * s + k - 1)))
        caption = f"{where}: the max of a {k}×{k} window of {prev.name if prev else 'its input'}"
        return SelectionView(stage, ch, row, col, field, tuple(marks), rect, pool=ex, caption=caption)
    conv_index = stage.index if stage.kind == "conv" else stage.index - 1
    cx = explain_conv(reading, conv_index, ch, row, col)
    note = " (after ReLU: read the last number)" if stage.kind == "relu" else ""
    caption = (f"{where}{note}: input patch {cx.where['k']}×{cx.where['k']}"
               f" × {cx.patch.shape[0]} channel{'s' * (cx.patch.shape[0] > 1)}")
    return SelectionView(stage, ch, row, col, field, tuple(marks), rect, conv=cx, caption=caption)


def build_view(session: DigitSession) -> DigitView:
    """Everything the Digit Lab draws now, from the session's public queries."""
    opts, reading, stages_meta = session.options, session.compute(), session.stages
    stages, legend = stage_maps(stages_meta, reading, opts.scope)
    if opts.winners and reading is not None:
        stages = [replace(v, winners=session.pool_winner_mask(reading, pool.index))
                  if (pool := feeding_pool(stages_meta, i)) is not None else v
                  for i, v in enumerate(stages)]
    sal = scale = rgba = rect = None
    if opts.saliency and reading is not None:
        lut = session.palette if session.palette is not None else diverging_lut()
        sal, scale, rgba = colour_saliency(session.saliency(reading), lut)
        rect = canvas_rect(reading, 0, 0, 28, 28)
    sel = None
    if opts.selection is not None:
        index, _, row, col = opts.selection
        if any(st.index == index and st.kind != "dense" for st in stages_meta):
            sel = selection_view(stages_meta, opts.selection, reading, session.receptive_field(index, row, col),
                                 session.explain_conv_cell, session.explain_pool_cell)
    x = np.zeros((28, 28), np.float32) if reading is None else reading.x[0, 0]
    return DigitView(session.version, opts, reading, x, tuple(stages), legend,
                     None if reading is None else reading.probs,
                     None if reading is None else session.unedited_probs(reading),
                     sal, scale, rgba, rect, sel, model_info(session.model, stages_meta))
