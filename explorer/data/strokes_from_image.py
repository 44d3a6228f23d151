"""Recover pen strokes from a digit image: how a person might have drawn it (numpy only).

MNIST images are scanned ink of varying width; the drawing canvas gives centre-lines that
``preprocess_strokes`` re-renders with a uniform pen. To see (and train for) that path, an
image is turned back into centre-lines: upsample (bilinear, for a smoother skeleton),
binarise, thin to a 1-px skeleton (Zhang & Suen 1984, vectorised over a batch), trace the
8-connected skeleton graph into polylines between end points and junctions (closed loops
become closed polylines), prune short spurs, merge paths that meet end to end, smooth
lightly and express the points in a canvas frame (280 x 280 by default).
"""

from __future__ import annotations

from typing import cast

import numpy as np

from explorer.data.preprocess import resize

__all__ = ["skeletonize", "trace_skeleton", "strokes_from_image", "strokes_from_images"]

# neighbour offsets P2..P9 of Zhang-Suen: N, NE, E, SE, S, SW, W, NW (row, col)
_OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _neighbours(b: np.ndarray) -> list[np.ndarray]:
    """b: (N, H, W) bool -> the 8 neighbour planes P2..P9, each (N, H, W) uint8."""
    p = np.pad(b, ((0, 0), (1, 1), (1, 1))).astype(np.uint8)
    h, w = b.shape[1:]
    return [p[:, 1 + dr:1 + dr + h, 1 + dc:1 + dc + w] for dr, dc in _OFFSETS]


def skeletonize(binary: np.ndarray) -> np.ndarray:
    """binary: (H, W) or (N, H, W) bool -> same shape bool, a 1-px wide 8-connected skeleton.

    Zhang-Suen thinning (two parallel sub-iterations until nothing changes), then removal
    of staircase corners (a pixel whose two orthogonal neighbours already touch diagonally),
    done in checkerboard passes so that connectivity is kept.
    """
    b = np.asarray(binary, bool)
    single = b.ndim == 2
    b = b[None].copy() if single else b.copy()
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p2, p3, p4, p5, p6, p7, p8, p9 = _neighbours(b)
            seq = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            a = sum(((seq[i] == 0) & (seq[i + 1] == 1)).astype(np.uint8) for i in range(8))
            n = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9
            if step == 0:
                c1, c2 = p2 * p4 * p6, p4 * p6 * p8
            else:
                c1, c2 = p2 * p4 * p8, p2 * p6 * p8
            kill = b & (n >= 2) & (n <= 6) & (a == 1) & (c1 == 0) & (c2 == 0)
            if kill.any():
                b &= ~kill
                changed = True
    rr, cc = np.indices(b.shape[1:])
    for parity in (0, 1):
        for i, j in ((0, 2), (2, 4), (4, 6), (6, 0)):        # N&E, E&S, S&W, W&N
            nb = _neighbours(b)
            opposite = nb[(i + 4) % 8] | nb[(j + 4) % 8] | nb[(i + 5) % 8]
            corner = b & (nb[i] == 1) & (nb[j] == 1) & (opposite == 0)
            corner &= ((rr + cc) % 2 == parity)[None]
            b &= ~corner
    return cast("np.ndarray", b[0] if single else b)


def _walks(skel: np.ndarray) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """skel: (H, W) bool -> (paths as pixel-index lists, (P, 2) row/col, degree per pixel)."""
    rows, cols = np.nonzero(skel)
    h, w = skel.shape
    index = np.full((h + 2, w + 2), -1, np.int64)
    index[rows + 1, cols + 1] = np.arange(len(rows))
    nb = np.stack([index[rows + 1 + dr, cols + 1 + dc] for dr, dc in _OFFSETS], axis=1)
    deg = (nb >= 0).sum(axis=1)
    node = deg != 2
    adj = [[int(k) for k in row if k >= 0] for row in nb]
    seen: set[tuple[int, int]] = set()
    paths = []

    def walk(start: int, first: int) -> list[int]:
        path, prev, cur = [start, first], start, first
        seen.update(((start, first), (first, start)))
        while not node[cur]:
            nxt = [k for k in adj[cur] if k != prev and (cur, k) not in seen]
            if not nxt:
                break
            prev, cur = cur, nxt[0]
            seen.update(((prev, cur), (cur, prev)))
            path.append(cur)
            if cur == start:
                break
        return path

    for n in np.flatnonzero(node):
        if deg[n] == 0:
            paths.append([int(n)])
        for m in adj[n]:
            if (int(n), m) not in seen:
                paths.append(walk(int(n), m))
    on_path = np.zeros(len(rows), bool)
    for p in paths:
        on_path[p] = True
    for n in np.flatnonzero(~on_path):                      # closed loops: no node on them
        if not on_path[n]:
            loop = walk(int(n), adj[n][0])
            on_path[loop] = True
            paths.append(loop)
    return paths, np.stack([rows, cols], axis=1).astype(np.float64), deg


def _merge(paths: list[list[int]]) -> list[list[int]]:
    """Join paths that meet end to end at a pixel no other path ends on."""
    paths = [list(p) for p in paths]
    while True:
        ends: dict[int, list[int]] = {}
        for i, p in enumerate(paths):
            if len(p) > 1 and p[0] != p[-1]:
                ends.setdefault(p[0], []).append(i)
                ends.setdefault(p[-1], []).append(i)
        pair = next(((e, ix) for e, ix in ends.items() if len(ix) == 2 and ix[0] != ix[1]), None)
        if pair is None:
            return paths
        e, (i, j) = pair
        a, b = paths[i], paths[j]
        a = a if a[-1] == e else a[::-1]
        b = b if b[0] == e else b[::-1]
        paths = [p for k, p in enumerate(paths) if k not in (i, j)] + [a + b[1:]]


def trace_skeleton(skel: np.ndarray, min_spur: float = 8.0,
                   min_stroke: float = 4.0) -> list[np.ndarray]:
    """skel: (H, W) bool skeleton -> polylines, each (K, 2) float64 (x, y) in pixel units.

    Spurs (paths from an end point to a junction) shorter than ``min_spur`` px and
    free-standing paths shorter than ``min_stroke`` px are dropped; the rest is merged end
    to end. A closed loop starts and ends on the same point. Pixel (r, c) -> (c+.5, r+.5).
    """
    if not skel.any():
        return []
    paths, rc, deg = _walks(skel)

    def length(p: list[int]) -> float:
        return float(np.hypot(*np.diff(rc[p], axis=0).T).sum()) if len(p) > 1 else 0.0

    kept = []
    for p in paths:
        ends = deg[p[0]], deg[p[-1]]
        free_end = 1 in ends or 0 in ends
        if free_end and max(ends) >= 3 and length(p) < min_spur:
            continue                                          # a spur off a junction
        if max(ends) <= 1 and length(p) < min_stroke:
            continue                                          # a speck
        kept.append(p)
    return [rc[p][:, ::-1] + 0.5 for p in _merge(kept)]


def _smooth(p: np.ndarray, step: int) -> np.ndarray:
    """(K, 2) -> moving-average (window 3, ends pinned unless closed), every ``step``-th point."""
    if len(p) < 4:
        return p
    closed = bool(np.all(p[0] == p[-1]))
    q = p.copy()
    if closed:
        core = p[:-1]
        q[:-1] = (np.roll(core, 1, 0) + core + np.roll(core, -1, 0)) / 3.0
        q[-1] = q[0]
    else:
        q[1:-1] = (p[:-2] + p[1:-1] + p[2:]) / 3.0
    keep = np.unique(np.r_[np.arange(0, len(q), step), len(q) - 1])
    return cast("np.ndarray", q[keep])


def strokes_from_images(images: np.ndarray, canvas: int = 280, upsample: int = 4,
                        threshold: float = 0.5) -> list[list[np.ndarray]]:
    """images: (N, H, W) ink-high, uint8 or float in [0, 1] -> per image a list of (K, 2) strokes.

    Coordinates are (x, y) in a ``canvas`` x ``canvas`` frame (the longer image side spans it).
    """
    imgs = np.asarray(images)
    if imgs.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {imgs.shape}")
    f = imgs.astype(np.float32) / (255.0 if imgs.dtype == np.uint8 else 1.0)
    n, h, w = f.shape
    big = np.stack([resize(im, h * upsample, w * upsample) for im in f]) if upsample > 1 else f
    skel = skeletonize(big > threshold)
    scale = canvas / float(max(h, w) * upsample)
    out = []
    for s in skel:
        lines = trace_skeleton(s, min_spur=2.0 * upsample, min_stroke=1.0 * upsample)
        out.append([_smooth(p, max(upsample // 2, 1)) * scale for p in lines])
    return out


def strokes_from_image(image: np.ndarray, canvas: int = 280, upsample: int = 4,
                       threshold: float = 0.5) -> list[np.ndarray]:
    """image: (H, W) ink-high (uint8 or float in [0, 1]) -> list of (K, 2) (x, y) canvas strokes.

    An empty image gives no strokes.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D image (H, W), got {img.shape}")
    return strokes_from_images(img[None], canvas, upsample, threshold)[0]
