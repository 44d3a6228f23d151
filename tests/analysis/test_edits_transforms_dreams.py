"""explorer.analysis edits, transforms and dreams: channel edits on a copy, input transforms, sweeps, pixel and pen dreams."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis import dreams, edits, transforms
from explorer.engine import Model
from explorer.training.digits import build_model, predict_proba


def tiny_cnn(seed: int = 3) -> Model:
    return build_model("cnn", seed).eval()


def digit_like(seed: int = 0) -> np.ndarray:
    """A 28x28 'digit': a thick ring plus a bar, off-centre so shifts matter."""
    yy, xx = np.mgrid[0:28, 0:28]
    r = np.hypot(yy - 12.0, xx - 14.5)
    img = ((r > 4) & (r < 7)).astype(np.float32)
    img[10:24, 20:22] = 1.0
    return np.clip(img + np.random.default_rng(seed).uniform(0, 0.05, img.shape), 0, 1).astype(np.float32)


def zeroed(model: Model, layer: int, channel: int) -> Model:
    twin = edits.copy_model(model)
    twin.layers[layer].params["weight"][channel] = 0
    twin.layers[layer].params["bias"][channel] = 0
    return twin


@pytest.mark.parametrize("layer,channel", [(0, 5), (3, 11), (7, 2)])
def test_ablation_equals_zeroed_weights_and_bias(layer, channel):
    model, x = tiny_cnn(), digit_like()[None, None]
    before = model.state_dict()
    ablated = edits.edited_copy(model, {(layer, channel): 0.0})
    np.testing.assert_array_equal(ablated.predict(x), zeroed(model, layer, channel).predict(x))
    assert not np.allclose(ablated.predict(x), model.predict(x))      # it changed something
    for k, v in model.state_dict().items():                           # the model itself did not
        np.testing.assert_array_equal(v, before[k])


def test_ablated_channel_output_is_zero():
    model, x = tiny_cnn(), digit_like()[None, None]
    out = edits.edited_copy(model, {(0, 4): 0.0}).trace(x).outputs
    assert np.all(out[0][:, 4] == 0) and np.all(out[1][:, 4] == 0)
    assert np.any(model.trace(x).outputs[1][:, 4] != 0)


def test_scale_scales_the_relu_output():
    model, x = tiny_cnn(), digit_like()[None, None]
    base = model.trace(x).outputs[1][:, 2]
    scaled = edits.edited_copy(model, {(0, 2): 1.5}).trace(x).outputs[1][:, 2]
    np.testing.assert_allclose(scaled, 1.5 * base, rtol=1e-5, atol=1e-6)


def test_kernel_edit_changes_only_the_copy():
    model, x = tiny_cnn(), digit_like()[None, None]
    k = np.arange(9, dtype=np.float32).reshape(3, 3) / 10
    edited = edits.edited_copy(model, kernels={(0, 1, 0): k})
    np.testing.assert_array_equal(edited.layers[0].params["weight"][1, 0], k)
    assert not np.array_equal(model.layers[0].params["weight"][1, 0], k)
    assert not np.allclose(edited.predict(x), model.predict(x))


@pytest.mark.parametrize("spec", ["0", "0:", "a:b", "1:0", "0:8", "0:-1", "12:0", "0:1,x"])
def test_bad_channel_specs_are_user_errors(spec):
    with pytest.raises(edits.ExperimentError):
        edits.parse_channels(spec, tiny_cnn())


def test_parse_channels_and_targets():
    model = tiny_cnn()
    assert edits.parse_channels("0:5, 3:2", model) == [(0, 5), (3, 2)]
    assert dreams.parse_target("class:7", model) == dreams.DreamTarget("class", 7)
    assert dreams.parse_target("3:15", model) == dreams.DreamTarget("unit", 15, 3)
    for bad in ["class:10", "class:x", "klass:1", "2:0", "9:10"]:
        with pytest.raises(edits.ExperimentError):
            dreams.parse_target(bad, model)


@pytest.mark.parametrize("name", transforms.TRANSFORMS)
def test_identity_transform_is_exact(name):
    x = digit_like()
    np.testing.assert_array_equal(transforms.transform_input(x, name, transforms.identity_value(name)), x)
    assert transforms.identity_value(name) in transforms.sweep_values(name)


def test_integer_shift_moves_pixels():
    x = digit_like()
    out = transforms.transform_input(x, "shift-x", 3)
    np.testing.assert_allclose(out[:, 3:], x[:, :-3], atol=1e-6)
    assert np.all(out[:, :3] == 0)
    down = transforms.transform_input(x, "shift-y", -2)
    np.testing.assert_allclose(down[:-2], x[2:], atol=1e-6)


def test_half_pixel_shift_is_bilinear():
    x = np.zeros((28, 28), np.float32)
    x[10, 10] = 1.0
    out = transforms.transform_input(x, "shift-x", 0.5)
    np.testing.assert_allclose(out[10, 10:12], [0.5, 0.5], atol=1e-6)
    assert abs(out.sum() - 1.0) < 1e-6


def test_rotate_90_moves_a_bar_from_horizontal_to_vertical():
    x = np.zeros((28, 28), np.float32)
    x[13:15, 6:22] = 1.0                          # horizontal bar through the centre
    out = transforms.transform_input(x, "rotate", 90)
    np.testing.assert_allclose(out, x.T, atol=1e-5)
    assert transforms.transform_input(x, "rotate", 45).sum() == pytest.approx(x.sum(), rel=0.1)


def test_scale_and_thickness_change_ink():
    x = digit_like()
    assert transforms.transform_input(x, "scale", 0.5).sum() < 0.5 * x.sum()
    assert transforms.transform_input(x, "scale", 1.5).sum() > 1.5 * transforms.transform_input(x, "scale", 1.0).sum() * 0.9
    thick, thin = transforms.transform_input(x, "thickness", 2), transforms.transform_input(x, "thickness", -1)
    assert (thick > 0.5).sum() > (x > 0.5).sum() > (thin > 0.5).sum()


@pytest.mark.parametrize("name,value", [("rotate", float("nan")), ("scale", 0.0), ("thickness", 0.5), ("flip", 1)])
def test_bad_transform_values(name, value):
    with pytest.raises(edits.ExperimentError):
        transforms.transform_input(digit_like(), name, value)


@pytest.mark.parametrize("arch", ["cnn", "rowrnn"])
@pytest.mark.parametrize("name", transforms.TRANSFORMS)
def test_sweep_row_at_identity_equals_plain_forward(arch, name):
    model, x = build_model(arch, 1).eval(), digit_like()
    s = transforms.sweep(model, x, name)
    assert s.probs.shape == (len(s.values), 10) and s.images.shape == (len(s.values), 28, 28)
    i = int(np.flatnonzero(s.values == transforms.identity_value(name))[0])
    np.testing.assert_array_equal(s.probs[i], predict_proba(model, x[None, None], arch)[0])
    np.testing.assert_array_equal(s.labels, s.probs.argmax(1))


def test_sweep_flips_are_where_the_label_changes():
    model, x = tiny_cnn(), digit_like()
    s = transforms.sweep(model, x, "shift-x")
    base = s.labels[list(s.values).index(0.0)]
    assert set(s.flips()) == {float(v) for v, lab in zip(s.values, s.labels) if lab != base}


@pytest.mark.numeric
@pytest.mark.parametrize("spec", ["class:3", "0:2", "3:7", "7:10"])
def test_dream_raises_its_target_and_is_deterministic(spec):
    # rise over 30 steps, measured over seeds 0-3 (Haswell and Prescott alike): 0.0036-0.072 (> 0 asserted)
    model = tiny_cnn()
    target = dreams.parse_target(spec, model)
    settings = dreams.DreamSettings(steps=30)
    a = dreams.dream(model, target, settings, seed=4, start="noise")
    b = dreams.dream(model, target, settings, seed=4, start="noise")
    c = dreams.dream(model, target, settings, seed=5, start="noise")
    assert a.final_activation > a.start_activation
    np.testing.assert_array_equal(a.image, b.image)
    assert a.final_activation == b.final_activation
    assert not np.array_equal(a.image, c.image)
    assert a.image.min() >= 0 and a.image.max() <= 1
    assert a.probs.shape == (10,) and abs(a.probs.sum() - 1) < 1e-9


def test_dream_activation_matches_the_forward():
    model = tiny_cnn()
    target = dreams.parse_target("3:7", model)
    d = dreams.dream(model, target, dreams.DreamSettings(steps=5), seed=0)
    direct = float(model.trace(d.image[None, None]).outputs[3][0, 7].mean())
    assert d.final_activation == pytest.approx(direct, rel=1e-5, abs=1e-6)
    logp = np.log(predict_proba(model, d.image[None, None], "cnn")[0, 2])
    cls = dreams.dream(model, dreams.DreamTarget("class", 2), dreams.DreamSettings(steps=5), seed=0)
    assert np.log(cls.probs[2]) == pytest.approx(cls.final_activation, abs=1e-5)
    assert np.isfinite(logp)


def test_dream_gradient_direction_is_the_engine_gradient():
    """The ascent follows d(objective)/dx from Model.backward: a finite difference agrees."""
    model = tiny_cnn().astype(np.float64)
    target = dreams.DreamTarget("class", 6)
    x = np.random.default_rng(1).uniform(0, 1, (1, 1, 28, 28))
    _, grad = dreams.objective(model, x, target, True)
    eps, idx = 1e-6, (0, 0, 14, 12)
    up, down = x.copy(), x.copy()
    up[idx] += eps
    down[idx] -= eps
    num = (dreams.objective(model, up, target, False)[0] - dreams.objective(model, down, target, False)[0]) / (2 * eps)
    assert grad[idx] == pytest.approx(num, rel=1e-5, abs=1e-9)
    assert not grad[idx] == pytest.approx(-num, rel=1e-5, abs=1e-9)     # negative control


def test_dream_leaves_the_model_alone():
    model = tiny_cnn()
    before = model.state_dict()
    dreams.dream(model, dreams.DreamTarget("class", 1), dreams.DreamSettings(steps=3), seed=0)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


# -- pen dreams -------------------------------------------------------------------------
from explorer.analysis import pen_dreams as pen  # noqa: E402


def measured(model, target, images):
    """The activation dream() measures at each step: on the 8-bit image."""
    return [dreams.target_activation(model, dreams.quantised(im), target) for im in images]


@pytest.mark.numeric
@pytest.mark.parametrize("k", [4, 7])
def test_class_dream_stops_at_the_first_step_that_reaches_its_goal(k):
    """A property of any float path: steps counts the steps, the goal holds at the end and did
    not hold one step earlier (the same ascent capped one step short)."""
    from explorer.commands.classify import load_digit_model
    from explorer.paths import model_path
    if not model_path("digits_cnn.npz").exists():
        pytest.skip("shipped digit model not built")
    model, _ = load_digit_model(None)
    target, seen = dreams.DreamTarget("class", k), []
    d = dreams.dream(model, target, pen.PenSettings(), seed=0, on_step=lambda step, im, act: seen.append(step))
    assert d.stop == "goal" and d.probs[k] >= dreams.GOAL_P
    assert seen == list(range(1, d.steps + 1))
    if d.steps > 1:
        short = dreams.dream(model, target, pen.PenSettings(steps=d.steps - 1), seed=0)
        assert short.stop == "cap" and short.steps == d.steps - 1 and short.probs[k] < dreams.GOAL_P


@pytest.mark.numeric
def test_channel_dream_stops_once_its_activation_stops_rising():
    model = tiny_cnn()
    target = dreams.parse_target("3:1", model)
    images: list[np.ndarray] = []
    d = dreams.dream(model, target, dreams.DreamSettings(steps=5000), seed=2, start="noise",
                 on_step=lambda step, im, act: images.append(im))
    assert d.stop == "plateau" and dreams.PATIENCE <= d.steps == len(images) < 5000
    acts = measured(model, target, images)
    top = max(acts[:-dreams.PATIENCE])
    assert max(acts[-dreams.PATIENCE:]) <= top + 1e-4 * max(1.0, abs(top))     # no longer rising
    assert d.final_activation == max([d.start_activation, *acts])           # the best image it passed


@pytest.mark.numeric
def test_a_stalled_class_dream_starts_again_from_new_strokes(monkeypatch):
    """An untrained CNN never reads p >= 0.95: the ascent stalls, restarts from new seeded
    strokes, and spends exactly the cap; the result is the best image of all attempts."""
    model, target = tiny_cnn(), dreams.DreamTarget("class", 3)
    settings = pen.PenSettings(steps=30)
    runs = {}
    for patience in (2, 10 ** 6):
        monkeypatch.setattr(dreams, "PATIENCE", patience)
        images: list[np.ndarray] = []
        d = dreams.dream(model, target, settings, seed=1, on_step=lambda step, im, act, seen=images: seen.append(im))
        assert d.stop == "cap" and d.steps == len(images) == 30
        assert d.final_activation == max([d.start_activation, *measured(model, target, images)])
        runs[patience] = (d, images)
    monkeypatch.setattr(dreams, "PATIENCE", 2)
    again = dreams.dream(model, target, settings, seed=1)
    np.testing.assert_array_equal(again.image, runs[2][0].image)            # restarts are seeded too
    (_, restarted), (_, one) = runs[2], runs[10 ** 6]
    np.testing.assert_array_equal(restarted[0], one[0])                     # the same first attempt ...
    assert not all(np.array_equal(a, b) for a, b in zip(restarted, one))   # ... then other strokes




def numeric(f, p: np.ndarray, idx: tuple[int, int], eps: float = 1e-6) -> float:
    up, down = p.copy(), p.copy()
    up[idx] += eps
    down[idx] -= eps
    return (f(up) - f(down)) / (2 * eps)


def test_render_backward_is_the_gradient_of_render():
    rng = np.random.default_rng(0)
    pts = rng.uniform(6, 22, (7, 2))
    w = rng.normal(size=(28, 28))
    ink, g = pen.render_dots(pts, 1.1, 1.3)
    grad = pen.render_backward(w, pts, ink, g, 1.1)
    for idx in [(0, 0), (3, 1), (6, 0)]:
        num = numeric(lambda p: float((w * pen.render_dots(p, 1.1, 1.3)[0]).sum()), pts, idx)
        assert abs(grad[idx] - num) / max(abs(grad[idx]) + abs(num), 1e-12) < 1e-6
    wrong = grad[:, ::-1]                                    # negative control: x and y swapped
    num = numeric(lambda p: float((w * pen.render_dots(p, 1.1, 1.3)[0]).sum()), pts, (3, 1))
    assert abs(wrong[3, 1] - num) / max(abs(wrong[3, 1]) + abs(num), 1e-12) > 1e-3


def test_stroke_penalty_gradient():
    pts = np.random.default_rng(1).uniform(5, 20, (2 * 6, 2))
    _, grad = pen.stroke_penalty(pts, 2, 1.3)
    for idx in [(0, 1), (5, 0), (7, 1), (11, 0)]:
        num = numeric(lambda p: pen.stroke_penalty(p, 2, 1.3)[0], pts, idx)
        assert grad[idx] == pytest.approx(num, rel=1e-5, abs=1e-7)


@pytest.mark.numeric
@pytest.mark.parametrize("spec", ["class:5", "3:1"])
def test_pen_dream_raises_its_target_and_is_deterministic(spec):
    # measured over seeds 0-3 (Haswell and Prescott alike): rise 0.002-0.022, ink > 0.5 on 14-17 % of pixels
    model = tiny_cnn()
    target = dreams.parse_target(spec, model)
    settings = pen.PenSettings(steps=40)
    a, b = (dreams.dream(model, target, settings, seed=2) for _ in range(2))
    c = dreams.dream(model, target, settings, seed=3)
    assert a.final_activation > a.start_activation
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)
    assert a.start_activation == dreams.target_activation(model, dreams.quantised(pen.pen_start_image(settings, 2)), target)
    assert 0 <= a.image.min() and a.image.max() <= 1 and (a.image > 0.5).mean() > 0.03   # ink strokes


def test_accuracy_under_a_transform_counts_correct_answers():
    model = tiny_cnn()
    xs = np.stack([digit_like(s) for s in range(6)])
    labels = np.array([predict_proba(model, x[None, None], "cnn").argmax() for x in xs])
    vals, acc = transforms.accuracy_under(model, xs, labels, "rotate", [-30.0, 0.0, 30.0])
    assert acc[1] == 1.0 and vals.tolist() == [-30.0, 0.0, 30.0]
    wrong = (labels + 1) % 10
    assert transforms.accuracy_under(model, xs, wrong, "rotate", [0.0])[1][0] == 0.0
    rnn = build_model("rowrnn", 0).eval()
    r_labels = predict_proba(rnn, xs[:, None], "rowrnn").argmax(1)
    assert transforms.accuracy_under(rnn, xs, r_labels, "shift-x", [0.0])[1][0] == 1.0
