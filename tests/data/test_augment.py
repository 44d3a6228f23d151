"""Seeded batch augmentation of 28x28 digits."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from strokes import variants  # noqa: E402

from explorer.data.augment import AugmentConfig, augment_batch, warp  # noqa: E402
from explorer.data.preprocess import centre_of_mass, preprocess_strokes  # noqa: E402


@pytest.fixture(scope="module")
def batch():
    xs = [preprocess_strokes(v.strokes) for d in range(10) for v in list(variants(d))[:3]]
    return np.stack(xs).astype(np.float32)                   # (30, 1, 28, 28)


def test_shape_dtype_range(batch):
    out = augment_batch(batch, np.random.default_rng(0))
    assert out.shape == batch.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_seeded(batch):
    a = augment_batch(batch, np.random.default_rng(7))
    b = augment_batch(batch, np.random.default_rng(7))
    c = augment_batch(batch, np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_changes_images_but_keeps_them_digit_like(batch):
    out = augment_batch(batch, np.random.default_rng(1))
    diff = np.abs(out - batch).mean(axis=(1, 2, 3))
    assert (diff > 0.01).all()                                # every image changed
    corr = [np.corrcoef(o.ravel(), x.ravel())[0, 1] for o, x in zip(out, batch)]
    assert np.median(corr) > 0.4                              # ... but not beyond recognition
    ink = out.sum(axis=(1, 2, 3)) / batch.sum(axis=(1, 2, 3))
    assert 0.5 < ink.min() and ink.max() < 2.0
    com = np.array([centre_of_mass(o[0]) for o in out])
    assert np.abs(com - 14).max() < 5


def test_identity_warp_is_exact(batch):
    eye = np.tile(np.array([[1, 0, 0], [0, 1, 0]], np.float32), (len(batch), 1, 1))
    assert np.allclose(warp(batch[:, 0], eye), batch[:, 0], atol=1e-6)


def test_translation_warp_moves_ink():
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 10, 10] = 1.0
    mat = np.array([[[1, 0, -3], [0, 1, 2]]], np.float32)    # sample from (x-3, y+2)
    out = warp(img, mat)
    assert out[0, 8, 13] == pytest.approx(1.0) and out.sum() == pytest.approx(1.0)


def test_no_op_config_returns_input(batch):
    cfg = AugmentConfig(rotation=0, scale=(1, 1), shear=0, translate=0, elastic_alpha=0,
                        p_elastic=0, p_thickness=0)
    assert np.allclose(augment_batch(batch, np.random.default_rng(0), cfg), batch, atol=1e-6)


def test_thickness_changes_ink_both_ways(batch):
    cfg = AugmentConfig(rotation=0, scale=(1, 1), shear=0, translate=0, elastic_alpha=0,
                        p_elastic=0, p_thickness=1.0)
    out = augment_batch(batch, np.random.default_rng(0), cfg)
    ratio = out.sum(axis=(1, 2, 3)) / batch.sum(axis=(1, 2, 3))
    assert (ratio > 1.1).any() and (ratio < 0.9).any()


def test_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        augment_batch(np.zeros((4, 28, 28), np.float32), np.random.default_rng(0))


# ---- stroke re-rendering (the canvas's path) ----

from explorer.data.augment import StrokeAugment, StrokeJitter, jitter_strokes  # noqa: E402


def test_jitter_strokes_is_seeded_and_keeps_the_shape():
    line = [np.array([[20.0, 10.0], [120.0, 30.0], [60.0, 200.0]]),
            np.array([[30.0, 110.0], [100.0, 105.0]])]
    a = jitter_strokes(line, np.random.default_rng(3))
    b = jitter_strokes(line, np.random.default_rng(3))
    c = jitter_strokes(line, np.random.default_rng(4))
    assert all(np.array_equal(p, q) for p, q in zip(a, b)) and len(a) == len(b)
    assert not all(p.shape == q.shape and np.allclose(p, q) for p, q in zip(a, c))
    pts, orig = np.concatenate(a), np.concatenate(line)
    assert np.abs(pts.mean(0) - orig.mean(0)).max() < 20            # same place, ~10 % of size
    assert 0.75 < np.ptp(pts, 0).max() / np.ptp(orig, 0).max() < 1.3


def test_no_jitter_returns_the_strokes():
    line = [np.array([[20.0, 10.0], [120.0, 30.0], [60.0, 200.0]])]
    still = StrokeJitter(rotation=0, shear=0, aspect=(1, 1), wobble=0, noise=0, end=(0, 0),
                         p_lift=0)
    out = jitter_strokes(line, np.random.default_rng(0), still)
    assert len(out) == 1 and np.allclose(out[0], line[0])


def test_stroke_augment_redraws_images_as_centred_canvas_input(batch):
    aug = StrokeAugment(batch)                                 # 30 stroke digits as images
    assert len(aug) == len(batch) and all(aug.strokes)
    drawn, ok = aug.render(np.arange(len(batch)), np.random.default_rng(0))
    assert drawn.shape == batch.shape and drawn.dtype == np.float32 and ok.all()
    assert drawn.min() >= 0.0 and drawn.max() <= 1.0
    com = np.array([centre_of_mass(d[0]) for d in drawn])
    assert np.abs(com - 13.5).max() < 1.0                      # canvas preprocessing: centred
    corr = [np.corrcoef(d.ravel(), x.ravel())[0, 1] for d, x in zip(drawn, batch)]
    assert np.median(corr) > 0.5                               # ... and the same digit
    again, _ = aug.render(np.arange(len(batch)), np.random.default_rng(0))
    assert np.array_equal(drawn, again)


def test_stroke_augment_skips_blank_images():
    aug = StrokeAugment(np.zeros((2, 28, 28), np.float32))
    drawn, ok = aug.render(np.array([0, 1]), np.random.default_rng(0))
    assert not ok.any() and not drawn.any()
