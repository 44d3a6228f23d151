"""LatestFrame alone: at most one render per frame, the latest frame wins, idle means no timer;
``at_once``: an idle submit renders inside the submit itself."""

from explorer.ui.widgets.latest import LatestFrame


def test_submits_between_frames_coalesce_to_the_latest(qtbot):
    rendered: list[object] = []
    sched = LatestFrame(rendered.append, fps=30)
    for frame in range(5):
        sched.submit(frame)
    assert rendered == []                       # nothing renders synchronously on submit
    assert sched.timer.isActive()
    qtbot.waitUntil(lambda: rendered == [4], timeout=2000)
    assert sched.dropped == 4                   # frames 0-3 were replaced before rendering
    qtbot.waitUntil(lambda: not sched.timer.isActive(), timeout=2000)   # idle: timer stops
    assert rendered == [4]


def test_flush_renders_now_and_reports_whether_anything_was_pending(qtbot):
    rendered: list[object] = []
    fired: list[bool] = []
    sched = LatestFrame(rendered.append)
    sched.rendered.connect(lambda: fired.append(True))
    assert sched.flush() is False and rendered == [] and fired == []
    sched.submit("a")
    assert sched.flush() is True
    assert rendered == ["a"] and fired == [True]
    assert sched.flush() is False               # the frame was consumed


def test_stop_drops_the_pending_frame(qtbot):
    rendered: list[object] = []
    sched = LatestFrame(rendered.append)
    sched.submit("x")
    sched.stop()
    assert not sched.timer.isActive()
    qtbot.wait(50)
    assert sched.flush() is False and rendered == []


def test_an_isolated_submit_renders_before_the_event_loop_goes_idle(qtbot):
    from PySide6 import QtWidgets
    rendered: list[object] = []
    sched = LatestFrame(rendered.append, fps=10)              # a long frame: a tick would come 100 ms late
    sched.submit("alone")
    assert rendered == []                                     # not inside the input's own handler
    QtWidgets.QApplication.instance().processEvents()         # one turn of the event loop, no waiting
    assert rendered == ["alone"]
    assert not sched.timer.isActive()                         # and nothing runs after it


def test_a_burst_within_one_frame_renders_fewer_times_and_ends_on_the_latest(qtbot):
    from PySide6 import QtWidgets
    app = QtWidgets.QApplication.instance()
    rendered: list[object] = []
    sched = LatestFrame(rendered.append, fps=2)               # 500 ms frames: the burst is inside one
    sched.submit(0)
    qtbot.waitUntil(lambda: rendered == [0], timeout=2000)
    n = 6
    for i in range(1, n + 1):                                 # event-loop turns between the inputs
        sched.submit(i)
        app.processEvents()
    qtbot.waitUntil(lambda: rendered[-1] == n, timeout=5000)
    assert len(rendered) - 1 < n and sched.dropped >= 1       # coalesced ...
    assert rendered[-1] == n                                  # ... to the latest
    qtbot.waitUntil(lambda: not sched.timer.isActive(), timeout=2000)


def test_a_submit_during_a_render_waits_for_the_next_frame(qtbot):
    rendered: list[object] = []

    def render(frame):
        rendered.append(frame)
        if frame == "first":
            sched.submit("during")                            # e.g. a render that changes the input
    sched = LatestFrame(render, fps=30)
    sched.submit("first")
    assert sched.flush() and rendered == ["first"]            # not re-entered
    assert sched.timer.isActive()
    qtbot.waitUntil(lambda: rendered == ["first", "during"], timeout=2000)


def test_at_once_an_isolated_submit_renders_inside_the_submit(qtbot):
    rendered: list[object] = []
    sched = LatestFrame(rendered.append, fps=10, at_once=True)
    sched.submit("alone")
    assert rendered == ["alone"] and sched.renders == 1        # no event-loop turn needed
    assert not sched.timer.isActive()


def test_at_once_submits_within_a_frame_wait_and_coalesce_to_the_latest(qtbot):
    rendered: list[object] = []
    sched = LatestFrame(rendered.append, fps=5, at_once=True)  # 200 ms frames
    sched.submit(0)
    assert rendered == [0]
    for i in range(1, 6):                                      # inside the frame that just rendered
        sched.submit(i)
    assert rendered == [0] and sched.timer.isActive()          # not drawn more than fps a second
    qtbot.waitUntil(lambda: rendered == [0, 5], timeout=2000)  # the latest, once the frame is over
    assert sched.dropped == 4
    qtbot.waitUntil(lambda: not sched.timer.isActive(), timeout=2000)
    qtbot.wait(int(sched.interval * 1000) + 20)                # idle again: the next one is at once
    sched.submit(6)
    assert rendered == [0, 5, 6]


def test_at_once_a_submit_during_a_render_is_not_reentered(qtbot):
    rendered: list[object] = []

    def render(frame):
        rendered.append(frame)
        if frame == "first":
            sched.submit("during")
            assert rendered == ["first"]                       # not drawn from inside the render
    sched = LatestFrame(render, fps=30, at_once=True)
    sched.submit("first")
    assert rendered == ["first"] and sched.timer.isActive()
    qtbot.waitUntil(lambda: rendered == ["first", "during"], timeout=2000)


def test_a_lone_pen_move_on_the_digit_lab_is_drawn_inside_its_own_event(qtbot, digit_lab, ui):
    """Through the lab: a real press and move on the canvas, and the frame shows the move as
    soon as the move's event returns (no event-loop turn, no flush, no timer): the canvas's
    stroke and every panel then paint in the same window update."""
    from PySide6 import QtCore
    canvas = digit_lab.canvas
    ui.draw(qtbot, canvas, ui.seven_points())
    qtbot.waitUntil(lambda: not digit_lab.scheduler.timer.isActive(), timeout=2000)
    # lone: no frame within the last frame interval (a move sooner than that waits for the rest
    # of the interval by design; on a fast machine the drawing's last frame is that recent)
    qtbot.wait(int(digit_lab.scheduler.interval * 1000) + 30)
    left = QtCore.Qt.MouseButton.LeftButton
    qtbot.mousePress(canvas, left, pos=canvas.from_ref(100, 200))
    qtbot.wait(int(digit_lab.scheduler.interval * 1000) + 30)
    before, renders = digit_lab.reading, digit_lab.scheduler.renders
    qtbot.mouseMove(canvas, canvas.from_ref(140, 230))
    assert digit_lab.scheduler.renders == renders + 1 and digit_lab.reading is not before
    assert not digit_lab.scheduler.timer.isActive()
    qtbot.mouseRelease(canvas, left, pos=canvas.from_ref(140, 230))
