"""A read-only (or missing) config folder, or a full disk: said once at start (status bar and
stderr), a marker while work is not kept, a warning on stderr at exit."""

import errno

from explorer.ui.main_window import MainWindow


def make(qtbot, ui, ini):
    win = MainWindow(ui.settings_at(str(ini)), digit_model=ui.tiny_cnn(0))
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    return win


def test_unwritable_config_folder_is_said_marked_and_warned_at_exit(qtbot, ui, tmp_path, capfd):
    blocker = tmp_path / "config"
    blocker.write_text("a file where the config folder should be")     # root ignores chmod; this cannot be written
    win = make(qtbot, ui, blocker / "app" / "a.ini")
    err = capfd.readouterr().err
    assert err.count("Your work is not being kept") == 1 and str(blocker / "app") in err
    assert "Your work is not being kept" in win.statusBar().currentMessage()
    marker = win.autosave.keeping.marker
    assert marker.isVisible() and "not being kept" in marker.text()
    assert str(blocker / "app") in marker.toolTip()
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    win.close()
    err = capfd.readouterr().err
    assert "nothing of this session was saved automatically" in err


def test_a_writable_folder_shows_no_marker_and_says_nothing(qtbot, ui, tmp_path, capfd):
    win = make(qtbot, ui, tmp_path / "cfg" / "a.ini")
    assert not win.autosave.keeping.marker.isVisible()
    win.close()
    assert "not" not in capfd.readouterr().err.replace("propagateSizeHints", "")


def test_disk_full_raises_the_marker_until_a_write_succeeds(qtbot, ui, tmp_path, monkeypatch, capfd):
    win = make(qtbot, ui, tmp_path / "cfg" / "a.ini")
    import explorer.session.drawing as drawing
    real = drawing.atomic_write

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(drawing, "atomic_write", full)
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    win.autosave.save("drawing")
    qtbot.waitUntil(lambda: win.autosave.keeping.marker.isVisible(), timeout=3000)
    assert "No space left on device" in win.autosave.keeping.marker.toolTip()
    monkeypatch.setattr(drawing, "atomic_write", real)
    win.digit_lab.clear()
    win.autosave.save("drawing")
    qtbot.waitUntil(lambda: not win.autosave.keeping.marker.isVisible(), timeout=3000)
    win.close()
    assert "nothing of this session was saved" not in capfd.readouterr().err
