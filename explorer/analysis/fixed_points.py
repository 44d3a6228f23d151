"""Fixed points of a recurrent model's step map (Sussillo & Barak 2013), for small models.

For an input symbol x, the step map is s -> F(s, x): the recurrent layer's state after
reading x from state s (s = h for an RNN/GRU, s = [h, c] concatenated for an LSTM). A
fixed point s* has F(s*, x) = s*. We minimise ||F(s, x) - s||^2 with Levenberg-Marquardt
(Gauss-Newton with an adaptive damping) from many starts at once: the states the model
visits on random input sequences (and on runs of x itself), jittered by noise, plus the
zero state. The Jacobian dF/ds is a central finite difference in float64 (a float64 copy
of the layer, eps = 1e-6, all 2D perturbed states in one batched step), fine for the small
state sizes this is meant for. Converged points (residual ||F(s*) - s*|| <= ``tol``) are
de-duplicated and classified by the Jacobian's eigenvalues: all |lambda| < 1 stable (an
attractor), some < 1 and some > 1 a saddle, all >= 1 unstable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.analysis.generate import model_vocab, split_recurrent
from explorer.engine.model import Model
from explorer.errors import ExplorerError

MAX_STATE = 128
ACCEPT = 1e-8   # a residual above this is a slow point (or a saturated drift), not a fixed point


class FixedPointError(ExplorerError, ValueError):
    """A model whose fixed points this module does not search (too large, no recurrent layer)."""


@dataclass(frozen=True)
class FixedPoint:
    """One fixed point of the step map for input ``symbol`` (id ``input_id``)."""

    symbol: str
    input_id: int
    state: np.ndarray          # (D,) float64: h, or [h, c] for an LSTM
    hidden: np.ndarray         # (H,) the h part
    residual: float            # ||F(s*) - s*||, float64 arithmetic
    eigenvalues: np.ndarray    # (D,) complex, of dF/ds at s*

    @property
    def eigenvalues_abs_max(self) -> float:
        return float(np.abs(self.eigenvalues).max())

    @property
    def stable(self) -> bool:
        return self.eigenvalues_abs_max < 1.0

    @property
    def kind(self) -> str:
        a = np.abs(self.eigenvalues)
        return "stable" if a.max() < 1.0 else "saddle" if a.min() < 1.0 else "unstable"

    def to_json(self) -> dict[str, Any]:
        return {"input": self.symbol, "h": [float(v) for v in self.hidden],
                "residual": float(self.residual), "eigenvalues_abs_max": self.eigenvalues_abs_max,
                "stable": self.stable, "kind": self.kind,
                **({"c": [float(v) for v in self.state[len(self.hidden):]]}
                   if len(self.state) > len(self.hidden) else {})}


class StepMap:
    """s: (B, D) float64 states, id -> F(s, id): (B, D), through a float64 copy of the model."""

    def __init__(self, model: Model) -> None:
        copy = Model.from_arch(model.arch())
        copy.astype(np.float64)
        copy.load_state_dict(model.state_dict())
        self.pre, self.rec, self.post = split_recurrent(copy)
        self.hidden = int(self.rec.hidden_size)  # type: ignore[attr-defined]
        self.lstm = self.rec.type_name == "LSTM"
        self.dim = 2 * self.hidden if self.lstm else self.hidden

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """ids: (B, T) -> the recurrent layer's input (B, T, E)."""
        x: np.ndarray = np.asarray(ids, np.int64)
        for layer in self.pre:
            x = layer.infer(x)
        return np.asarray(x, np.float64)

    def _state(self, s: np.ndarray) -> Any:
        s = np.ascontiguousarray(s, np.float64)
        return (s[:, :self.hidden].copy(), s[:, self.hidden:].copy()) if self.lstm else s

    def _flat(self, st: Any) -> np.ndarray:
        return np.concatenate(st, axis=1) if self.lstm else np.asarray(st)

    def __call__(self, s: np.ndarray, input_id: int) -> np.ndarray:
        e = self.embed(np.full((len(s), 1), int(input_id)))
        _, final, _ = self.rec.run(e, self._state(s))  # type: ignore[attr-defined]
        return self._flat(final)

    def visited(self, ids: np.ndarray) -> np.ndarray:
        """ids: (B, T) -> every state visited (B*T, D) from the zero state."""
        hs, _, gates = self.rec.run(self.embed(ids))  # type: ignore[attr-defined]
        parts = [hs, gates["c"]] if self.lstm else [hs]
        return np.concatenate(parts, axis=2).reshape(-1, self.dim)

    def jacobian(self, s: np.ndarray, input_id: int, eps: float = 1e-6) -> np.ndarray:
        """s: (B, D) -> dF/ds: (B, D, D) by central differences, one batched step."""
        b, d = s.shape
        pert = np.eye(d) * eps
        both = np.concatenate([s[:, None, :] + pert, s[:, None, :] - pert], axis=1)
        f = self(both.reshape(-1, d), input_id).reshape(b, 2, d, d)
        return np.asarray(((f[:, 0] - f[:, 1]) / (2 * eps)).transpose(0, 2, 1))


def _levenberg_marquardt(fmap: StepMap, s: np.ndarray, input_id: int, iters: int,
                         tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ||F(s) - s||^2 from each row of s: (B, D) -> (s*, residual norms (B,))."""
    s = s.copy()
    eye = np.eye(s.shape[1])
    r = fmap(s, input_id) - s
    cost = (r * r).sum(axis=1)
    lam = np.full(len(s), 1e-3)
    for _ in range(iters):
        active = cost > tol * tol
        if not active.any():
            break
        sa, ra = s[active], r[active]
        jr = fmap.jacobian(sa, input_id) - eye                     # d(F(s) - s)/ds
        jt = jr.transpose(0, 2, 1)
        a = jt @ jr + lam[active, None, None] * eye
        step = -np.linalg.solve(a, (jt @ ra[..., None]))[..., 0]
        trial = sa + step
        rt = fmap(trial, input_id) - trial
        ct = (rt * rt).sum(axis=1)
        better = np.isfinite(ct) & (ct < cost[active])
        idx = np.flatnonzero(active)
        s[idx[better]], r[idx[better]], cost[idx[better]] = trial[better], rt[better], ct[better]
        lam[idx] = np.clip(np.where(better, lam[idx] * 0.3, lam[idx] * 10.0), 1e-12, 1e12)
    return s, np.sqrt(cost)


def _dedupe(points: np.ndarray, residuals: np.ndarray, radius: float) -> list[int]:
    """Indices of distinct points (lowest residual first), none within ``radius`` of another."""
    keep: list[int] = []
    for i in np.argsort(residuals):
        if all(np.linalg.norm(points[i] - points[j]) > radius for j in keep):
            keep.append(int(i))
    return keep


def starting_states(fmap: StepMap, n_symbols: int, input_id: int, n_starts: int,
                    rng: np.random.Generator) -> np.ndarray:
    """(n_starts, D): the zero state; visited states (random inputs, runs of the symbol)
    jittered by noise; and a quarter drawn uniformly from [-1, 1]^D (states no input reaches
    from zero can still be fixed points)."""
    ids = rng.integers(0, n_symbols, size=(8, 40))
    runs = np.concatenate([ids[:4, :20], np.full((4, 20), input_id)], axis=1)
    visited = np.concatenate([fmap.visited(ids), fmap.visited(runs)])
    n_box = (n_starts - 1) // 4
    pick = visited[rng.integers(0, len(visited), size=n_starts - 1 - n_box)]
    scale = 0.1 * (visited.std(axis=0) + 1e-3)
    pick = pick + rng.normal(size=pick.shape) * scale
    box = rng.uniform(-1.0, 1.0, size=(n_box, fmap.dim))   # unvisited corners of the h box too
    return np.concatenate([np.zeros((1, fmap.dim)), pick, box])


def find_fixed_points(model: Model, n_starts: int = 48, iters: int = 200, tol: float = 1e-9,
                      seed: int = 0, symbols: list[int] | None = None) -> list[FixedPoint]:
    """Every distinct fixed point found for each input symbol, in symbol order.

    n_starts starts per symbol, at most ``iters`` LM iterations; a point counts when its
    residual is <= ACCEPT (the search aims for ``tol``) and its h lies in [-1, 1], the box
    every state of these cells lives in (outside it, saturated gates make ``F`` nearly the
    identity along a line, and the search would "find" points that are only slow drift). Raises FixedPointError for a state
    larger than MAX_STATE numbers (the Jacobians are dense D x D per start).
    """
    fmap = StepMap(model)
    if fmap.dim > MAX_STATE:
        raise FixedPointError(f"fixed points are searched in small models only: this one's state "
                              f"has {fmap.dim} numbers (the limit is {MAX_STATE})")
    vocab = model_vocab(model)
    first = 1 if vocab.unknown else 0
    ids = list(range(first, vocab.size)) if symbols is None else list(symbols)
    rng = np.random.default_rng(seed)
    found: list[FixedPoint] = []
    for i in ids:
        starts = starting_states(fmap, vocab.size, i, n_starts, rng)
        pts, res = _levenberg_marquardt(fmap, starts, i, iters, tol)
        inside = np.all(np.abs(pts[:, :fmap.hidden]) <= 1.0 + 1e-9, axis=1)   # reachable h
        ok = np.flatnonzero((res <= ACCEPT) & inside)
        scale = max(1.0, float(np.abs(pts[ok]).max())) if len(ok) else 1.0
        for k in _dedupe(pts[ok], res[ok], 1e-4 * scale):
            p = pts[ok][k]
            jac = fmap.jacobian(p[None], i)[0]
            found.append(FixedPoint(vocab.symbols[i], i, p, p[:fmap.hidden].copy(),
                                    float(res[ok][k]), np.linalg.eigvals(jac)))
    return found
