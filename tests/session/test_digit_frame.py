"""build_view(DigitSession) -> DigitView: shapes, colour scopes, winners, saliency, the model's
description, and model changes through the session (set_model, load_weights, follow)."""

import numpy as np
import pytest

from explorer.engine import Conv2d, Flatten, Linear, MaxPool2d, Model, ReLU
from explorer.session.digit_view import DigitView, build_view, diverging_lut
from explorer.session.digits import DigitSession


def cnn(seed=0, hidden=8):
    rng = np.random.default_rng(seed)
    return Model([Conv2d(1, 2, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                  Conv2d(2, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                  Linear(147, hidden, rng=rng), ReLU(), Linear(hidden, 10, rng=rng)],
                 meta={"name": "tiny", "val_acc": 0.875})


def stroke(session, points):
    session.begin_stroke(*points[0])
    for x, y in points[1:]:
        session.extend_stroke(x, y)
    session.end_stroke()


SEVEN = [(80 + t, 60) for t in np.linspace(0, 120, 25)] + [(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 35)]


@pytest.fixture
def session():
    s = DigitSession(cnn())
    stroke(s, SEVEN)
    return s


def test_empty_canvas_gives_a_view_of_zeros_and_no_probabilities():
    view = build_view(DigitSession(cnn()))
    assert isinstance(view, DigitView) and view.empty and view.reading is None
    assert view.probs is None and view.ghost is None and view.saliency_rgba is None
    assert view.input.shape == (28, 28) and not view.input.any()
    assert all(not sv.maps.any() for sv in view.stages)


def test_frame_shapes_and_values_as_documented(session):
    view = build_view(session)
    assert view.input.shape == (28, 28) and view.input.dtype == np.float32
    np.testing.assert_array_equal(view.input, view.reading.x[0, 0])
    assert [sv.stage for sv in view.stages] == session.stages
    for sv in view.stages:
        raw = view.reading.trace.outputs[sv.stage.index][0]
        if len(sv.stage.shape) == 3:
            assert sv.maps.shape == sv.stage.shape
        else:                                     # dense: one (1, rows, cols) grid of its units
            assert sv.maps.shape[0] == 1 and sv.maps.size == raw.size
        assert sv.maps.dtype == np.float32 and sv.maps.flags.c_contiguous
        # layer scope: divided by the layer's max |value| -> largest |value| is exactly 1
        assert sv.scale == pytest.approx(float(np.abs(raw).max()))
        np.testing.assert_allclose(sv.maps.reshape(-1), raw.reshape(-1) / sv.scale, rtol=1e-6)
    assert view.probs.shape == (10,) and view.probs.sum() == pytest.approx(1, abs=1e-5)
    assert view.model.name == "tiny" and view.model.accuracy == 0.875
    assert view.model.layers == tuple(st.title for st in session.stages)
    assert "87.5% on held-out digits" in view.model.text


def test_map_and_network_scopes(session):
    session.set_options(scope="map")
    view = build_view(session)
    conv1 = view.stages[0]
    assert conv1.scale is None and "own max" in conv1.note
    peaks = np.abs(conv1.maps).max(axis=(1, 2))
    assert np.all((np.isclose(peaks, 1, atol=1e-6)) | (peaks == 0))
    session.set_options(scope="network")
    view = build_view(session)
    scales = {sv.scale for sv in view.stages}
    assert len(scales) == 1                      # one scale for the whole network
    assert max(float(np.abs(sv.maps).max()) for sv in view.stages) == pytest.approx(1.0)
    assert view.legend == f"{scales.pop():.3g}"


def test_pool_winner_masks_only_on_maps_a_pool_reads(session):
    assert all(sv.winners is None for sv in build_view(session).stages)
    session.set_options(winners=True)
    view = build_view(session)
    kinds = {sv.stage.name: sv for sv in view.stages}
    for name, pool_index in (("conv1", 2), ("relu1", 2), ("conv2", 5), ("relu2", 5)):
        np.testing.assert_array_equal(kinds[name].winners, session.pool_winner_mask(view.reading, pool_index))
    assert kinds["pool1"].winners is None and kinds["dense1"].winners is None


def test_saliency_is_coloured_by_sign_and_sized_by_magnitude(session):
    session.set_options(saliency=True)
    view = build_view(session)
    s = session.saliency(view.reading)
    assert view.saliency_scale == pytest.approx(float(np.abs(s).max()))
    np.testing.assert_allclose(view.saliency, s / view.saliency_scale, rtol=1e-6)
    rgba = view.saliency_rgba
    assert rgba.shape == (28, 28, 4) and rgba.dtype == np.uint8
    lut = diverging_lut()
    top, low = np.unravel_index(np.argmax(s), s.shape), np.unravel_index(np.argmin(s), s.shape)
    assert rgba[top][0] > rgba[top][2] and rgba[low][2] > rgba[low][0]     # red up, blue down
    assert rgba[..., 3].max() == 200 and rgba[np.abs(s) == 0][..., 3].max(initial=0) == 0
    peak = np.unravel_index(np.argmax(np.abs(s)), s.shape)                   # the scale's own pixel
    np.testing.assert_array_equal(rgba[peak][:3], lut[255] if s[peak] > 0 else lut[0])
    session.set_palette(np.zeros((256, 3), np.uint8))                       # the UI's colour table
    assert not build_view(session).saliency_rgba[..., :3].any()


def test_selection_of_a_dense_unit_or_unknown_stage_is_none(session):
    session.set_options(selection=(7, 0, 0, 3))                  # dense1
    assert build_view(session).selection is None
    session.set_options(selection=(0, 1, 5, 6))
    sel = build_view(session).selection
    assert sel.stage.name == "conv1" and sel.conv is not None and sel.pool is None
    assert sel.input_field == (4, 5, 6, 7)
    assert {h.panel for h in sel.highlights} == {"conv1", "input"}


def test_set_model_tells_listeners_and_forgets_the_selection(session):
    heard = []
    session.listeners.add(heard.append)
    session.set_options(selection=(0, 1, 5, 6))
    other = cnn(1, hidden=16)
    version = session.version
    session.set_model(other)
    assert heard == ["model"] and session.model is other and session.version > version
    assert session.options.selection is None
    assert session.stages[-1].shape == (16,)
    np.testing.assert_allclose(build_view(session).probs, other.trace(build_view(session).reading.x).probs[0], rtol=1e-6)


def test_load_weights_resets_edits_and_tells_listeners(session):
    heard = []
    session.listeners.add(heard.append)
    session.set_channel_scale(0, 1, 0.0)
    assert session.edits.active
    trained = cnn(7)
    before = session.weights_version
    model = session.unedited_model
    session.load_weights(trained.state_dict())
    assert heard == ["weights"] and session.weights_version == before + 1
    assert not session.edits.active and session.model is model          # same object, new weights
    view = build_view(session)
    np.testing.assert_allclose(view.probs, trained.trace(view.reading.x).probs[0], rtol=1e-6)


def test_follow_loads_weights_for_the_same_architecture_else_swaps_the_model(session):
    heard = []
    session.listeners.add(heard.append)
    same, other = cnn(3), cnn(4, hidden=12)
    model = session.model
    session.follow(same)
    assert session.model is model and heard == ["weights"]
    session.follow(other)
    assert session.model is other and heard == ["weights", "model"]
