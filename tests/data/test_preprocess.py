"""MNIST-style preprocessing of drawings and images (numpy only)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from strokes import STYLES, all_variants, place, variants  # noqa: E402

from explorer.data.preprocess import (  # noqa: E402
    EmptyDrawing,
    centre_of_mass,
    image_to_gray,
    is_empty,
    preprocess_strokes,
    render_strokes,
    resize,
    stroke_width,
    to_mnist,
)


def bbox_side(img, thr=0.1):
    rows = np.flatnonzero((img > thr).any(axis=1))
    cols = np.flatnonzero((img > thr).any(axis=0))
    return max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)


def similar(a, b):
    return np.abs(a - b).mean(), np.corrcoef(a.ravel(), b.ravel())[0, 1]


def test_render_segment_is_antialiased_round_capped_line():
    img = render_strokes([[(40, 50.5), (200, 50.5)]], canvas_size=(100, 280), pen_width=10)
    assert img.shape == (100, 280) and img.dtype == np.float32
    assert img[50, 120] == 1.0 and img[50, 5] == 0.0 and img[80, 120] == 0.0
    assert img[45, 120] == pytest.approx(0.5) and img[44, 120] == 0  # 1-px soft edge
    assert img[50, 36] > 0.5 and img[50, 33] == 0.0       # round cap reaches 5 px past the end
    assert img.sum() == pytest.approx(160 * 10 + np.pi * 25, rel=0.03)


def test_single_point_stroke_is_a_dot_and_supersampling_agrees():
    dot = render_strokes([[(30.0, 30.0)]], 60, pen_width=12)
    assert dot.sum() == pytest.approx(np.pi * 36, rel=0.05)
    assert centre_of_mass(dot) == pytest.approx((29.5, 29.5), abs=0.05)
    fine = render_strokes([[(30.0, 30.0)]], 60, pen_width=12, supersample=4)
    assert np.abs(fine - dot).max() < 0.25 and fine.sum() == pytest.approx(dot.sum(), rel=0.03)


@pytest.mark.parametrize("digit", range(10))
def test_strokes_are_centred_and_sized_like_mnist(digit):
    for v in variants(digit):
        x = preprocess_strokes(v.strokes)
        assert x.shape == (1, 28, 28) and x.dtype == np.float32
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
        r, c = centre_of_mass(x[0])
        assert abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5, v.name
        assert abs(bbox_side(x[0]) - 20) <= 1, v.name


def test_stroke_width_is_mnist_like_for_every_pen_and_size():
    widths = [stroke_width(preprocess_strokes(v.strokes)[0]) for v in all_variants()]
    assert 2.0 < np.median(widths) < 3.0                  # MNIST median ~2.5 by this measure
    assert min(widths) > 1.5 and max(widths) < 3.5


def test_canvas_path_ignores_position_size_and_pen():
    style = STYLES[4][0]
    big = preprocess_strokes(place(style, 220, (140, 140)))
    small = preprocess_strokes(place(style, 60, (50, 230)))
    mad, corr = similar(big, small)
    assert mad < 0.02 and corr > 0.99
    other = preprocess_strokes(place(STYLES[7][0], 220, (140, 140)))
    assert similar(big, other)[1] < 0.9                   # the comparison can fail


@pytest.mark.parametrize("digit", [1, 3, 4, 8])
def test_image_path_ignores_position_and_size(digit):
    style = STYLES[digit][0]
    big = to_mnist(render_strokes(place(style, 230, (140, 140)), 280, pen_width=20))
    small = to_mnist(render_strokes(place(style, 70, (60, 200)), 280, pen_width=6))
    mad, corr = similar(big, small)
    assert mad < 0.05 and corr > 0.95
    r, c = centre_of_mass(small[0])
    assert abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5
    assert abs(bbox_side(small[0]) - 20) <= 1


def test_image_path_agrees_with_canvas_path():
    v = next(variants(2))
    via_image = to_mnist(render_strokes(v.strokes, 280, v.pen_width))
    assert similar(via_image, preprocess_strokes(v.strokes))[1] > 0.85


def test_light_background_image_is_inverted():
    v = next(variants(5))
    dark = render_strokes(v.strokes, 280, v.pen_width)
    light_u8 = ((1.0 - dark) * 255).round().astype(np.uint8)
    a, b = to_mnist(dark), to_mnist(light_u8)
    assert np.abs(a - b).max() < 0.02
    assert np.abs(to_mnist(1.0 - dark, invert=True) - a).max() < 0.02
    rgba = np.dstack([light_u8] * 3 + [np.full_like(light_u8, 255)])
    assert np.abs(to_mnist(rgba) - a).max() < 0.02


def test_image_to_gray_luminance_and_alpha_on_white():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    g = image_to_gray(rgb)
    assert g.shape == (2, 2) and g[0, 0] == pytest.approx(0.299, abs=1e-3) and g[1, 1] == 0
    rgba = np.zeros((1, 2, 4), np.float32)
    rgba[0, 1, 3] = 1.0                                   # opaque black; the other transparent
    assert image_to_gray(rgba).tolist() == [[1.0, 0.0]]
    with pytest.raises(ValueError, match="shape"):
        image_to_gray(np.zeros((2, 2, 5)))


def test_empty_inputs_raise_no_ink():
    for empty in ([], [[]], np.zeros((0, 2))):
        assert is_empty(empty)
        with pytest.raises(EmptyDrawing, match="no ink: draw a digit"):
            preprocess_strokes(empty)
    blank = render_strokes([], 280)
    assert blank.shape == (280, 280) and is_empty(blank)
    with pytest.raises(EmptyDrawing):
        to_mnist(blank)
    with pytest.raises(EmptyDrawing):
        to_mnist(np.full((50, 50), 255, np.uint8))        # white paper, nothing written
    assert not is_empty([[(1, 1), (5, 5)]]) and isinstance(EmptyDrawing(), ValueError)


def test_stray_click_does_not_shrink_the_digit():
    strokes = place(STYLES[7][0], 200, (140, 140)) + [np.array([[270.0, 270.0]])]
    clean = preprocess_strokes(place(STYLES[7][0], 200, (140, 140)))
    assert similar(preprocess_strokes(strokes), clean)[0] < 0.01


def test_resize_preserves_mean_when_shrinking_and_is_smooth_when_growing():
    img = np.random.default_rng(0).random((60, 45)).astype(np.float32)
    small = resize(img, 20, 15)
    assert small.shape == (20, 15)
    assert small.mean() == pytest.approx(img.mean(), rel=1e-4)
    assert np.allclose(small[0, 0], img[:3, :3].mean(), atol=1e-5)
    grown = resize(np.array([[0.0, 1.0]], np.float32), 1, 4)
    assert np.all(np.diff(grown[0]) >= 0) and grown[0, 0] == 0 and grown[0, -1] == 1


def test_finish_equals_pasting_into_the_whole_field_then_averaging_blocks():
    """The fast finish (block sums over the output pixels the box covers) against the plain
    reference: coverage pasted centred into the 112×112 field, then the mean of every 4×4 block."""
    from explorer.data import preprocess as pp

    def reference(d2, r):
        s = pp.SUPERSAMPLE
        cov = np.clip(r + 0.5 - np.sqrt(d2), 0.0, 1.0).astype(np.float32)
        field = pp._paste_centred(cov, pp.FIELD * s, unit=s)
        return np.clip(field.reshape(pp.FIELD, s, pp.FIELD, s).mean(axis=(1, 3)), 0.0, 1.0)[None]

    rng = np.random.default_rng(0)
    for shape in [(5, 7), (81, 54), (54, 81), (112, 112), (130, 40), (3, 140)]:
        d2 = (rng.random(shape) * 12).astype(np.float32) ** 2
        d2[rng.random(shape) < 0.3] = np.inf                   # far from every segment
        r = float(rng.uniform(2, 8))
        got, want = pp._finish(d2, r), reference(d2, r)
        assert got.shape == (1, 28, 28) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    # a negative control: a wider pen is another picture
    assert not np.allclose(pp._finish(d2, r + 0.5), reference(d2, r), atol=1e-6)
    with pytest.raises(EmptyDrawing):
        pp._finish(np.full((6, 6), np.inf, np.float32), 3.0)


def test_accumulating_a_few_segments_equals_the_scatter_path_bit_for_bit():
    """A pen move's one or two segments are min-ed over one box (``_accumulate_few``); the same
    segments among many go through the windows-and-scatter path: every cell bit-identical."""
    from explorer.data import preprocess as pp
    rng = np.random.default_rng(3)
    far = np.full((9, 2), -1e4)                                    # extra segments outside the buffer
    for _ in range(200):
        n = int(rng.integers(1, 9))
        a = rng.uniform(-5, 65, (n, 2))
        b = a + rng.normal(0, 5, (n, 2))
        reach = float(rng.uniform(2, 7))
        origin = (int(rng.integers(-10, 10)), int(rng.integers(-10, 10)))
        d2 = (rng.random((70, 80)) * 30).astype(np.float32)
        d2[rng.random(d2.shape) < 0.5] = np.inf
        few, many = d2.copy(), d2.copy()
        pp._accumulate(few, origin, a, b, reach)
        pp._accumulate(many, origin, np.concatenate([a, far]), np.concatenate([b, far]), reach)
        assert np.array_equal(few, many)
    # a negative control: another reach writes other numbers
    other = d2.copy()
    pp._accumulate(other, origin, a, b, reach + 1.0)
    assert not np.array_equal(other, few)
