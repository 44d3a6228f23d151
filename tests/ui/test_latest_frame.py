"""LatestFrame alone: at most one render per frame, the latest frame wins, idle means no timer."""

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
