"""Both readers on the same drawing drawn differently, moved and thickened (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.session.both_readers import (
    SWEEPS,
    read_variants,
    reversed_strokes,
    stroke_variants,
    sweep_both,
    transformed,
)
from explorer.session.digits import default_digit_model
from explorer.session.pen_reader import random_pen_model, read_at_once


def _four() -> list[np.ndarray]:
    down = np.stack([np.full(30, 90.0), np.linspace(40, 150, 30)], axis=1)
    across = np.stack([np.linspace(90, 200, 30), np.full(30, 150.0)], axis=1)
    stem = np.stack([np.full(40, 170.0), np.linspace(60, 250, 40)], axis=1)
    return [a.astype(np.float32) for a in (down, across, stem)]


def test_variants_of_a_three_stroke_drawing() -> None:
    strokes = _four()
    labels = [label for label, _ in stroke_variants(strokes)]
    assert labels[:2] == ["as drawn", "reversed"]
    assert sum(lab.startswith("order") for lab in labels) == 5          # 3! - 1 other orders
    assert [lab for lab in labels if lab.startswith("without")] == ["without stroke 1", "without stroke 2",
                                                                   "without stroke 3"]
    rev = reversed_strokes(strokes)
    np.testing.assert_array_equal(rev[0], strokes[-1][::-1])
    assert [label for label, _ in stroke_variants(strokes[:1])] == ["as drawn", "reversed"]


def test_the_cnn_cannot_tell_the_order_the_pen_rnn_can() -> None:
    cnn, pen = default_digit_model(2), random_pen_model("GRU", hidden=16, seed=7)
    readings = {r.label: r for r in read_variants(_four(), cnn, pen)}
    drawn = readings["as drawn"]
    for label, r in readings.items():
        if label.startswith("without"):
            continue
        np.testing.assert_array_equal(r.cnn, drawn.cnn)                # the picture is the same: bit for bit
    np.testing.assert_allclose(drawn.pen, read_at_once(pen, _four())[-1], atol=1e-7)
    differs = [label for label, r in readings.items() if not np.allclose(r.pen, drawn.pen, atol=1e-6)]
    assert "reversed" in differs and any(d.startswith("order") for d in differs)
    # a stroke left out changes the picture, so the CNN can change there (the negative control)
    assert any(not np.array_equal(r.cnn, drawn.cnn) for label, r in readings.items() if label.startswith("without"))


def test_sweeps_move_the_drawing_and_thicken_only_the_cnns_pen() -> None:
    cnn, pen = default_digit_model(2), random_pen_model("LSTM", hidden=16, seed=8)
    strokes = _four()
    values, p_cnn, p_pen = sweep_both("thicker", strokes, cnn, pen)
    assert len(values) == len(SWEEPS["thicker"][1]) and not np.isnan(p_cnn).any()
    np.testing.assert_array_equal(p_pen, np.repeat(p_pen[:1], len(values), axis=0))   # blind to the ink
    assert np.abs(p_cnn - p_cnn[0]).max() > 1e-4                                       # the CNN is not
    values, p_cnn, p_pen = sweep_both("shift", strokes, cnn, pen)
    # the pen steps never see where the drawing is: a shift changes nothing for the pen model
    np.testing.assert_allclose(p_pen, np.repeat(p_pen[:1], len(values), axis=0), atol=1e-6)
    values, p_cnn, p_pen = sweep_both("rotate", strokes, cnn, pen)
    assert np.abs(p_pen - p_pen[len(values) // 2]).max() > 1e-4
    one = transformed(strokes, "scale", 2.0)
    np.testing.assert_allclose(np.ptp(np.concatenate(one), axis=0), 2 * np.ptp(np.concatenate(strokes), axis=0), rtol=1e-5)
    with pytest.raises(ValueError, match="unknown transform"):
        sweep_both("squash", strokes, cnn, pen)
