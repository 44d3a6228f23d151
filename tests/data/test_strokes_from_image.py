"""Images back to pen strokes: thinning, tracing, spur pruning, canvas coordinates."""

import numpy as np
import pytest

from explorer.data.preprocess import render_strokes
from explorer.data.strokes_from_image import skeletonize, strokes_from_image, strokes_from_images, trace_skeleton


def distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """points: (P, 2), line: (K, 2) -> (P,) distance of each point to the polyline."""
    a, b = line[:-1][None], line[1:][None]
    p = points[:, None]
    d = b - a
    t = np.clip(((p - a) * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)
    return np.hypot(*(p - a - t[..., None] * d).transpose(2, 0, 1)).min(axis=1)


def test_a_rendered_polyline_comes_back_close_to_itself():
    line = np.array([[60.0, 40.0], [200.0, 70.0], [120.0, 240.0]])     # a "7", canvas units
    img = render_strokes([line], 280, pen_width=24.0, supersample=2)
    small = img.reshape(28, 10, 28, 10).mean(axis=(1, 3))             # MNIST-sized scan
    strokes = strokes_from_image(small)
    assert len(strokes) == 1
    pts = strokes[0]
    assert distance_to_polyline(pts, line).max() < 10.0               # on the line: 1 MNIST px
    # ... and covers it: the corner is cut by ~1 px, the ends shortened by < a pen width
    assert distance_to_polyline(line, pts)[1] < 15.0
    ends = pts[[0, -1]] if pts[0, 1] < pts[-1, 1] else pts[[-1, 0]]
    assert np.hypot(*(ends - line[[0, -1]]).T).max() < 22.0
    length = np.hypot(*np.diff(pts, axis=0).T).sum()
    assert 0.8 * 330 < length < 1.1 * 330                             # 143 + 190 long


def test_a_ring_gives_one_closed_loop():
    yy, xx = np.mgrid[0:56, 0:56]
    r = np.hypot(yy - 27.5, xx - 27.5)
    ring = ((r > 14) & (r < 19)).astype(np.float32)
    strokes = strokes_from_image(ring, canvas=280)
    assert len(strokes) == 1
    loop = strokes[0]
    assert np.allclose(loop[0], loop[-1])
    radius = np.hypot(*(loop - 140.0).T)                              # 16.5 px * 5 = 82.5
    assert np.abs(radius - 82.5).max() < 8.0


def test_empty_image_has_no_strokes():
    assert strokes_from_image(np.zeros((28, 28), np.uint8)) == []
    assert strokes_from_images(np.zeros((2, 28, 28), np.float32)) == [[], []]


def test_skeleton_is_one_pixel_wide_and_connected():
    bar = np.zeros((20, 30), bool)
    bar[7:13, 3:27] = True
    skel = skeletonize(bar)
    assert skel.any() and (skel.sum(axis=0) <= 1).all()               # one pixel per column
    cols = np.flatnonzero(skel.any(axis=0))
    assert np.array_equal(cols, np.arange(cols[0], cols[-1] + 1))      # no gaps
    batch = skeletonize(np.stack([bar, bar[::-1]]))
    assert batch.shape == (2, 20, 30) and np.array_equal(batch[0], skel)


def test_short_spurs_are_pruned_and_a_cross_keeps_four_arms():
    img = np.zeros((41, 41), bool)
    img[20, 4:37] = True
    img[4:37, 20] = True
    img[10, 21:24] = True                                             # a 3-px spur
    lines = trace_skeleton(skeletonize(img), min_spur=5.0)
    pts = np.concatenate(lines)
    assert not ((pts[:, 1] < 11) & (pts[:, 0] > 21.6)).any()          # spur gone
    ends = np.array([[4.5, 20.5], [36.5, 20.5], [20.5, 4.5], [20.5, 36.5]])
    assert min(np.hypot(*(pts - e).T).min() for e in ends) < 1.0 and \
        max(np.hypot(*(pts - e).T).min() for e in ends) < 1.0         # every arm's tip kept


def test_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        strokes_from_image(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        strokes_from_images(np.zeros((28, 28)))
