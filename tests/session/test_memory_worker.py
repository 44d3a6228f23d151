"""Memory's BPTT in the worker process gives the in-process numbers to the bit (typing, edits in
the middle, cursor moves, emptied text, unknown characters, model switches, new weights), the
app falls back to in-process whenever the worker is busy, dead or closed, and the worker never
outlives the app."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from explorer.analysis.memory_worker import MemoryWorker, shared_worker
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_catalogue import load_session
from explorer.session.sequence_view import FrameRequest, build_view

TEXT = "def f(a, b):\n    return [a * 2, 'b' + b]  # x\n" * 4
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def worker():
    w = MemoryWorker()                  # a private one: these tests kill and close workers
    assert w.wait_ready(), "the worker process did not start"
    yield w
    w.close()


def _on(s, worker):
    s.memory_worker = lambda: worker
    return s


def _from_worker(s, worker, c):
    """The memory at c as the lab gets it, the worker's answer awaited (whatever the load)."""
    prev = s.last_memory_job
    pending = s.memory_begin(c)
    again = pending is _last.get(id(s))                 # the same text and cursor: the kept one
    _last[id(s)] = pending
    job = s.last_memory_job
    if not pending.empty and not again:
        assert job is not prev, "computed in-process, not sent to the worker"
        assert worker.wait_answer(job.seq, 30.0)
    mem = pending.collect()
    if mem is not None:
        assert job.source == "worker"
    return mem


_last = {}


def _same(got, want):
    assert (got is None) == (want is None)
    if got is not None:
        assert (got.start, got.target, got.label, got.actual) == (want.start, want.target, want.label, want.actual)
        assert got.weights.dtype == want.weights.dtype == np.float64
        assert np.array_equal(got.weights, want.weights)          # to the bit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_the_workers_memory_is_the_in_process_one_to_the_bit_while_typing_editing_and_moving(worker, cell, dtype):
    s = _on(SequenceSession(random_model(cell, hidden=24, embed=6, seed=5).astype(dtype)), worker)
    text = TEXT[:100]
    s.set_text(text)
    for k in range(14):
        if k < 6:
            text += "xy(z) "[k]                                     # typing at the end
        elif k == 6:
            text = text[:80] + "Q" + text[81:]                      # an edit inside the window
        elif k == 8:
            text = text[:-5]                                        # a deletion at the end
        elif k == 10:
            text = text[:30] + "\n\n" + text[30:]                   # an insertion far back
        s.set_text(text)
        c = len(text) - (9 if k in (7, 11) else 0)                  # the cursor moved back and forth
        _same(_from_worker(s, worker, c), s.memory(c, window=60))
    s.set_text("")                                                  # emptied: nothing to show
    assert _from_worker(s, worker, 0) is None and s.memory_begin(0).empty
    s.set_text(text[:3])
    _same(_from_worker(s, worker, 3), s.memory(3, window=60))


def test_a_stale_factor_row_in_the_worker_would_show_negative_control(worker):
    """If an edit in the middle were not told to the worker's rows, its numbers would differ."""
    s = _on(SequenceSession(random_model("LSTM", hidden=24, embed=6, seed=5)), worker)
    text = TEXT[:100]
    s.set_text(text)
    _from_worker(s, worker, len(text))
    text = text[:80] + "Q" + text[81:]
    s.set_text(text)
    s._wk_valid = len(text)          # the edit untold: the worker keeps its rows from before it
    got, want = _from_worker(s, worker, len(text)).weights, s.memory(len(text), window=60).weights
    assert not np.array_equal(got, want)                 # what the other tests check, failing here
    assert np.max(np.abs(got - want) / want) > 1e-3      # and by more than rounding


def test_unknown_characters_start_the_window_after_them_in_the_worker_too(worker):
    s = _on(load_session(os.path.join(ROOT, "resources", "models", "task_anbn.npz")), worker)
    text = "aabb" * 6
    s.set_text(text)
    _same(_from_worker(s, worker, len(text)), s.memory(len(text), window=60))
    text = text[:10] + "x" + text[10:]                  # outside the alphabet: id -1
    s.set_text(text)
    got = _from_worker(s, worker, len(text))
    assert got.start == 11
    _same(got, s.memory(len(text), window=60))
    assert _from_worker(s, worker, 11) is None          # the prediction right after it: none


def test_a_model_switch_and_new_weights_are_sent_again(worker):
    s = _on(SequenceSession(random_model("LSTM", hidden=24, embed=6, seed=5)), worker)
    s.set_text(TEXT[:90])
    first = _from_worker(s, worker, 90)
    s.set_model(random_model("GRU", hidden=20, embed=6, seed=8))
    _same(_from_worker(s, worker, 90), s.memory(90, window=60))
    state = {k: v * np.float32(1.5) for k, v in s.model.state_dict().items()}
    s.load_weights(state)                                # a training step: same arrays, new values
    after = _from_worker(s, worker, 90)
    _same(after, s.memory(90, window=60))
    assert not np.allclose(after.weights, first.weights, rtol=1e-3)


def test_many_sessions_share_one_worker_and_build_view_collects_its_answer(worker, monkeypatch):
    sessions = [_on(SequenceSession(random_model(cell, hidden=16, embed=5, seed=i)), worker)
                for i, cell in enumerate(["LSTM", "GRU", "RNN", "LSTM"])]
    pid = worker.pid
    for s in sessions:
        s.set_text(TEXT[:70])
        pending = s.memory_begin(70)
        assert worker.wait_answer(s.last_memory_job.seq, 30.0)
        v = build_view(s, 70, FrameRequest(window=40))   # the same (text, cursor): the kept job
        assert v.pending_memory is pending
        _same(v.memory, s.memory(70, window=60))
        assert s.last_memory_job.source == "worker"
    assert worker.pid == pid and worker.ready
    monkeypatch.setenv("EXPLORER_MEMORY_WORKER", "1")   # the app's own worker: one per process too
    shared = shared_worker()
    assert shared is not None and shared_worker() is shared and shared.wait_ready()
    assert SequenceSession(random_model("RNN", hidden=8, embed=4)).memory_worker() is shared


def test_a_job_the_worker_has_not_taken_is_computed_in_process_and_the_rows_stay_in_step():
    w = MemoryWorker()
    assert w.wait_ready()
    try:
        s = _on(SequenceSession(random_model("LSTM", hidden=24, embed=6, seed=5)), w)
        text = TEXT[:100]
        s.set_text(text)
        _same(_from_worker(s, w, 100), s.memory(100, window=60))
        os.kill(w.pid, signal.SIGSTOP)                   # the other core busy: the job waits
        try:
            text += "ab"
            s.set_text(text)
            mem = s.memory_begin(len(text)).collect()    # taken back at once, not waited for
            assert s.last_memory_job.source == "in-process" and w.taken_back == 1
            _same(mem, s.memory(len(text), window=60))
        finally:
            os.kill(w.pid, signal.SIGCONT)
        text += "c"                                      # the worker took the skipped job's rows
        s.set_text(text)
        _same(_from_worker(s, w, len(text)), s.memory(len(text), window=60))
    finally:
        w.close()


def test_a_dead_or_closed_worker_leaves_the_in_process_path():
    w = MemoryWorker()
    assert w.wait_ready()
    s = _on(SequenceSession(random_model("GRU", hidden=16, embed=5, seed=2)), w)
    s.set_text(TEXT[:60])
    os.kill(w.pid, signal.SIGKILL)
    w.proc.wait(10)
    mem = s.memory_begin(60).collect()
    assert s.last_memory_job.source == "in-process"
    _same(mem, s.memory(60, window=60))
    s.set_text(TEXT[:61])
    _same(s.memory_begin(61).collect(), s.memory(61, window=60))
    assert not w.ready
    w2 = MemoryWorker()
    assert w2.wait_ready()
    proc = w2.proc
    w2.close()
    assert proc.poll() is not None and not w2.ready       # closed: the process has exited
    s.memory_worker = lambda: w2
    s.set_text(TEXT[:62])
    _same(s.memory_begin(62).collect(), s.memory(62, window=60))


@pytest.mark.parametrize("how", ["kill -9", "exit"])
def test_the_worker_exits_when_its_app_is_killed_or_exits(how):
    code = textwrap.dedent("""
        import sys, time
        from explorer.analysis.memory_worker import shared_worker
        w = shared_worker()
        assert w.wait_ready()
        print(w.pid, flush=True)
        sys.stdin.readline()              # "exit": a normal end (atexit), else killed meanwhile
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    env.pop("EXPLORER_MEMORY_WORKER", None)              # (on by default)
    app = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           env=env)
    try:
        pid = int(app.stdout.readline())
        assert _running(pid)
        if how == "kill -9":
            app.kill()                                   # no atexit, no close: the kernel closes the pipe
        else:
            app.stdin.write("\n")
            app.stdin.flush()
        app.wait(20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(pid):
            time.sleep(0.05)
        assert not _running(pid), "the worker outlived its app"
    finally:
        if app.poll() is None:
            app.kill()


def _running(pid):
    """True while pid is a live process (a zombie, reaped by init soon, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_transformers_memory_from_the_worker_is_the_in_process_one_to_the_bit(worker):
    s = _on(load_session(os.path.join(ROOT, "resources", "models", "code_transformer.npz")), worker)
    text = TEXT[:100]
    s.set_text(text)
    steps = []
    for k in range(12):
        if k < 5:
            text += "xy(z)"[k]                                      # typing at the end
        elif k == 5:
            text = text[:70] + "Q" + text[71:]                      # an edit inside the window
        elif k == 7:
            text = text[:-3]                                        # a deletion at the end
        elif k == 9:
            text += TEXT[:40]                                       # past the context: the window hops
        s.set_text(text)
        c = len(text) - (6 if k in (6, 10) else 0)
        _same(_from_worker(s, worker, c), s.memory(c))
        steps.append(s.stream.start)
    assert steps[0] == 0 and steps[-1] > 0                          # a new window was sent too
    early = s.memory_begin(20).collect()   # a window the stream does not hold: in-process, by the
    again = s.memory(20)                   # growing forward (its rows' rounding depends on how they grew)
    assert (early.start, early.target) == (again.start, again.target)
    np.testing.assert_allclose(early.weights, again.weights, rtol=1e-4)
    s.set_text("")
    assert _from_worker(s, worker, 0) is None


def test_a_stale_transformer_row_in_the_worker_would_show_negative_control(worker):
    s = _on(load_session(os.path.join(ROOT, "resources", "models", "code_transformer.npz")), worker)
    text = TEXT[:100]
    s.set_text(text)
    _from_worker(s, worker, len(text))
    text = text[:70] + "Q" + text[71:]
    s.set_text(text)
    s._wk_valid = len(text)          # the edit untold: the worker keeps its rows from before it
    got, want = _from_worker(s, worker, len(text)).weights, s.memory(len(text)).weights
    assert not np.array_equal(got, want)
    assert np.max(np.abs(got - want) / want) > 1e-3


def test_messages_carry_arrays_exactly_with_their_memory_order():
    """Data only (no pickle): dtype, shape, values and Fortran order (it picks the gemv kernel)."""
    from explorer.analysis.memory_worker import _HEAD, _frame, _unframe
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((7, 5)).astype(np.float32), np.asfortranarray(rng.standard_normal((6, 4))),
              np.zeros((0, 9), np.float32), np.float64(2.5) * np.ones(()), np.arange(5, dtype=np.int32)]
    head = {"op": "job", "seq": 7, "rows": [1, 2, 3]}
    frame = _frame(head, arrays)
    nh, nl, nb = _HEAD.unpack(frame[:_HEAD.size])
    body = frame[_HEAD.size:]
    assert len(body) == nh + nl + nb
    got_head, got = _unframe(body[:nh], body[nh:nh + nl], body[nh + nl:])
    assert got_head == head and len(got) == len(arrays)
    for a, b in zip(arrays, got):
        assert (a.dtype, a.shape, a.flags.f_contiguous, a.flags.c_contiguous) == \
            (b.dtype, b.shape, b.flags.f_contiguous, b.flags.c_contiguous)
        assert np.array_equal(a, b) and b.flags.writeable
    assert not np.shares_memory(got[0], arrays[0])


def test_a_worker_that_cannot_start_or_is_off_leaves_the_in_process_path(monkeypatch):
    import explorer.analysis.memory_worker as mw

    def refuse(*_a, **_k):
        raise OSError("no processes here")

    monkeypatch.setattr(mw.subprocess, "Popen", refuse)
    w = MemoryWorker()
    assert not w.wait_ready(10.0) and w.state == "dead"
    s = _on(SequenceSession(random_model("RNN", hidden=12, embed=5, seed=1)), w)
    s.set_text(TEXT[:50])
    _same(s.memory_begin(50).collect(), s.memory(50, window=60))
    assert s.last_memory_job.source == "in-process"
    monkeypatch.setenv("EXPLORER_MEMORY_WORKER", "0")
    assert shared_worker() is None                       # turned off


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and two CPUs")
def test_the_worker_is_kept_off_the_cpu_of_the_thread_that_sends_it_a_job(worker):
    """Woken on another core, it starts at once there and never takes the sending thread's."""
    s = _on(SequenceSession(random_model("RNN", hidden=12, embed=5, seed=1)), worker)
    s.set_text(TEXT[:50])
    _from_worker(s, worker, 50)
    cpus = os.sched_getaffinity(0)
    allowed = os.sched_getaffinity(worker.pid)
    assert allowed < cpus and len(cpus - allowed) == 1    # all but one: the sender's CPU at that job


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="the worker needs two CPUs and fork")
def test_by_default_every_family_uses_the_worker_and_0_turns_it_off(monkeypatch):
    """On unless EXPLORER_MEMORY_WORKER=0, for a transformer and a recurrent cell alike (the lab
    collects its answer as the Memory panel paints, after the other panels)."""
    from explorer.session.sequence_catalogue import open_session
    from explorer.session.sequence_transformer import random_transformer

    monkeypatch.delenv("EXPLORER_MEMORY_WORKER", raising=False)
    transformer = open_session(random_transformer(d_model=16, nhead=2, layers=1, context=32), name="t")
    rnn = SequenceSession(random_model("RNN", hidden=8, embed=4))
    shared = transformer.memory_worker()
    assert shared is not None and rnn.memory_worker() is shared and shared_worker() is shared
    monkeypatch.setenv("EXPLORER_MEMORY_WORKER", "0")
    assert transformer.memory_worker() is None and rnn.memory_worker() is None
    monkeypatch.setenv("EXPLORER_MEMORY_WORKER", "1")
    assert transformer.memory_worker() is shared and rnn.memory_worker() is shared


def test_a_pending_memory_that_fails_raises_once_and_settles_as_none():
    """Collected once: a failure is raised to the one who shows it, and the session's own
    clean-up (settle, before it changes what the job reads) never raises."""
    from explorer.session.sequence_parts import PendingMemory

    calls = []

    def boom():
        calls.append(1)
        raise FloatingPointError("overflow")

    pending = PendingMemory(start=3, weights=boom, finish=lambda w: None, elsewhere=True)
    assert pending.elsewhere and not pending.empty
    with pytest.raises(FloatingPointError):
        pending.collect()
    assert pending.collect() is None and not pending.elsewhere and calls == [1]
    other = PendingMemory(start=3, weights=boom, finish=lambda w: None)
    other.settle()
    assert other.collect() is None and calls == [1, 1]
