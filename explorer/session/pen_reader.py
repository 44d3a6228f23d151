"""PenReader: the pen RNN reading the drawing *while it is drawn* (no Qt).

A pen model (``explorer.data.pen``: [LSTM | GRU, Linear(H, 10)], meta ``input: "pen"``) reads
the causal pen features of ``PenStream``, one resampled pen step per row. The reader feeds
the drawing's pen events to a PenStream as they happen (``begin_stroke`` / ``extend`` /
``end_stroke``) and steps the recurrent layer from its state over the rows each event makes
available, keeping per pen step: the hidden state, the gates and the class probabilities.
Nothing before the newest row is ever recomputed while the pen moves, so the 3,000th pen
step costs what the 10th does.

``follow(strokes, live, live_id)`` works out the events from a drawing (the Digit Lab's
committed strokes and the stroke in progress): a stroke that only grew is extended, one
that was finished is ended; anything else (undo, eraser, clear, an opened drawing) is read
again from scratch, which costs a few milliseconds.

``CnnOverPenTime`` keeps, beside it, the CNN's reading of the drawing as it was at each pen
step (the drawing cut where that step's row appeared), filled a few steps per frame.
``knew_at(probs, target)``: the first pen step from which the answer stays ``target``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from explorer.data.pen import PenSpec, PenStream, is_pen_model, pen_features
from explorer.engine import Model, RecurrentLayer, softmax
from explorer.errors import ExplorerError

if TYPE_CHECKING:
    from explorer.session.digits import DigitSession

F32 = npt.NDArray[np.float32]


class NotAPenModel(ExplorerError, ValueError):
    """A model that cannot read the pen (not [LSTM | GRU, Linear(H, 10)] with a pen spec)."""


def check_pen_model(model: Model) -> tuple[RecurrentLayer, PenSpec]:
    """-> (its recurrent layer, its PenSpec); NotAPenModel with one sentence otherwise."""
    meta = getattr(model, "meta", None) or {}
    if not is_pen_model(meta):
        raise NotAPenModel("this model does not read pen strokes (its meta has no input 'pen')")
    layers = list(model.layers)
    if len(layers) != 2 or not isinstance(layers[0], RecurrentLayer) or layers[1].type_name != "Linear":
        raise NotAPenModel("a pen model is one recurrent layer (LSTM or GRU) and a Linear layer")
    if layers[0].type_name not in ("LSTM", "GRU"):
        raise NotAPenModel(f"a pen model's recurrent layer is an LSTM or a GRU, not {layers[0].type_name}")
    try:
        spec = PenSpec.from_meta(meta.get("pen"))
    except (ValueError, TypeError, KeyError) as exc:
        raise NotAPenModel(f"its pen settings are unusable ({exc})") from None
    width = pen_features([np.array([[10.0, 10.0], [60.0, 60.0]], np.float32)], spec).shape[1]
    if layers[0].input_size != width:
        raise NotAPenModel(f"its recurrent layer reads {layers[0].input_size} features per pen step, "
                           f"the pen encoding gives {width}")
    if np.shape(layers[1].params["weight"]) != (10, layers[0].hidden_size):
        raise NotAPenModel("its last layer does not map the hidden state to 10 digit scores")
    return layers[0], spec


class _Rows:
    """A growing (T, *shape) float32 table; appending is amortised O(1), views never copy."""

    def __init__(self, *shape: int) -> None:
        self._buf = np.zeros((64, *shape), np.float32)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        k = len(rows)
        if self.n + k > len(self._buf):
            grown = np.zeros((max(2 * len(self._buf), self.n + k), *self._buf.shape[1:]), np.float32)
            grown[: self.n] = self._buf[: self.n]
            self._buf = grown
        self._buf[self.n: self.n + k] = rows
        self.n += k

    def truncate(self, n: int) -> None:
        self.n = min(self.n, n)

    @property
    def view(self) -> F32:
        return self._buf[: self.n]


@dataclass(frozen=True)
class PenReading:
    """What the pen panels draw (views; valid until the reader changes).

    rows (T, F) pen features; hidden (T, H); gates name -> (T, H) (LSTM i f g o, GRU r z n);
    probs (T, 10); stroke (T,) which stroke each pen step belongs to; note: why there is
    nothing (or not everything) to read, else None."""

    version: int
    rows: F32
    hidden: F32
    gates: dict[str, F32]
    probs: F32
    stroke: npt.NDArray[np.int32]
    note: str | None = None
    cell: str = "LSTM"

    @property
    def steps(self) -> int:
        return int(len(self.probs))


@dataclass
class _Open:
    """The stroke being read: who it is (the drawing's stroke counter), points fed, last point."""

    ident: int
    fed: int
    points: np.ndarray = field(repr=False)


class PenReader:
    """The pen model stepping along the drawing. ``probabilities()`` -> (10,) or None."""

    GATES = {"LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n")}

    def __init__(self, model: Model) -> None:
        self.layer, self.spec = check_pen_model(model)
        model.eval()
        self.model = model
        self.cell = self.layer.type_name
        self.head = model.layers[1]
        self.version = 0                 # bumps whenever what it read changes
        self.rereads = 0                 # times it read the drawing from scratch (tests)
        self.background = False          # the drawing holds an opened image (no pen)
        self.reset()

    # -- pen events ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything read: an empty drawing."""
        h = self.layer.hidden_size
        self.stream = PenStream(self.spec)
        self.state: Any = self.layer.initial_state(1)
        self._rows = _Rows(self.layer.input_size)
        self._hidden = _Rows(h)
        self._gates = {g: _Rows(h) for g in self.GATES[self.cell]}
        self._probs = _Rows(10)
        self._stroke = np.zeros(64, np.int32)
        self.cuts: list[tuple[int, int]] = []       # per pen step: (strokes begun, points of the last)
        self._n_strokes = 0
        self._n_points = 0
        self._done: list[np.ndarray] = []           # finished strokes read, as given (identity)
        self._open: _Open | None = None
        self._batch: list[np.ndarray] | None = None
        self._batch_strokes: list[int] = []
        self.version += 1

    def begin_stroke(self, x: float, y: float) -> int:
        """A new stroke at (x, y) reference units -> pen steps it added."""
        self._n_strokes += 1
        self._n_points = 1
        return self._feed(self.stream.begin_stroke(float(x), float(y)))

    def extend(self, x: float, y: float) -> int:
        self._n_points += 1
        return self._feed(self.stream.extend(float(x), float(y)))

    def end_stroke(self) -> int:
        return self._feed(self.stream.end_stroke())

    def _feed(self, rows: np.ndarray) -> int:
        rows = np.asarray(rows, np.float32).reshape(-1, self.layer.input_size)
        k = len(rows)
        if k == 0:
            return 0
        if self._batch is not None:                    # reading whole strokes: one run at the end
            self._batch.append(rows)
            self._batch_strokes.extend([self._n_strokes - 1] * k)
            self.cuts.extend([(self._n_strokes, self._n_points)] * k)
            return k
        self._step(rows, [self._n_strokes - 1] * k)
        self.cuts.extend([(self._n_strokes, self._n_points)] * k)
        return k

    def _step(self, rows: np.ndarray, strokes: list[int]) -> None:
        """Step the recurrent layer from its state over ``rows`` (k, F); keep what each step gave."""
        k = len(rows)
        y, self.state, gates = self.layer.run(rows[None], self.state)
        hidden = y[0]
        probs = softmax(self.head.forward(hidden)[0])
        self._rows.extend(rows)
        self._hidden.extend(hidden)
        for name, table in self._gates.items():
            table.extend(gates[name][0])
        self._probs.extend(probs)
        n = self._probs.n
        if n > len(self._stroke):
            self._stroke = np.concatenate([self._stroke, np.zeros(max(n, len(self._stroke)), np.int32)])
        self._stroke[n - k: n] = strokes
        self.version += 1

    def read_strokes(self, strokes: Sequence[np.ndarray]) -> None:
        """From scratch: every stroke, in order, point by point (what ``follow`` falls back on)."""
        self.reset()
        self._read_all(strokes)

    def _read_all(self, strokes: Sequence[np.ndarray]) -> None:
        """Finished strokes through the stream event by event, the layer over their rows in one
        run (the same steps from the same state: equal to stepping row by row up to rounding)."""
        self._batch, self._batch_strokes = [], []
        try:
            for s in strokes:
                self._read_whole(s)
        finally:
            rows, ids = self._batch, self._batch_strokes
            self._batch = None
            if rows:
                self._step(np.concatenate(rows), ids)

    def _read_whole(self, points: np.ndarray) -> None:
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        if not len(pts):
            return
        self.begin_stroke(*pts[0])
        for x, y in pts[1:]:
            self.extend(x, y)
        self.end_stroke()
        self._done.append(points)

    def follow(self, strokes: Sequence[np.ndarray], live: np.ndarray | None = None, live_id: int = -1,
               background: bool = False) -> bool:
        """Bring the reading up to a drawing: finished ``strokes`` ((K, 2) arrays, reference units,
        in writing order; the same array objects from call to call while unchanged) and the stroke
        in progress ``live`` (its points only grow; ``live_id`` tells one stroke from the next).
        Returns True if anything changed."""
        before = self.version
        self.background = bool(background)
        done = self._done
        same = len(strokes) >= len(done) and all(a is b for a, b in zip(strokes, done))
        rest = list(strokes[len(done):]) if same else None
        if rest is not None and self._open is not None:
            o = self._open
            if live is not None and live_id == o.ident and not rest and len(live) >= o.fed \
                    and np.array_equal(live[o.fed - 1], o.points[o.fed - 1]):
                for x, y in live[o.fed:]:
                    self.extend(x, y)
                o.fed, o.points = len(live), live
                return self.version != before
            first = rest[0] if rest else None
            if first is not None and (live is None or live_id != o.ident) and len(first) >= o.fed \
                    and np.array_equal(first[:o.fed], o.points[:o.fed]):
                for x, y in np.asarray(first[o.fed:], np.float32):      # finished: the rest, then pen up
                    self.extend(x, y)
                self.end_stroke()
                done.append(first)
                self._open = None
                rest = rest[1:]
            else:
                rest = None
        if rest is None:
            self.rereads += 1
            self.reset()
            rest = list(strokes)
        self._read_all(rest)
        if live is not None and len(live):
            pts = np.asarray(live, np.float32)
            self.begin_stroke(*pts[0])
            for x, y in pts[1:]:
                self.extend(x, y)
            self._open = _Open(live_id, len(pts), live)
        if self.version != before:
            return True
        return False

    def follow_session(self, session: DigitSession) -> bool:
        """``follow`` the Digit Lab's drawing: its finished pen strokes and the one being drawn."""
        committed = session.committed
        strokes = [s.points for s in committed.strokes]
        return self.follow(strokes, session.live_points, session.stroke_count, committed.background is not None)

    # -- what it read ----------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return self._probs.n

    def probabilities(self) -> F32 | None:
        """(10,) float32 after the last pen step; None before the first."""
        return None if not self._probs.n else self._probs.view[-1].copy()

    def reading(self) -> PenReading:
        note = None
        if self.background:
            note = ("an opened image has no pen: the pen RNN reads only strokes drawn on it"
                    if self.steps else "an opened image has no pen strokes: the pen RNN has nothing to read")
        return PenReading(self.version, self._rows.view, self._hidden.view,
                          {k: v.view for k, v in self._gates.items()}, self._probs.view,
                          self._stroke[: self._probs.n], note, self.cell)


def read_at_once(model: Model, strokes: Sequence[np.ndarray]) -> F32:
    """The finished strokes read in one go, as ``classify`` does: (T, 10) probabilities per pen step."""
    _, spec = check_pen_model(model)
    rows = pen_features([np.asarray(s, np.float32).reshape(-1, 2) for s in strokes], spec)
    if not len(rows):
        return np.zeros((0, 10), np.float32)
    logits = model.forward(np.asarray(rows, np.float32)[None])
    return np.asarray(softmax(logits[0]), np.float32)


def knew_at(probs: np.ndarray, target: int | None = None) -> int | None:
    """First pen step from which the top class is ``target`` (default: the last step's top
    class) at every later step; None if the last step is not ``target`` or a step is unknown (NaN)."""
    p = np.asarray(probs, np.float64)
    if not len(p) or np.isnan(p).any():
        return None
    top = p.argmax(axis=1)
    want = int(top[-1]) if target is None else int(target)
    wrong = np.flatnonzero(top != want)
    if len(wrong) and wrong[-1] == len(top) - 1:
        return None
    return 0 if not len(wrong) else int(wrong[-1]) + 1


def _shared(old: Sequence[np.ndarray], new: Sequence[np.ndarray]) -> tuple[int, int]:
    """-> (k, m): the first k strokes are the same in both drawings, and the next one's first m points."""
    k = 0
    while k < min(len(old), len(new)) and (old[k] is new[k] or (
            len(old[k]) == len(new[k]) and np.array_equal(old[k], new[k]))):
        k += 1
    m = 0
    if k < len(old) and k < len(new):
        n = min(len(old[k]), len(new[k]))
        if np.array_equal(old[k][:n], new[k][:n]):
            m = n
    return k, m


class CnnOverPenTime:
    """The CNN's probabilities (T, 10) at each pen step of a PenReader, NaN until computed.

    The CNN at pen step t reads the drawing as it was when step t's row appeared (the cut
    ``reader.cuts[t]``). ``offer`` takes the reading of the current drawing for free when the
    newest step was cut there; ``fill(budget)`` computes up to ``budget`` missing steps
    (newest first) with ``classify(strokes) -> (10,)``. A reader that re-read from scratch
    keeps the steps whose cut lies in the strokes both readings share.
    """

    def __init__(self) -> None:
        self._probs = _Rows(10)
        self._cuts: list[tuple[int, int]] = []
        self._strokes: list[np.ndarray] = []
        self._source: list[tuple[int, int]] | None = None     # the reader's cuts list last synced
        self.scans = 0                                         # syncs that compared every step (tests)

    def sync(self, reader: PenReader, strokes: Sequence[np.ndarray]) -> None:
        """Line up with the reader's steps; ``strokes`` is the drawing now (live one last)."""
        k, m = _shared(self._strokes, strokes)
        cuts, n = reader.cuts, len(self._cuts)
        # the reader only appended steps since (the same list, longer: its cuts never change in
        # place), and cuts grow in (stroke, point) order: if the last kept cut lies in the part
        # both drawings share, every earlier one does too. A pen move costs its new steps only.
        s, p = self._cuts[-1] if n else (0, 0)
        if cuts is self._source and len(cuts) >= n and (s <= k or (s == k + 1 and p <= m)):
            keep = n
        else:
            self.scans += 1
            keep = 0
            for t, (old, new) in enumerate(zip(self._cuts, cuts)):
                s, p = new
                if old != new or not (s <= k or (s == k + 1 and p <= m)):
                    break
                keep = t + 1
            self._cuts = self._cuts[:keep]
        self._probs.truncate(keep)
        missing = len(cuts) - keep
        if missing > 0:
            self._probs.extend(np.full((missing, 10), np.nan, np.float32))
        self._cuts.extend(cuts[keep:])
        self._source = cuts
        self._strokes = list(strokes)

    def offer(self, probs: np.ndarray | None, strokes: Sequence[np.ndarray]) -> None:
        """The CNN's reading of the drawing ``strokes`` as it is now."""
        if probs is None or not self._cuts:
            return
        cut = (len(strokes), len(strokes[-1]) if strokes else 0)
        p = np.asarray(probs, np.float32)
        view = self._probs.view
        t = len(self._cuts) - 1
        while t >= 0 and self._cuts[t] == cut and np.isnan(view[t, 0]):
            view[t] = p
            t -= 1

    def fill(self, classify: Callable[[list[np.ndarray]], np.ndarray | None], budget: int) -> int:
        """Compute up to ``budget`` missing steps (newest first) -> how many are still missing."""
        view = self._probs.view
        missing = np.flatnonzero(np.isnan(view[:, 0]))[::-1]
        done: dict[tuple[int, int], np.ndarray] = {}
        for t in missing:
            cut = self._cuts[t]
            if cut not in done:
                if budget <= 0:
                    continue
                budget -= 1
                s, p = cut
                part = [np.asarray(x) for x in self._strokes[: s - 1]] + [np.asarray(self._strokes[s - 1])[:p]]
                got = classify(part)
                done[cut] = np.full(10, np.inf, np.float32) if got is None else np.asarray(got, np.float32)
            view[t] = done[cut]
        return int(np.isnan(view[:, 0]).sum())

    @property
    def probs(self) -> F32:
        """(T, 10); NaN rows: not computed yet; inf rows: nothing to read yet (blank)."""
        return self._probs.view


# -- the pen models the app offers ---------------------------------------------------------
SHIPPED = {"pen LSTM": "digits_pen_lstm.npz", "pen GRU": "digits_pen_gru.npz"}


def random_pen_model(cell: str = "LSTM", hidden: int = 32, seed: int = 0) -> Model:
    """An untrained pen model of the shipped shape (tests and a stand-in when none is shipped)."""
    from explorer.data.pen import PenSpec
    from explorer.engine import GRU, LSTM, Linear
    spec = PenSpec()
    rng = np.random.default_rng(seed)
    layer = {"LSTM": LSTM, "GRU": GRU}[cell](spec.n_features, hidden, rng=rng)
    return Model([layer, Linear(hidden, 10, rng=rng)],
                 meta={"task": "digits", "input": "pen", "pen": spec.to_meta(),
                       "name": f"digits_pen_{cell.lower()} (untrained)", "trained": False})


def load_pen_model(label: str = "pen LSTM") -> tuple[Model, str | None]:
    """A shipped pen model by its label (``SHIPPED``), or (an untrained stand-in, a notice why)."""
    from explorer.engine import ModelFileError, load_model
    from explorer.paths import model_path
    name = SHIPPED.get(label, SHIPPED["pen LSTM"])
    cell = "GRU" if "GRU" in label else "LSTM"
    path = model_path(name)
    try:
        model = load_model(path)
        check_pen_model(model)
        model.meta.setdefault("name", name.removesuffix(".npz"))
        return model, None
    except (OSError, ModelFileError, NotAPenModel) as exc:
        why = "not found" if not path.is_file() else str(exc)
        return random_pen_model(cell), f"untrained pen model ({name}: {why}) — its guesses are random"


# -- what the pen panels draw per frame ------------------------------------------------------
@dataclass(frozen=True)
class PenView:
    """One render of the pen panels. xy (T, 2) the hidden state on the frozen basis; explained
    (2,) variance ratios of its axes; gates name -> (T, H); pen (T, 10), cnn (T, 10) (NaN: not
    computed yet); knew_pen / knew_cnn: first pen step from which each stays ``target`` (the
    digit the user named, else each reader's own last answer); note: why nothing is read."""

    version: int
    reading: PenReading
    xy: F32
    explained: F32
    cloud: F32
    pen: F32
    cnn: F32
    knew_pen: int | None
    knew_cnn: int | None
    target: int | None
    cnn_missing: int
    note: str | None
    model_name: str

    @property
    def steps(self) -> int:
        return self.reading.steps


def synthetic_strokes(n_writers: int = 4, per_digit: int = 2, seed: int = 0) -> list[list[np.ndarray]]:
    """Digits 0-9 written by a few synthetic writers (explorer.data.styles), reference units."""
    from explorer.data.styles import Writer
    rng = np.random.default_rng([seed, 21])
    out = []
    for w in range(n_writers):
        writer = Writer(seed * 100 + w)
        for digit in range(10):
            for _ in range(per_digit):
                out.append([np.asarray(s, np.float32) for s in writer.sample_strokes(digit, rng)])
    return out


def reference_pen_states(model: Model, use_cache: bool = True) -> F32:
    """The pen model's hidden states over synthetic digits (N, H): what the trajectory's frozen
    basis is fitted on; kept in the disk cache of ``refcache`` (they depend only on the model)."""
    from explorer.session import refcache
    layer, spec = check_pen_model(model)
    key = refcache.cache_key(model, corpus="pen-synthetic", writers=4, per_digit=2, seed=0) if use_cache else None
    cached = refcache.load(key, layer.hidden_size) if key else None
    if cached is not None:
        return cached
    states = []
    for strokes in synthetic_strokes():
        rows = pen_features(strokes, spec)
        if len(rows):
            states.append(layer.run(rows[None])[0][0])
    out = np.concatenate(states).astype(np.float32)
    if key:
        refcache.store(key, out)
    return out


class PenLive:
    """The Digit Lab's pen half: a PenReader on its drawing, the CNN over pen time, the frozen
    trajectory basis. ``frame(session, cnn_probs)`` after every drawing change; ``fill(session)``
    computes a few more CNN steps (returns how many are still missing)."""

    CNN_STEPS_PER_FRAME = 2

    def __init__(self, model: Model, name: str = "pen LSTM") -> None:
        self.reader = PenReader(model)
        self.name = name
        self.cnn = CnnOverPenTime()
        self.target: int | None = None
        self._basis: Any = None
        self.version = 0

    @property
    def model(self) -> Model:
        return self.reader.model

    def basis(self) -> Any:
        """The trajectory's PCA basis, fitted once per model on synthetic digits, then frozen."""
        if self._basis is None:
            from explorer.analysis.pca import fit_pca
            self._basis = fit_pca(reference_pen_states(self.model), k=2, max_cloud=1500)
        return self._basis

    def follow(self, session: DigitSession, cnn_probs: np.ndarray | None) -> None:
        self.reader.follow_session(session)
        now = [s.points for s in session.state.strokes]
        self.cnn.sync(self.reader, now)
        if session.state.background is None:       # over an opened image the CNN reads more than the pen
            self.cnn.offer(cnn_probs, now)

    def fill(self, session: DigitSession, budget: int | None = None) -> int:
        """Compute up to ``budget`` more CNN steps -> how many are still missing (0 over an image)."""
        if session.state.background is not None:
            return 0
        return self.cnn.fill(session.classify_strokes, self.CNN_STEPS_PER_FRAME if budget is None else budget)

    def view(self, session: DigitSession | None = None, cnn_probs: np.ndarray | None = None) -> PenView:
        if session is not None:
            self.follow(session, cnn_probs)
            missing = self.fill(session)
        else:
            missing = int(np.isnan(self.cnn.probs[:, 0]).sum()) if not self.reader.background else 0
        r = self.reader.reading()
        pen = r.probs
        cnn = self.cnn.probs
        cnn = np.where(np.isinf(cnn), np.nan, cnn).astype(np.float32) if len(cnn) else cnn
        if r.steps:
            basis = self.basis()
            xy = basis.transform(r.hidden)
            explained, cloud = basis.explained, basis.cloud
        else:
            xy = np.zeros((0, 2), np.float32)
            explained = np.zeros(2, np.float32) if self._basis is None else self._basis.explained
            cloud = np.zeros((0, 2), np.float32) if self._basis is None else self._basis.cloud
        self.version += 1
        return PenView(self.version, r, xy, explained, cloud, pen, cnn,
                        knew_at(pen, self.target) if r.steps else None,
                        knew_at(cnn, self.target) if r.steps and not missing else None,
                        self.target, missing, r.note,
                        str(self.model.meta.get("name", self.name)))
