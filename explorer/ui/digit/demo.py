"""Demo data for running a Digit Lab panel alone: ``python -m explorer.ui.digit.<panel>``.

It knows no panel and no lab (the whole lab's demo is ``lab_demo``), so any panel may use it.

``demo_session()`` -> a DigitSession with the shipped digit CNN (an untrained one of the same
architecture when the file is missing) and a scripted '7'; ``run(build)`` shows ``build()``'s
widget in a window and runs the Qt event loop.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from explorer.engine import Model, load_model
from explorer.paths import model_path
from explorer.session.digits import DigitSession, default_digit_model
from explorer.ui.widgets.demo import run  # noqa: F401 (the panels' demos run through here)

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView


def demo_model() -> Model:
    path = model_path("digits_cnn.npz")
    return load_model(path) if path.exists() else default_digit_model()


def seven() -> list[tuple[float, float]]:
    """A '7' in reference canvas units (280 across): the top bar, then the diagonal."""
    bar = [(80 + t, 60) for t in np.linspace(0, 120, 25)]
    return bar + [(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 35)]


def demo_session(points: list[tuple[float, float]] | None = None) -> DigitSession:
    """A session with the demo model and one finished stroke (a '7' unless ``points``)."""
    session = DigitSession(demo_model())
    pts = seven() if points is None else points
    session.begin_stroke(*pts[0])
    for x, y in pts[1:]:
        session.extend_stroke(x, y)
    session.end_stroke()
    return session


def demo_folder() -> Path:
    """A temporary examples folder holding the demo '7' as one example."""
    folder = Path(tempfile.mkdtemp(prefix="explorer-demo-"))
    from explorer.data.examples import ExampleStore
    ExampleStore(folder).save(7, [np.asarray(seven(), np.float32)])
    return folder


def demo_pen_model() -> Model:
    """The shipped pen LSTM, or an untrained one of its shape when the file is missing."""
    from explorer.session.pen_reader import load_pen_model
    return load_pen_model("pen LSTM")[0]


def demo_pen_view() -> PenView:
    """The demo '7' drawn point by point, read by the pen model and the CNN: a PenView."""
    from explorer.session.pen_reader import PenLive
    live = PenLive(demo_pen_model())
    session = DigitSession(demo_model())
    pts = seven()
    session.begin_stroke(*pts[0])
    for x, y in pts[1:]:
        session.extend_stroke(x, y)
        frame = session.compute()
        live.follow(session, None if frame is None else frame.probs)
    session.end_stroke()
    frame = session.compute()
    live.follow(session, None if frame is None else frame.probs)
    while live.fill(session, 50):
        pass
    return live.view()
