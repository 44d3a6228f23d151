"""DigitSession edits, replay and evidence without Qt (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis.edits import ExperimentError, copy_model
from explorer.data.mnist import DigitData
from explorer.session import evidence, replay
from explorer.session.digits import DigitSession
from explorer.session.drawing import Stroke
from explorer.training.digits import build_model


def seven() -> list[Stroke]:
    a = np.array([(80 + t, 60) for t in np.linspace(0, 120, 25)], np.float32)
    b = np.array([(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 35)], np.float32)
    return [Stroke(a), Stroke(b)]


@pytest.fixture
def session():
    s = DigitSession(build_model("cnn", 4))
    s.set_strokes(seven())
    return s


def test_edits_work_on_a_copy_and_reset_is_the_same_object(session):
    model = session.model
    plain = session.compute()
    session.set_channel_scale(3, 7, 0.0)
    assert session.model is not model and session.unedited_model is model
    edited = session.compute()
    twin = copy_model(model)
    twin.layers[3].params["weight"][7] = 0
    twin.layers[3].params["bias"][7] = 0
    np.testing.assert_array_equal(edited.probs, np.asarray(twin.trace(plain.x).probs, np.float32).reshape(-1))
    np.testing.assert_array_equal(session.unedited_probs(edited), plain.probs)
    session.set_kernel(0, 2, 0, np.eye(3))
    assert session.edits.describe() == "3:7 off, kernel 0:2/0"
    v = session.version
    session.reset_edits()
    assert session.model is model and session.version > v and session.unedited_probs(plain) is None
    np.testing.assert_array_equal(session.compute().probs, plain.probs)


def test_scale_one_and_learned_kernel_are_no_edit(session):
    k = session.model.layers[0].params["weight"][1, 0].copy()
    session.set_kernel(0, 1, 0, k)
    session.set_channel_scale(0, 3, 1.0)
    assert not session.edits.active
    with pytest.raises(ExperimentError):
        session.set_channel_scale(0, 99, 0.0)
    with pytest.raises(ExperimentError):
        session.set_channel_scale(0, 1, 2.5)


def test_a_new_model_drops_the_edits(session):
    session.set_channel_scale(0, 1, 0.0)
    other = build_model("cnn", 9)
    session.model = other
    assert not session.edits.active and session.unedited_model is other


def test_replay_cuts_strokes_by_pen_time(session):
    strokes = session.state.strokes
    assert replay.pen_time(strokes) == 60
    cut = replay.cut_strokes(strokes, 30)
    assert [len(s.points) for s in cut] == [25, 5]
    times, probs, inputs = replay.replay(session, 12)
    assert times[-1] == 60 and len(times) == len(probs) == len(inputs) == 12
    np.testing.assert_array_equal(probs[-1], session.compute().probs)
    np.testing.assert_array_equal(inputs[-1], session.compute().x[0, 0])


def test_evidence_confusion_and_nearest():
    model = build_model("cnn", 2).eval()
    rng = np.random.default_rng(1)
    x = (rng.random((300, 28, 28)) * 255).astype(np.uint8)
    y = np.repeat(np.arange(10), 30)
    ev = evidence.build_evidence(model, DigitData(x, y, None, None, "test"))
    assert ev.confusion.sum() == len(ev.y_val) == 10 * round(0.15 * 30)    # the stratified 15 % split
    assert ev.accuracy == pytest.approx((ev.pred_val == ev.y_val).mean())
    for t in range(10):
        for p in range(10):
            assert len(ev.cell(t, p)) == ev.confusion[t, p]
    idx, dist = evidence.nearest(ev, model, ev.x_train[17], 8)
    assert dist[0] == pytest.approx(0.0, abs=1e-5) and np.all(np.diff(dist) >= 0)
    assert ev.features.shape == (len(ev.y_train), 64)
