"""GUI rows of ``cnn-rnn-explorer bench``: latencies measured through the real window, offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from explorer.ui.shell.draw_bench import Point

_VISIBLE_PROBE = """
import sys, time
spawned = float(sys.argv[1])                       # the parent's wall clock just before launch
from explorer.runtime import configure_process
configure_process()                                # as `cnn-rnn-explorer` does, before any import of Qt
from explorer.ui.shell.launch import build         # the launch path of `cnn-rnn-explorer`
app, w = build()
app.processEvents()
w.repaint()                                        # painted, not only shown
seconds = time.time() - spawned
import os
with open("/proc/self/statm") as fh:
    rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
print(seconds, rss)
w.close()
"""


def window_start(config_dir: str, runs: int = 3) -> tuple[float, float]:
    """Launch -> (seconds to a shown, painted main window; RSS MB then), as ``cnn-rnn-explorer``
    starts (``explorer.ui.shell.launch.build``), with its settings and autosave in ``config_dir``.

    The clock starts in this process just before the new interpreter is spawned, so the
    interpreter's own start and every import count. A warm start, as an installed app sees it:
    the first launch writes the bytecode caches (PYTHONDONTWRITEBYTECODE is dropped for these
    launches) and warms the file cache; the median of the next ``runs`` launches is reported."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM") or "offscreen",
               XDG_CONFIG_HOME=config_dir, XDG_DATA_HOME=config_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = []
    for _ in range(runs + 1):
        proc = subprocess.run([sys.executable, "-c", _VISIBLE_PROBE, repr(time.time())], capture_output=True,
                              text=True, env=env, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "window failed")
        seconds, rss = proc.stdout.strip().splitlines()[-1].split()
        out.append((float(seconds), float(rss)))
    warm = sorted(out[1:])
    return warm[len(warm) // 2]


def window_visible_seconds(config_dir: str) -> float:
    """Seconds from launch (the interpreter's start and imports included) to a painted window."""
    return window_start(config_dir)[0]


_PASTE_PROBE = """
import json, os, sys
from explorer.ui.sequence.bench import measure_paste
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
r = measure_paste(int(sys.argv[1]), before=lambda: print(json.dumps({"rss_before_mb": rss()})))
def hwm():  # this process's own peak (ru_maxrss would also count the parent's RSS at fork)
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM")) / 1024
r["peak_rss_mb"] = hwm()
r["rss_after_mb"] = rss()
print(json.dumps(r))
"""


def paste_in_fresh_process(n_chars: int) -> dict[str, Any]:
    """Paste ``n_chars`` of Python code into a fresh Sequence Lab (its own process, so the peak
    resident memory is the app's own): seconds, longest block, peak and final RSS (MB)."""
    import json

    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM") or "offscreen")
    proc = subprocess.run([sys.executable, "-c", _PASTE_PROBE, str(n_chars)], capture_output=True,
                          text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "paste failed")
    out: dict[str, Any] = {}
    for line in proc.stdout.strip().splitlines():
        if line.startswith("{"):
            out.update(json.loads(line))
    return out


def _clean_up() -> None:
    """Destroy the windows of the measurements before (closed, their deletion still queued,
    some held in reference cycles): each measurement runs with its own window only, as the
    app has one. Hundreds of leftover menus and actions made every later keystroke ~0.5 ms
    dearer (Qt looks up a key's shortcut among all of them)."""
    import gc

    from PySide6 import QtCore, QtWidgets
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication):
        return
    for _ in range(2):
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
        gc.collect()
    for w in app.topLevelWidgets():      # pyqtgraph's plot menus have no parent: they outlive their
        if isinstance(w, QtWidgets.QMenu) and not w.isVisible():     # plots (no window is open here)
            w.deleteLater()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


# -- input -> every panel painted, through the real event loop ---------------------------
class PaintClock:
    """When each watched panel paints, and when that paint is on the window's backing store.

    An event filter on every widget of each panel sees its QEvent.Paint (spied, never
    forced); the first paint of a batch queues a zero-time call, which runs once Qt has
    painted the whole batch and returns to the event loop: that is when the batch is done.
    ``paints``: (start, panel) per paint; ``done_at(i)``: when paint i's batch finished."""

    def __init__(self, panels: dict[str, Any]) -> None:
        from PySide6 import QtCore, QtWidgets

        clock = self
        self.paints: list[tuple[float, str]] = []
        self.batches: list[float] = []             # end time of batch k
        self._batch_of: list[int] = []             # paint i -> its batch k
        self._open = False
        self.on_batch: Any = None                  # called after each batch (the measurement's check)

        class _Filter(QtCore.QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 (Qt)
                if event.type() == QtCore.QEvent.Type.Paint:
                    clock.record_paint(owner[id(obj)])
                return False

        owner: dict[int, str] = {}
        self.widgets: list[Any] = []
        for name, panel in panels.items():
            for w in [panel, *panel.findChildren(QtWidgets.QWidget)]:
                owner[id(w)] = name
                self.widgets.append(w)
        self._filter = _Filter()
        for w in self.widgets:
            w.installEventFilter(self._filter)

    def record_paint(self, name: str) -> None:
        """A paint of panel ``name`` starts now; the first of a batch queues the batch's end."""
        from PySide6 import QtCore

        self.paints.append((time.perf_counter(), name))
        self._batch_of.append(len(self.batches))
        if not self._open:
            self._open = True
            QtCore.QTimer.singleShot(0, self._close)

    def _close(self) -> None:
        self.batches.append(time.perf_counter())
        self._open = False
        if self.on_batch is not None:
            self.on_batch()

    def first_paints_after(self, t: float, names: set[str]) -> dict[str, float]:
        """panel -> when its first paint that started after ``t`` was done (finished batches only)."""
        out: dict[str, float] = {}
        for i in range(len(self.paints) - 1, -1, -1):
            start, name = self.paints[i]
            if start <= t:
                break
            k = self._batch_of[i]
            if name in names and k < len(self.batches):
                out[name] = self.batches[k]
        return out

    def remove(self) -> None:
        for w in self.widgets:
            w.removeEventFilter(self._filter)


class InputLatency:
    """Input events -> the time every changed panel has painted the frame that shows them.

    ``panels``: name -> widget; ``scheduler``: the lab's LatestFrame (its ``rendered`` signal
    marks each frame; a frame draws the newest input). For input i, delivered at t_i, the
    answer is the first render after t_i, and the latency runs until every expected panel
    has painted after that render. The expected panels are the ones given, less any that did not
    paint after any of a few warm-up inputs (then nothing it shows had changed).

    ``direct``: panels that show the input itself, painted as it arrives rather than from the
    frame (the canvas draws the pen's stroke at once): their first paint after t_i counts.
    ``shows``: panel -> what it shows now (an object that is replaced whenever the panel is given
    something new): a panel still showing the same object once input i's frame has rendered
    had nothing new to paint for that input and is not waited for (the pen RNN's panels when a
    pen move made no new pen step)."""

    def __init__(self, panels: dict[str, Any], scheduler: Any, direct: set[str] | None = None,
                 shows: dict[str, Any] | None = None) -> None:
        self.clock = PaintClock(panels)
        self.renders: list[float] = []
        self.inputs: list[float] = []
        self.expected: set[str] = set(panels)
        self.direct = set(direct or ())
        self._shows = dict(shows or {})
        self._shown_at_render: list[dict[str, object]] = []     # the objects themselves: an id could be reused
        self._shown_at_input: list[dict[str, object]] = []
        self._scheduler = scheduler
        scheduler.rendered.connect(self._on_rendered)

    def _shown(self) -> dict[str, object]:
        return {name: what() for name, what in self._shows.items()}

    def _on_rendered(self) -> None:
        self.renders.append(time.perf_counter())
        self._shown_at_render.append(self._shown())

    def sent(self, t0: float) -> None:
        self.inputs.append(t0)
        self._shown_at_input.append(self._shown())

    def complete(self, i: int) -> tuple[float, str] | None:
        """(when input i's frame had painted everywhere, the panel that painted last) or None yet."""
        t0 = self.inputs[i]
        k = next((k for k, t in enumerate(self.renders) if t >= t0), None)
        if k is None:
            return None
        before, after = self._shown_at_input[i], self._shown_at_render[k]
        expected = {name for name in self.expected if name not in before or before[name] is not after[name]}
        first = self.clock.first_paints_after(self.renders[k], expected - self.direct)
        first.update(self.clock.first_paints_after(t0, expected & self.direct))
        if set(first) != expected:
            return None
        last = max(first, key=lambda n: first[n])
        return first[last], last

    def calibrate(self, painted_after: list[set[str]]) -> None:
        seen = set.union(*painted_after) if painted_after else set()
        self.expected = (self.expected & seen) or self.expected

    def painted_since(self, t: float) -> set[str]:
        return {name for start, name in self.clock.paints if start > t}

    def remove(self) -> None:
        self._scheduler.rendered.disconnect(self._on_rendered)
        self.clock.remove()


def run_loop(app: Any, seconds: float, until: Any = None, clock: PaintClock | None = None) -> None:
    """Run the real event loop (blocking in Qt's own wait, as the app does) for ``seconds``, or
    until ``until()`` is true after a paint batch."""
    from PySide6 import QtCore
    loop = QtCore.QEventLoop()
    guard = QtCore.QTimer(singleShot=True, interval=max(1, int(seconds * 1000)))
    guard.timeout.connect(loop.quit)
    if until is not None and clock is not None:
        def stop_when_done() -> None:
            if until():
                loop.quit()
        clock.on_batch = stop_when_done
    guard.start()
    if until is None or not until():
        loop.exec()
    guard.stop()
    if clock is not None:
        clock.on_batch = None


def _summary(ms: list[float], lasts: list[str], missed: int) -> dict[str, Any]:
    import collections

    a = np.array(ms) if ms else np.array([np.nan])
    last = collections.Counter(lasts).most_common(1)
    return {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95)), "max_ms": float(a.max()),
            "n": len(ms), "missed": missed, "last_panel": last[0][0] if last else ""}


def _measure_inputs(app: Any, lat: InputLatency, send: Any, n: int, pause: float, warmup: int = 5,
                    timeout: float = 2.0) -> dict[str, Any]:
    """Send ``n`` inputs one at a time, each after ``pause`` s of an idle event loop; the latency
    of each is timed by ``lat``."""
    seen: list[set[str]] = []
    for k in range(warmup):
        run_loop(app, pause)
        t0 = time.perf_counter()
        send(k)
        run_loop(app, 0.25)
        seen.append(lat.painted_since(t0))
    lat.calibrate(seen)
    ms, lasts, missed, frames = [], [], 0, []
    for k in range(n):
        run_loop(app, pause)
        t0 = time.perf_counter()
        lat.sent(t0)
        send(warmup + k)
        i = len(lat.inputs) - 1
        run_loop(app, timeout, until=lambda i=i: lat.complete(i) is not None, clock=lat.clock)
        done = lat.complete(i)
        if done is None:
            missed += 1
            continue
        ms.append((done[0] - t0) * 1e3)
        lasts.append(done[1])
        frames.append((next(t for t in lat.renders if t >= t0) - t0) * 1e3)
    out = _summary(ms, lasts, missed)
    out["to_frame_median_ms"] = float(np.median(frames)) if frames else float("nan")    # input -> its frame computed
    return out


def digit_panels(lab: Any) -> dict[str, Any]:
    """The Digit Lab's panels a pen move changes: the canvas, the network input, the prediction
    and every layer's maps (not the inspector, which shows a selected cell, nor the kernels)."""
    stages = {st.title for st in lab.session.stages}
    pen = ("probabilities over pen time", "pen RNN hidden state", "pen RNN gates")
    return {name: w for name, w in lab.panels().items()
            if w.isVisible() and (name in ("canvas", "network input", "prediction") or name in stages or name in pen)}


def measure_pen(n_moves: int = 100, beside: int = 0, stroke_moves: int = 0, hz: float = 125.0,
               page: str = "cnn") -> dict[str, Any]:
    """Pen moves on the real window through the real event loop: real QMouseEvents delivered
    by QApplication; each timed until every Digit Lab panel the move changes has painted (the
    canvas from the move itself, as it draws the stroke at once; the other panels from the frame
    on; the pen RNN's panels only for a move that made a new pen step, the prediction only for a
    move whose answer changed what it shows: the others have nothing new to paint).

    Isolated moves: each after a 60 ms pause (the lab idle). ``stroke_moves`` > 0: also a
    stroke of that many moves offered at ``hz`` by a timer in the event loop, as a mouse
    delivers them; each move is timed until the first frame that includes it has painted
    everywhere (moves replaced by a later one before a frame count from their own delivery).
    ``page``: "cnn" shows the CNN's layer maps in the middle column, "pen" the pen RNN's page
    (its probabilities over pen time, trajectory and gates are waited for too)."""
    from PySide6 import QtCore

    from explorer.ui.shell.draw_bench import bench_window, loop_stroke, send_mouse

    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    out: dict[str, Any] = {}
    with bench_window(None) as (app, win):
        lab = win.digit_lab
        canvas = lab.canvas
        lab.middle_tabs.setCurrentIndex(1 if page == "pen" else 0)
        if beside:
            from explorer.session.drawing import Stroke
            lab.session.set_strokes([Stroke(loop_stroke(beside).astype(np.float32))])
            lab.refresh_now()
            run_loop(app, 0.2)
        # the canvas draws the stroke as the move arrives; the pen RNN's panels are given a new
        # frame only when the move made a new pen step, and the prediction repaints only when
        # the answer changed a bar, a percentage or a call-out (else they have nothing new to paint)
        pen_panels = {"probabilities over pen time", "pen RNN hidden state", "pen RNN gates"}
        shows: dict[str, Any] = {name: (lambda: lab.pen_view) for name in pen_panels}
        shows["prediction"] = lambda: lab.prob_panel.shown
        lat = InputLatency(digit_panels(lab), lab.scheduler, direct={"canvas"}, shows=shows)
        try:
            pts = loop_stroke(n_moves + 6 + 1)
            send_mouse(canvas, QtCore.QEvent.Type.MouseButtonPress, pts[0], left, left)

            def move(k: int) -> None:
                send_mouse(canvas, QtCore.QEvent.Type.MouseMove, pts[1 + k], none, left)
            out["isolated"] = _measure_inputs(app, lat, move, n_moves, pause=0.06)
            send_mouse(canvas, QtCore.QEvent.Type.MouseButtonRelease, pts[n_moves + 6], left, none)
            if stroke_moves:
                run_loop(app, 0.2)
                out["stroke"] = _stroke_latency(app, lat, canvas, stroke_moves, hz)
        finally:
            lat.remove()
    return out


def _stroke_latency(app: Any, lat: InputLatency, canvas: Any, n: int, hz: float) -> dict[str, Any]:
    from PySide6 import QtCore

    from explorer.ui.shell.draw_bench import send_mouse

    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    t = np.linspace(0, 2 * np.pi, n + 1)
    pts = np.stack([140 + 50 * np.sin(2 * t), 140 + 80 * np.cos(t)], axis=1)
    send_mouse(canvas, QtCore.QEvent.Type.MouseButtonPress, pts[0], left, left)
    first = len(lat.inputs)
    period, state = 1.0 / hz, {"k": 0}
    loop = QtCore.QEventLoop()
    timer = QtCore.QTimer(timerType=QtCore.Qt.TimerType.PreciseTimer, interval=max(1, int(round(period * 1000))))

    def next_move() -> None:
        k = state["k"]
        if k >= n:
            timer.stop()
            QtCore.QTimer.singleShot(1000, loop.quit)           # the last frames paint
            return
        t0 = time.perf_counter()
        lat.sent(t0)
        send_mouse(canvas, QtCore.QEvent.Type.MouseMove, pts[1 + k], none, left)
        state["k"] = k + 1
    timer.timeout.connect(next_move)
    timer.start()
    loop.exec()
    send_mouse(canvas, QtCore.QEvent.Type.MouseButtonRelease, pts[-1], left, none)
    ms, lasts, missed = [], [], 0
    for i in range(first, len(lat.inputs)):
        done = lat.complete(i)
        if done is None:
            missed += 1
            continue
        ms.append((done[0] - lat.inputs[i]) * 1e3)
        lasts.append(done[1])
    return _summary(ms, lasts, missed)


def measure_keys(n_chars: int = 2000, n_keys: int = 60, model: str | None = None) -> dict[str, Any]:
    """Keystrokes at the end of an ``n_chars`` text through the real event loop: real key events
    (QTest, delivered by QApplication), each after a 60 ms pause, timed until every Sequence
    Lab panel has painted the frame that shows the key. ``model``: the picker's label (default:
    the first code model); a missing one raises LookupError."""
    from PySide6 import QtGui
    from PySide6.QtTest import QTest

    from explorer.ui.sequence.bench import code_text, make_app, model_name, open_lab, panel_widgets, wait_idle

    app = make_app()
    flash = app.cursorFlashTime()
    app.setCursorFlashTime(0)            # the editor's blinking cursor would paint into the windows
    lab = open_lab(app, model)
    lat = InputLatency(panel_widgets(lab), lab.scheduler)
    try:
        lab.editor.setPlainText(code_text(n_chars))
        lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
        wait_idle(app, lab)
        lab.select_unit(0)
        wait_idle(app, lab)
        keys = "abcdefghij(x) = 'y' # "

        def key(k: int) -> None:
            QTest.keyClick(lab.editor, keys[k % len(keys)])  # type: ignore[call-overload]  # a character: PySide6 takes it, its stub lists only Key
        r = _measure_inputs(app, lat, key, n_keys, pause=0.06)
        r["model"], r["n_chars"] = model_name(lab), n_chars
        return r
    finally:
        lat.remove()
        lab.close()
        lab.deleteLater()
        app.setCursorFlashTime(flash)


def measure_all(quick: bool = False) -> dict[str, Any]:
    import tempfile

    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        seconds, rss = window_start(tmp)
    rows["window_visible_seconds"], rows["rss_after_startup_mb"] = seconds, rss
    from explorer.ui.shell.draw_bench import measure_long_stroke
    # pen and key rows: real input events through the real event loop, until the last panel painted
    pen = measure_pen(n_moves=30 if quick else 100, stroke_moves=150 if quick else 500)
    rows["draw_latency_median_ms"] = pen["isolated"]["median_ms"]          # an isolated move, after a pause
    rows["draw_latency_p95_ms"] = pen["isolated"]["p95_ms"]
    rows["draw_to_frame_median_ms"] = pen["isolated"]["to_frame_median_ms"]   # of which: until its frame is computed
    rows["draw_last_panel"] = pen["isolated"]["last_panel"]
    rows["draw_stroke_125hz_median_ms"] = pen["stroke"]["median_ms"]      # moves in a stroke at 125 Hz
    rows["draw_stroke_125hz_p95_ms"] = pen["stroke"]["p95_ms"]
    rows["draw_missed_moves"] = pen["isolated"]["missed"] + pen["stroke"]["missed"]
    _clean_up()
    pen = measure_pen(n_moves=30 if quick else 100, page="pen")
    rows["draw_latency_pen_page_median_ms"] = pen["isolated"]["median_ms"]
    rows["draw_latency_pen_page_p95_ms"] = pen["isolated"]["p95_ms"]
    rows["draw_latency_pen_page_last_panel"] = pen["isolated"]["last_panel"]
    _clean_up()
    beside = measure_pen(n_moves=30 if quick else 100, beside=5000)
    rows["draw_beside_5000pt_stroke_median_ms"] = beside["isolated"]["median_ms"]
    rows["draw_beside_5000pt_stroke_p95_ms"] = beside["isolated"]["p95_ms"]
    n = 400 if quick else 3000
    _clean_up()
    stroke = measure_long_stroke(n_moves=n, hz=125.0, edge=100 if quick else 200)
    rows[f"stroke_{n}_moves_125hz_first_ms_per_move"] = stroke["first_ms_per_move"]
    rows[f"stroke_{n}_moves_125hz_last_ms_per_move"] = stroke["last_ms_per_move"]
    rows[f"stroke_{n}_moves_125hz_first_moves_per_s"] = stroke["first_moves_per_s"]
    rows[f"stroke_{n}_moves_125hz_last_moves_per_s"] = stroke["last_moves_per_s"]
    rows[f"stroke_{n}_moves_125hz_seconds"] = stroke["seconds"]
    rows[f"stroke_{n}_moves_125hz_ideal_seconds"] = stroke["ideal_seconds"]
    try:
        from explorer.ui.sequence.bench import measure_paste
    except ImportError as exc:
        rows["sequence"] = f"unavailable: {exc}"
        return rows
    for n in (2000, 200, 10_000):
        _clean_up()
        keys = measure_keys(n_chars=n, n_keys=30 if quick else 100)
        label = "keystroke" if n == 2000 else (f"keystroke_{n // 1000}k" if n >= 1000 else f"keystroke_{n}")
        rows[f"{label}_latency_median_ms"] = keys["median_ms"]
        rows[f"{label}_latency_p95_ms"] = keys["p95_ms"]
        rows[f"{label}_last_panel"] = keys["last_panel"]
        if keys["missed"]:
            rows[f"{label}_missed_keys"] = keys["missed"]
    for family in ("transformer", "GRU", "RNN"):   # every shipped family, beside the LSTM's row
        _clean_up()
        label = f"keystroke_{family.lower()}"
        try:
            keys = measure_keys(n_chars=2000, n_keys=30 if quick else 100, model=f"Python code · {family}")
        except LookupError as exc:
            rows[label] = f"unavailable: {exc}"
            continue
        rows[f"{label}_latency_median_ms"] = keys["median_ms"]
        rows[f"{label}_latency_p95_ms"] = keys["p95_ms"]
        rows[f"{label}_last_panel"] = keys["last_panel"]
    _clean_up()
    paste = measure_paste(n_chars=100_000)
    rows["paste_100k_seconds"] = paste["seconds"]
    rows["paste_max_block_ms"] = paste["max_block_ms"]
    n = 200_000 if quick else 2_000_000
    big = paste_in_fresh_process(n)
    label = f"paste_{n // 1000}k"
    rows[f"{label}_seconds"] = big["seconds"]
    rows[f"{label}_max_block_ms"] = big["max_block_ms"]
    rows[f"{label}_rss_before_mb"] = big["rss_before_mb"]
    rows[f"{label}_peak_rss_mb"] = big["peak_rss_mb"]
    return rows


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak_draw(n_moves: int = 20_000, moves_per_stroke: int = 100) -> dict[str, float]:
    """Scripted pen moves through the real window; resident memory after warm-up and at the end.

    Strokes of ``moves_per_stroke`` moves; the canvas is cleared every 10 strokes, as a
    person would. Linux only (reads /proc/self/statm).
    """
    import tempfile

    import numpy as np
    from PySide6 import QtCore, QtWidgets

    from explorer.ui.shell.draw_bench import send_mouse

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from explorer.ui.shell.window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        win = MainWindow(QtCore.QSettings(os.path.join(tmp, "soak.ini"), QtCore.QSettings.Format.IniFormat))
        win.resize(1400, 900)
        win.show()
        app.processEvents()
        lab, canvas = win.digit_lab, win.digit_lab.canvas
        left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton

        def send(kind: QtCore.QEvent.Type, at: Point, button: QtCore.Qt.MouseButton,
                 buttons: QtCore.Qt.MouseButton) -> None:
            send_mouse(canvas, kind, at, button, buttons)

        rng = np.random.default_rng(0)
        done, strokes, warm = 0, 0, None
        while done < n_moves:
            start = rng.uniform(60, 220, 2)
            path = start + np.cumsum(rng.normal(0, 4, (moves_per_stroke, 2)), axis=0)
            path = np.clip(path, 5, 275)
            send(QtCore.QEvent.Type.MouseButtonPress, path[0], left, left)
            for x, y in path[1:]:
                send(QtCore.QEvent.Type.MouseMove, (x, y), none, left)
                lab.scheduler.flush()
                app.processEvents()
                done += 1
            send(QtCore.QEvent.Type.MouseButtonRelease, path[-1], left, none)
            strokes += 1
            if strokes % 10 == 0:
                lab.clear_action.trigger()
            if warm is None and done >= min(2000, n_moves // 4):
                warm = _rss_mb()
        end = _rss_mb()
        lab.stop()
        win.close()
    return {"soak_moves": float(done), "soak_rss_after_warmup_mb": float(warm or end),
            "soak_rss_end_mb": float(end), "soak_rss_growth_mb": float(end - (warm or end))}
