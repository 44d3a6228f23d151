"""The causal pen encoding (explorer.data.pen): rows never change when more pen follows,
the one-shot encoder equals the stream bit for bit, the spec round-trips and validates."""

import json

import numpy as np
import pytest

from explorer.data.pen import (
    FEATURES,
    PenSpec,
    PenSpecError,
    PenStream,
    is_pen_model,
    pen_features,
    to_reference,
)


def _drawing(seed: int = 0, n_strokes: int = 3) -> list[np.ndarray]:
    """Random wiggly strokes with uneven point spacing (like a mouse: slow and fast moves)."""
    rng = np.random.default_rng(seed)
    strokes = []
    for _ in range(n_strokes):
        n = int(rng.integers(1, 60))
        steps = rng.normal(0, 1, (n, 2)) * rng.uniform(0.2, 25, (n, 1))
        start = rng.uniform(40, 240, 2)
        strokes.append((start + np.cumsum(steps, axis=0)).astype(np.float32))
    return strokes


def _feed(strokes, spec=None):
    """Feed a stream event by event -> (stream, rows after each event, rows returned per event)."""
    stream = PenStream(spec)
    snapshots, returned = [], []
    for s in strokes:
        returned.append(stream.begin_stroke(*s[0]))
        snapshots.append(stream.rows())
        for x, y in s[1:]:
            returned.append(stream.extend(x, y))
            snapshots.append(stream.rows())
        returned.append(stream.end_stroke())
        snapshots.append(stream.rows())
    return stream, snapshots, returned


@pytest.mark.parametrize("seed", range(6))
def test_rows_never_change_when_more_pen_follows(seed):
    strokes = _drawing(seed, n_strokes=1 + seed % 4)
    stream, snapshots, returned = _feed(strokes)
    final = stream.rows()
    assert final.dtype == np.float32 and final.shape[1] == len(FEATURES)
    for snap in snapshots:
        assert np.array_equal(final[: len(snap)], snap)        # a prefix, unchanged
    assert np.array_equal(np.concatenate(returned), final)     # each event returns its own rows
    assert sum(len(r) for r in returned) == stream.n_rows == len(final)


def test_rows_do_not_depend_on_the_future_drawing():
    """Two drawings that share their first strokes give identical rows for that part
    (no bounding box of the finished drawing creeps in)."""
    a = _drawing(1, 2)
    b = a + [np.array([[5.0, 5.0], [275.0, 275.0]], np.float32)]    # a far, large stroke
    ra, rb = pen_features(a), pen_features(b)
    assert len(rb) > len(ra)
    assert np.array_equal(rb[: len(ra)], ra)


@pytest.mark.parametrize("seed", range(4))
def test_pen_features_equals_the_stream_bit_for_bit(seed):
    strokes = _drawing(seed + 10, 4)
    stream, _, _ = _feed(strokes)
    assert np.array_equal(pen_features(strokes), stream.rows())
    # float64 lists give the same rows as float32 arrays holding the same numbers
    assert np.array_equal(pen_features([s.astype(np.float64).tolist() for s in strokes]),
                          stream.rows())


def test_rows_carry_movement_and_pen_up_down():
    spec = PenSpec(spacing=10.0, jump_scale=100.0)
    line = np.array([[0, 0], [35, 0]], np.float32)               # 3 full steps, a 5-unit rest
    second = np.array([[35, 100], [35, 130]], np.float32)
    rows = pen_features([line, second], spec)
    start, lift = FEATURES.index("start"), FEATURES.index("lift")
    # stroke 1: start, 3 steps of +1 in x, the rest (0.5 spacing: kept), lift
    assert rows[0, start] == 1 and rows[0, 2] == 0 and rows[0, 3] == 0
    assert np.allclose(rows[1:4, :2], [[1, 0]] * 3)
    assert np.allclose(rows[4, :2], [0.5, 0])
    assert rows[5, lift] == 1 and not rows[5, :5].any()
    # stroke 2 starts with the pen-up jump (0, 100) / jump_scale
    assert rows[6, start] == 1 and np.allclose(rows[6, 2:4], [0.0, 1.0])
    assert np.allclose(rows[7:10, :2], [[0, 1]] * 3)
    assert rows[-1, lift] == 1 and len(rows) == 11


def test_resampling_makes_point_density_irrelevant():
    """A line sampled every 0.5 units or every 40 units gives the same rows (to rounding)."""
    dense = np.stack([np.linspace(20, 220, 401), np.linspace(30, 130, 401)], 1)
    sparse = dense[::80]
    a, b = pen_features([dense]), pen_features([sparse])
    assert a.shape == b.shape
    assert np.allclose(a, b, atol=1e-5)


def test_events_out_of_order_and_dots():
    stream = PenStream()
    assert stream.extend(1, 2).shape == (0, 6) and stream.end_stroke().shape == (0, 6)
    stream.begin_stroke(10, 10)
    stream.extend(10, 10)                     # no movement: no row
    dot = stream.end_stroke()
    assert stream.n_rows == 2 and dot[-1, FEATURES.index("lift")] == 1
    rows = stream.begin_stroke(50, 10)        # begin without end: the open stroke ends first
    stream.begin_stroke(60, 10)
    assert rows.shape == (1, 6) and stream.rows()[-2, FEATURES.index("lift")] == 1


def test_spec_meta_round_trip_and_validation():
    spec = PenSpec(spacing=6.5, jump_scale=80.0)
    meta = json.loads(json.dumps(spec.to_meta()))
    assert PenSpec.from_meta(meta) == spec
    bad = [None, [], {"encoding": "other"}, {**meta, "spacing": float("nan")},
           {**meta, "spacing": -1}, {**meta, "spacing": "8"}, {**meta, "spacing": True},
           {**meta, "jump_scale": 1e9}, {**meta, "features": ["dx", "dy"]},
           {**meta, "features": "dx"}, {**meta, "canvas": 300}, {**meta, "canvas": 280.5},
           {**meta, "colour": 1}]
    for d in bad:
        with pytest.raises(PenSpecError) as info:
            PenSpec.from_meta(d)
        assert isinstance(info.value, ValueError) and "\n" not in str(info.value)
    with pytest.raises(PenSpecError):
        PenSpec(spacing=0.0)


def test_to_reference_and_is_pen_model():
    ref = to_reference([[[0, 0], [140, 70]]], canvas=140)
    assert ref[0].dtype == np.float32 and np.array_equal(ref[0], [[0, 0], [280, 140]])
    meta = {"task": "digits", "input": "pen", "pen": PenSpec().to_meta()}
    assert is_pen_model(meta) and is_pen_model({"layers": [], "meta": meta})
    assert not is_pen_model({"task": "digits"}) and not is_pen_model(None)

    class _M:
        pass
    m = _M()
    m.meta = meta  # type: ignore[attr-defined]
    assert is_pen_model(m)
