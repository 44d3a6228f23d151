"""The shell: the window's public door, the one launch path, and what it wires between labs."""

import pytest

from explorer.ui.main_window import MainWindow


@pytest.fixture
def win(qtbot, tmp_path, ui):
    w = MainWindow(ui.settings_at(str(tmp_path / "s.ini")), digit_model=ui.tiny_cnn(0))
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    return w


def test_the_public_door_is_the_shells_window():
    from explorer.ui.shell import window
    assert MainWindow is window.MainWindow


def test_no_sub_command_opens_the_window_through_the_launcher(monkeypatch):
    from explorer import cli
    from explorer.ui.shell import launch
    opened = []
    monkeypatch.setattr(launch, "open_window", lambda session=None: opened.append(session) or 0)
    assert cli.main([]) == 0
    assert opened == [None]


def test_timings_count_every_digit_frame_while_shown(qtbot, win, ui):
    timings = win.timings
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    win.digit_lab.scheduler.flush()
    assert timings.frames["digits"] == 0 and timings.renders == []      # off: nothing is counted
    win.timings_action.setChecked(True)
    timings.refresh()
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points()[:20])
    win.digit_lab.scheduler.flush()
    assert timings.frames["digits"] >= 1 and len(timings.renders) == timings.frames["digits"]
    assert all(r > 0 for r in timings.renders)
    assert "render idle" not in timings.text() and "fps" in timings.text()


def test_a_damaged_recent_sessions_value_lists_none(win):
    from explorer.ui.shell.lessons import RECENT_KEY, recent, remember
    win.settings.setValue(RECENT_KEY, 7)                 # what a hand-edited settings file can hold
    assert recent(win.settings) == []
    remember(win.settings, win.drawing_path())
    assert recent(win.settings) == [str(win.drawing_path().resolve())]


def test_the_examples_folder_is_shared_by_the_digit_lab_and_the_fine_tuning(win, tmp_path):
    from explorer.ui.shell.examples import examples_folder
    folder = examples_folder(win.settings)
    assert folder == (tmp_path / "my_digits").resolve()
    assert win.digit_lab.keeper.folder == folder
    panel = win.train_lab.finetune_panel
    assert panel.folder == folder
    assert panel.model_fn() is win.digit_lab.session.model          # it fine-tunes what the Digit Lab reads with


def test_closing_the_window_stops_a_running_fine_tuning(qtbot, win, monkeypatch):
    stopped = []
    monkeypatch.setattr(win.train_lab.finetune_panel, "stop", lambda *a, **k: stopped.append(True))
    win.close()
    assert stopped == [True]
