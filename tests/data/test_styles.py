"""Synthetic writing styles: seeded, digit-like, rendered through the canvas path."""

import numpy as np

from explorer.data.augment import StrokeJitter
from explorer.data.styles import (
    STYLE_NAMES,
    STYLES,
    StyleSampler,
    Writer,
    held_out_styles,
    render_styles,
    style_strokes,
)


def test_every_style_renders_seeded_inputs_with_its_label():
    x, y, which = render_styles(STYLE_NAMES, 3, seed=5)
    assert x.shape == (3 * len(STYLE_NAMES), 1, 28, 28) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert all(x[i].sum() > 20 for i in range(len(x)))               # ink in every one
    assert [int(v) for v in y] == [STYLES[STYLE_NAMES[k]][0] for k in which]
    x2, _, _ = render_styles(STYLE_NAMES, 3, seed=5)
    x3, _, _ = render_styles(STYLE_NAMES, 3, seed=6)
    assert np.array_equal(x, x2) and not np.allclose(x, x3)


def test_held_out_set_differs_from_training_draws():
    x_tr, _, _ = StyleSampler().render(np.zeros(20, np.int64), np.random.default_rng(0))
    x_ho, y_ho, w = held_out_styles(per_style=20)
    ho = x_ho[w == 0]
    assert (y_ho[w == 0] == 1).all()
    # no held-out image equals a training image
    d = np.abs(x_tr[:, None] - ho[None]).reshape(20, 20, -1).max(-1)
    assert d.min() > 0.05


def test_flag_one_has_a_flag_and_the_base_variant_is_wider():
    rng = np.random.default_rng(1)
    widths = {}
    for name in ("1 flag", "1 flag+base"):
        w = []
        for _ in range(30):
            pts = np.concatenate(style_strokes(name, rng))
            w.append(np.ptp(pts[:, 0]) / np.ptp(pts[:, 1]))
        widths[name] = np.median(w)
    assert widths["1 flag"] > 0.12                        # not a plain bar
    assert widths["1 flag+base"] > widths["1 flag"]


def test_a_wider_writer_changes_the_rendering():
    a, _, _ = render_styles(["7 crossed"], 5, seed=2)
    b, _, _ = render_styles(["7 crossed"], 5, seed=2, jitter=StrokeJitter(rotation=30.0))
    assert not np.allclose(a, b)


def test_one_writer_is_consistent_and_another_differs():
    w1, w2 = Writer(1), Writer(2)
    a, strokes = w1.sample(4, 6, np.random.default_rng(0))
    assert a.shape == (6, 1, 28, 28) and len(strokes) == 6
    b, _ = w2.sample(4, 6, np.random.default_rng(0))
    same = np.abs(a[:3] - a[3:]).mean()
    other = np.abs(a - b).mean()
    assert same < other
