"""Session-wide test setup. No Qt imports here: engine tests must not pull Qt in."""

import os
import tempfile

# Must happen before anything creates a QApplication (pytest-qt does that lazily).
# Not setdefault: an exported but empty QT_QPA_PLATFORM= would make Qt look for xcb.
if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
# Anything that still opens QSettings() without an injected path lands in a temp dir
# (Linux: QSettings follows XDG_CONFIG_HOME if it is set before first use).
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="explorer-cfg-")
