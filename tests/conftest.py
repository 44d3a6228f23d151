"""Session-wide test setup. No Qt imports here: engine tests must not pull Qt in."""

import os
import tempfile

import pytest

from explorer.runtime import configure_process

configure_process()     # what the app and the CLI do at start (BLAS threads, allocator)

# Must happen before anything creates a QApplication (pytest-qt does that lazily).
# Not setdefault: an exported but empty QT_QPA_PLATFORM= would make Qt look for xcb.
if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
# Anything that still opens QSettings() without an injected path lands in a temp dir
# (Linux: QSettings follows XDG_CONFIG_HOME if it is set before first use).
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="explorer-cfg-")
# The reference-states cache (explorer.session.refcache) starts empty for every test run.
os.environ["EXPLORER_CACHE_DIR"] = tempfile.mkdtemp(prefix="explorer-cache-")


# In CI, PyTorch is installed (.ci/run), so a PyTorch-parity test that skips means the oracle
# silently went missing: report such a skip as a failure there.
_STRICT_TORCH = (os.environ.get("CI", "").lower() == "true"
                 and not os.environ.get("EXPLORER_TORCH_OPTIONAL"))   # .ci/run sets it for the other Pythons


def _fail_torch_skip(report) -> None:  # type: ignore[no-untyped-def]
    if _STRICT_TORCH and report.skipped and "torch" in str(report.longrepr).lower():
        report.outcome = "failed"
        report.longrepr = f"PyTorch parity skipped in CI (torch must be installed): {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_torch_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_torch_skip(outcome.get_result())
