"""Memory's backward in a second process, beside the GUI thread.

A keystroke's Memory panel costs ~1-1.7 ms of dependent matrix products (a recurrent cell's
BPTT, ``influence_from_gradient``; a transformer's blocks, ``recorded_backward``), at numpy's
floor in-process; a thread cannot overlap them with routing and painting (the GUI thread holds
the GIL), but the machine's second core is idle while a key renders. So one worker PROCESS per
app (``shared_worker``) holds copies of each model's weights (sent once per model, as raw
arrays: ``add_model`` / ``add_transformer``) and of what the last window's backward reads (a
recurrent cell's step factors, a transformer's kept forward values); per key the app sends only
the rows the worker does not hold yet and the gradient at the read step, goes on with the other
panels, and collects the (n,) result when the Memory panel is routed.

The worker runs the very function the in-process path runs, on copies of the same arrays (same
dtype, shapes and memory order, same BLAS thread count), so its numbers are the same to the
bit. Whenever it is not ready, died, answers with an error, has not taken the job yet when it is
collected (the other core is busy: the job is taken back) or has not finished it within
``WAIT`` seconds, the caller computes in-process (``WorkerJob.weights``): the numbers shown never
depend on it.

Scheduling (measured here): woken through the pipe, a plain worker was often run on the GUI
thread's own core at once (a pipe write is a "sync" wakeup), and the write then cost the GUI
1-3 ms. So the app keeps the worker off the CPU the GUI thread is on (``sched_setaffinity``,
re-set only when the GUI thread moves): woken on the other core it starts at once, even
preempting a low-priority background job there (with a training run on the other core it
answered ~70% of the keys in time, the rest were taken back). Where the CPU cannot be read or
set, the worker runs SCHED_BATCH instead (it never preempts the GUI thread, but on a busy
machine it often starts too late and the job is taken back). With fewer than two CPUs it is off.

Lifecycle: started lazily from a background thread (the window never waits for it); a new
interpreter (``subprocess``: fork + exec, never a fork of a process that has Qt loaded); it
exits when its request pipe reaches EOF (the app closed, exited or was killed: the kernel
closes the pipe) or when its parent process is gone (checked every second).

On unless ``EXPLORER_MEMORY_WORKER=0``. Collected as the Memory panel was routed (inside the
frame), the worker made no key faster on the 2-vCPU virtual machine this was built on (LSTM
median 7.65 against 7.50 ms, transformer 9.71 against 8.65): the GUI thread waited for answers
the worker had barely started. The lab now collects a job the worker holds only as the Memory
panel paints, after the frame's other panels, in the same window update
(``MemoryPanel.show_when_painted``): by then the worker has had the routing and the other
panels' paints to compute it, and every family's key got faster (medians, alternately with
and without the worker: LSTM 7.4/8.9/9.1 against 8.5/9.8/10.5 ms, GRU 8.7/12.9 against
10.6/17.4, RNN 8.7/8.5 against 11.7/10.4, on a VM with other work running).
"""

from __future__ import annotations

import atexit
import ctypes
import json
import math
import mmap
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from explorer.analysis.memory import FACTOR_NAMES, RECORDED_NAMES, growing_blocks, influence_from_gradient, recorded_backward
from explorer.engine.attention import TransformerEncoderLayer

WAIT = 0.002          # seconds a collect waits for a job the worker has taken, then computes in-process
FLAGS_BYTES = 16      # the shared words: the job the worker took, the job the app took back
PIPE_BYTES = 1 << 21  # the request pipe's buffer (Linux; 64 KB elsewhere)
START_TIMEOUT = 30.0  # seconds the background thread waits for the worker's hello
MAX_SLOTS = 8         # models whose weights the worker keeps (least recently used dropped)


# -- messages: a JSON header, the arrays' layouts, their raw bytes (data only, no pickle) ------
_HEAD = struct.Struct("<III")   # (header bytes, layout bytes, array bytes) before every message
_ARRAY = struct.Struct("<4sBB")  # an array's dtype (numpy's str, e.g. "<f4"), memory order, ndim; then its shape
_SHAPE = [struct.Struct(f"<{n}q") for n in range(33)]


def _frame(head: dict[str, Any], arrays: Sequence[np.ndarray] = ()) -> bytes:
    layout: list[bytes] = []
    blobs = []
    for a in arrays:
        flags = a.flags
        fortran = not flags.c_contiguous and flags.f_contiguous        # kept: it decides the gemv kernel
        layout += (_ARRAY.pack(a.dtype.str.encode(), fortran, a.ndim), _SHAPE[a.ndim].pack(*a.shape))
        blobs.append(a.tobytes(order="F" if fortran else "C"))
    hb, lb = json.dumps(head).encode(), b"".join(layout)
    body = b"".join(blobs)
    return _HEAD.pack(len(hb), len(lb), len(body)) + hb + lb + body


def _unframe(hb: bytes, lb: bytes, body: bytes) -> tuple[dict[str, Any], list[np.ndarray]]:
    head = json.loads(hb)
    arrays, at, pos, buf = [], 0, 0, bytearray(body)          # a bytearray: the arrays are writable
    while pos < len(lb):
        dtype, fortran, ndim = _ARRAY.unpack_from(lb, pos)
        shape = _SHAPE[ndim].unpack_from(lb, pos + _ARRAY.size)
        pos += _ARRAY.size + 8 * ndim
        dt = np.dtype(dtype.rstrip(b"\0").decode())
        count = math.prod(shape)
        arrays.append(np.frombuffer(buf, dt, count, at).reshape(shape, order="F" if fortran else "C"))
        at += count * dt.itemsize
    return head, arrays


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int, deadline: float | None, alive: Callable[[], bool]) -> bytes | None:
    """n bytes from fd; None on EOF, when ``alive()`` turns False or past the deadline."""
    parts, left = [], n
    while left:
        wait = 1.0 if deadline is None else deadline - time.perf_counter()
        if wait <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], min(wait, 1.0))
        if not ready:
            if not alive():
                return None
            continue
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _read_message(fd: int, deadline: float | None = None, alive: Callable[[], bool] = lambda: True
                  ) -> tuple[dict[str, Any], list[np.ndarray]] | None:
    lens = _read_exact(fd, _HEAD.size, deadline, alive)
    if lens is None:
        return None
    nh, nl, nb = _HEAD.unpack(lens)
    rest = _read_exact(fd, nh + nl + nb, None if deadline is None else max(deadline, time.perf_counter() + 1.0),
                       alive)
    return None if rest is None else _unframe(rest[:nh], rest[nh:nh + nl], rest[nh + nl:])


# -- the worker's side --------------------------------------------------------------------------
class _Slot:
    """One model's weights and the step-factor rows start..stop-1 of its last window."""

    def __init__(self, kind: str, w_hh: np.ndarray, w_ih: np.ndarray) -> None:
        self.kind, self.w_hh, self.w_ih = kind, w_hh, w_ih
        self.start = self.stop = 0
        self.rows: dict[str, np.ndarray] = {}

    def update(self, head: dict[str, Any], arrays: list[np.ndarray]) -> np.ndarray:
        """Take the job's rows (the window start..stop-1) -> the job's gradient dy."""
        start, stop, lo, hi = head["rows"]
        names = FACTOR_NAMES[self.kind]
        dy, before, after = arrays[0], arrays[1:1 + len(names)], arrays[1 + len(names):]
        if hi > lo and not (self.start <= lo and hi <= self.stop):
            raise ValueError(f"rows {lo}..{hi} asked for, {self.start}..{self.stop} held")
        out = {}
        for name, b, a in zip(names, before, after):
            kept = self.rows[name][lo - self.start:hi - self.start] if hi > lo else b[:0]
            out[name] = np.concatenate([b, kept, a])
            if len(out[name]) != stop - start:
                raise ValueError(f"{name}: {len(out[name])} rows for the window {start}..{stop}")
        self.start, self.stop, self.rows = start, stop, out
        return dy

    def influence(self, dy: np.ndarray) -> npt.NDArray[np.float64]:
        return influence_from_gradient(self.kind, self.rows, dy, self.w_hh, self.w_ih)


def recorded_rows(kept: Sequence[Any], lo: int, n: int) -> list[np.ndarray]:
    """The parts of a window's kept forward values (per block, ``RECORDED_NAMES``) that positions
    lo..n-1 add, as views: what the app sends for a job (flattened into one array) and where
    the worker writes it."""
    out = []
    for src in kept:
        for k in RECORDED_NAMES:
            a = getattr(src, k)
            out.append(a[:, lo:n] if k in ("q", "k", "v", "o") else a[:, lo:n, :n] if k == "a" else a[lo:n])
    return out


class _TransformerSlot:
    """A transformer's blocks and, per block, the kept forward values of the window's positions
    0..m-1 (the window starting at ``wstart``), in arrays of the app's shapes (same strides)."""

    def __init__(self, head: dict[str, Any], arrays: list[np.ndarray]) -> None:
        layers, at = [], 0
        for cfg, names in zip(head["layers"], head["names"]):
            layer = TransformerEncoderLayer.from_config(**cfg)
            assert isinstance(layer, TransformerEncoderLayer)
            layer.params.clear()
            layer.params.update(zip(names, arrays[at:at + len(names)]))
            at += len(names)
            layers.append(layer)
        self.blocks = growing_blocks(layers, head["capacity"])
        self.shapes = [dict(zip(RECORDED_NAMES, map(tuple, shapes))) for shapes in head["shapes"]]
        self.dtype = np.dtype(head["dtype"])
        self.kept: list[Any] = []
        self.wstart, self.m = -1, 0

    def update(self, head: dict[str, Any], arrays: list[np.ndarray]) -> np.ndarray:
        wstart, n, lo = head["rows"]
        if wstart != self.wstart:          # a new window: zeros as the app's (a's rows past their position)
            if lo:
                raise ValueError(f"a new window from row {lo}")
            self.kept = [SimpleNamespace(**{k: np.zeros(shape, self.dtype) for k, shape in shapes.items()})
                         for shapes in self.shapes]
            self.wstart = wstart
        elif lo > self.m:
            raise ValueError(f"rows from {lo} asked for, {self.m} held")
        flat, at = arrays[1], 0
        for dst in recorded_rows(self.kept, lo, n):
            dst[...] = flat[at:at + dst.size].reshape(dst.shape)
            at += dst.size
        if at != flat.size:
            raise ValueError(f"{flat.size} values for {at} places")
        self.m = n
        return arrays[0]

    def influence(self, d: np.ndarray) -> npt.NDArray[np.float64]:
        return recorded_backward(self.blocks, d, self.m, self.kept)


def _flags(fd: int) -> np.ndarray:
    """The two int64 words both processes map: [the job the worker took, the job the app took back]."""
    return np.frombuffer(mmap.mmap(fd, FLAGS_BYTES), np.int64, 2)


def serve(rfd: int, wfd: int, parent: int, flags_fd: int, pinned: bool = False) -> None:
    """The worker's loop: answer requests until the pipe's EOF or the parent is gone.
    ``pinned``: the app keeps it off the GUI thread's core (``MemoryWorker.submit_rows``)."""
    slots: OrderedDict[int, _Slot | _TransformerSlot] = OrderedDict()
    flags = _flags(flags_fd)

    def alive() -> bool:
        return os.getppid() == parent

    from explorer.runtime import keep_freed_memory
    keep_freed_memory()   # as the app: a window's arrays are not returned to the OS and faulted back per key
    if not pinned:    # woken by a request, never preempt the GUI thread that sent it
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except (AttributeError, OSError):
            pass

    _write_all(wfd, _frame({"op": "hello", "pid": os.getpid()}))
    while True:
        msg = _read_message(rfd, alive=alive)
        if msg is None:
            return
        head, arrays = msg
        if head["op"] == "model":
            slots[head["slot"]] = _TransformerSlot(head, arrays) if head["kind"] == "transformer" \
                else _Slot(head["kind"], arrays[0], arrays[1])
            while len(slots) > MAX_SLOTS:
                slots.popitem(last=False)
        elif head["op"] == "job":
            seq = head["seq"]
            try:
                slot = slots[head["slot"]]
                slots.move_to_end(head["slot"])
                dy = slot.update(head, arrays)          # the rows always: the app counts on them
                flags[0] = seq                          # taken ...
                if flags[1] >= seq:                     # ... unless the app took it back first
                    _write_all(wfd, _frame({"seq": seq, "ok": False, "skipped": True}))
                else:
                    t0 = time.perf_counter()
                    w = slot.influence(dy)
                    _write_all(wfd, _frame({"seq": seq, "ok": True, "took": time.perf_counter() - t0}, [w]))
            except Exception as exc:       # an answer either way: the caller computes in-process
                slots.pop(head["slot"], None)
                _write_all(wfd, _frame({"seq": head["seq"], "ok": False, "slot": head["slot"], "error": repr(exc)}))
        elif head["op"] == "ping":
            _write_all(wfd, _frame({"seq": head["seq"], "ok": True}))


# -- the app's side -----------------------------------------------------------------------------
class MemoryWorker:
    """The worker process seen from the app: ``start`` (background), ``add_model`` /
    ``add_transformer``, ``submit`` / ``submit_rows``, ``collect``. Used from one thread (the GUI's); every failure leaves it ``dead`` and the
    callers compute in-process."""

    def __init__(self) -> None:
        self.state = "idle"            # idle -> starting -> ready | dead
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None    # the worker's own pid (from its hello)
        self._w = self._r = -1
        self._seq = self._slots = 0
        self._answers: dict[int, tuple[dict[str, Any], list[np.ndarray]]] = {}
        self._thread: threading.Thread | None = None
        self.jobs = self.answered = 0  # counts: jobs sent, answers used (tests read them)
        self.lost: set[int] = set()    # slots the worker no longer holds (after an error)
        self.taken_back = 0            # jobs the worker had not started when they were collected
        self.took = 0.0                # seconds the worker computed the last answer used
        self._pin = _getcpu is not None and len(_CPUS) >= 2
        self._away = -2                # the CPU the worker is kept off (the GUI thread's at the last job)
        self._flags = np.zeros(2, np.int64)

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def start(self) -> None:
        """Launch the process from a background thread; returns at once."""
        if self.state == "idle":
            self.state = "starting"
            self._thread = threading.Thread(target=self._launch, name="memory-worker-start", daemon=True)
            self._thread.start()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Block until started (tests, benches); True if ready."""
        self.start()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.ready

    def _launch(self) -> None:
        try:
            self._spawn()
        except Exception:                  # whatever failed: the app computes in-process
            self._die()

    def _spawn(self) -> None:
        r_req, w_req = os.pipe()
        r_res, w_res = os.pipe()
        _grow_pipe(w_req)
        shared = _shared_file()
        try:
            os.ftruncate(shared.fileno(), FLAGS_BYTES)
            self._flags = _flags(shared.fileno())
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
            env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(_blas_threads())   # the app's numbers
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "explorer.analysis.memory_worker", str(r_req), str(w_res), str(os.getpid()),
                 str(shared.fileno()), "1" if self._pin else "0"],
                pass_fds=(r_req, w_res, shared.fileno()), stdin=subprocess.DEVNULL, env=env, close_fds=True)
        except BaseException:
            for fd in (r_req, w_req, r_res, w_res):
                os.close(fd)
            raise
        finally:
            shared.close()                 # mapped here, inherited by the worker
        os.close(r_req)
        os.close(w_res)
        self._w, self._r = w_req, r_res
        hello = _read_message(self._r, time.perf_counter() + START_TIMEOUT)
        if hello is None or hello[0].get("op") != "hello":
            self._die()
            return
        self.pid = int(hello[0]["pid"])
        self.state = "ready"

    def _die(self) -> None:
        self.state = "dead"
        for fd in (self._w, self._r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._w = self._r = -1
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        """Stop the worker (its pipe's EOF ends it); the callers compute in-process from now on."""
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)
        if self.state in ("ready", "starting"):
            if self._w >= 0:
                os.close(self._w)
                self._w = -1
            if self.proc is not None:
                try:
                    self.proc.wait(2.0)
                except subprocess.TimeoutExpired:
                    pass
            self._die()
        self.state = "dead"

    def _send(self, head: dict[str, Any], arrays: Sequence[np.ndarray] = ()) -> bool:
        if not self.ready:
            return False
        try:
            self._drain()
            _write_all(self._w, _frame(head, arrays))
            return True
        except OSError:                    # the worker died: EPIPE
            self._die()
            return False

    def _drain(self) -> None:
        """Read every answer already there (old ones are dropped: nothing waits for them)."""
        while self.ready and select.select([self._r], [], [], 0)[0]:
            if not self._take(time.perf_counter() + 1.0):
                return

    def _take(self, deadline: float) -> bool:
        msg = _read_message(self._r, deadline)
        if msg is None:
            if time.perf_counter() < deadline:      # EOF, not a time-out: the worker is gone
                self._die()
            return False
        seq = int(msg[0]["seq"])
        if not msg[0].get("ok") and "slot" in msg[0]:
            self.lost.add(int(msg[0]["slot"]))    # the worker dropped it: its owner sends it again
        if seq >= self._oldest:
            self._answers[seq] = msg
        return True

    _oldest = 0    # answers to jobs before this one are not kept

    def add_model(self, kind: str, w_hh: np.ndarray, w_ih: np.ndarray) -> int | None:
        """Send a model's recurrent weights (copies of its arrays as they are now) -> its slot."""
        self._slots += 1
        ok = self._send({"op": "model", "slot": self._slots, "kind": kind}, [w_hh, w_ih])
        return self._slots if ok else None

    def add_transformer(self, layers: Sequence[TransformerEncoderLayer], capacity: int,
                        shapes: Sequence[Sequence[tuple[int, ...]]], dtype: np.dtype) -> int | None:
        """Send a transformer's blocks (their configs and weights as they are now) and the shapes
        of their kept forward values (``RECORDED_NAMES``) -> its slot."""
        self._slots += 1
        names = [list(layer.params) for layer in layers]
        head = {"op": "model", "slot": self._slots, "kind": "transformer", "layers": [la.config() for la in layers],
                "names": names, "capacity": capacity, "shapes": [[list(s) for s in b] for b in shapes],
                "dtype": np.dtype(dtype).str}
        ok = self._send(head, [layer.params[k] for layer, ks in zip(layers, names) for k in ks])
        return self._slots if ok else None

    def submit_rows(self, slot: int, rows: tuple[int, ...], arrays: Sequence[np.ndarray]) -> int | None:
        """A job for a slot: its rows (as the slot reads them) and arrays (the gradient first)."""
        self._seq += 1
        self._oldest = self._seq
        self._answers.clear()
        if self._pin and self.ready and _getcpu is not None:
            self._keep_off(_getcpu())
        ok = self._send({"op": "job", "seq": self._seq, "slot": slot, "rows": list(rows)}, arrays)
        if ok:
            self.jobs += 1
        return self._seq if ok else None

    def _keep_off(self, cpu: int) -> None:
        """Let the worker run on any CPU but ``cpu`` (the GUI thread's now): woken on another
        core it starts at once there, and never takes the GUI's."""
        if cpu != self._away and cpu >= 0 and self.pid is not None:
            try:
                os.sched_setaffinity(self.pid, _CPUS - {cpu})
            except (OSError, ValueError):
                pass
            self._away = cpu

    def submit(self, slot: int, rows: tuple[int, int, int, int], dy: np.ndarray,
               before: Sequence[np.ndarray], after: Sequence[np.ndarray]) -> int | None:
        """One window's influence: the rows start..stop-1 are the rows lo..hi-1 the slot holds
        with ``before`` / ``after`` around them (factor by factor) -> the job's number, or None."""
        return self.submit_rows(slot, rows, [dy, *before, *after])

    def wait_answer(self, seq: int, timeout: float = START_TIMEOUT) -> bool:
        """Block until the job's answer is in (tests, benches: the worker's path, whatever the load)."""
        deadline = time.perf_counter() + timeout
        while seq not in self._answers and self.ready and time.perf_counter() < deadline:
            if select.select([self._r], [], [], max(deadline - time.perf_counter(), 0.0))[0]:
                self._take(deadline + 1.0)
        return seq in self._answers

    def collect(self, seq: int, wait: float = WAIT) -> npt.NDArray[np.float64] | None:
        """The job's (n,) result, or None: an error, a dead worker, a job the worker had not
        taken yet (the other core was busy: it is taken back, the caller computes it at once),
        or one it took but did not finish within ``wait`` s."""
        self._drain()
        if seq not in self._answers and self.ready and self._flags[0] < seq:
            self._flags[1] = seq           # taken back, unless the worker took it meanwhile:
            if self._flags[0] < seq:       # (both may compute then; never neither)
                self.taken_back += 1
                return None
        deadline = time.perf_counter() + wait
        while seq not in self._answers and self.ready:
            if not select.select([self._r], [], [], max(deadline - time.perf_counter(), 0.0))[0]:
                return None                # late: its answer is dropped when the next job goes
            if not self._take(deadline + 1.0):
                return None
        msg = self._answers.pop(seq, None)
        if msg is None or not msg[0].get("ok"):
            return None
        self.answered += 1
        self.took = float(msg[0].get("took", 0.0))
        return msg[1][0]


class WorkerJob:
    """A window's influence that the worker may be computing: ``weights()`` gives the worker's
    answer, or computes in-process (``compute``, the same function on the same arrays)."""

    def __init__(self, compute: Callable[[], npt.NDArray[np.float64]], n: int, worker: MemoryWorker | None = None,
                 seq: int | None = None) -> None:
        self._compute, self._worker, self.seq = compute, worker, seq   # seq: the worker's job, None: none
        self._n = n                    # the answer's length (one value per input of the window)
        self._value: npt.NDArray[np.float64] | None = None
        self.source = ""               # "worker" or "in-process" once known (tests read it)

    def weights(self) -> npt.NDArray[np.float64]:
        if self._value is None:
            got = self._worker.collect(self.seq) if self._worker is not None and self.seq is not None else None
            if got is not None and (got.shape != (self._n,) or got.dtype != np.float64):
                got = None                 # not this window's answer: never shown
            self.source = "worker" if got is not None else "in-process"
            self._value = got if got is not None else self._compute()
            self._compute = _done
        return self._value


def _done() -> npt.NDArray[np.float64]:
    raise AssertionError("already computed")


def _blas_threads() -> int:
    """The thread count of the OpenBLAS numpy loaded here (the worker's must be the same: a
    threaded product may add in another order), else what the app asks for."""
    from explorer.runtime import blas_threads
    return blas_threads()


def _grow_pipe(fd: int) -> None:
    """A model's weights or a new window's rows fit in the pipe: writing them does not wait for
    the worker to be scheduled (Linux; elsewhere the system's default)."""
    try:
        import fcntl
    except ImportError:
        return
    for size in (PIPE_BYTES, PIPE_BYTES // 2, PIPE_BYTES // 4):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
            return
        except (AttributeError, OSError):      # (not Linux; more than the system's pipe-max-size)
            continue


def _shared_file() -> Any:
    """A nameless file for the flags: memory only (memfd) where there is one."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("explorer-memory-worker"), "r+b")
    return tempfile.TemporaryFile()


def _cpu_getter() -> Callable[[], int] | None:
    """The C library's sched_getcpu (the calling thread's CPU), where there is one."""
    try:
        getcpu = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError, TypeError):
        return None
    getcpu.restype = ctypes.c_int
    return getcpu


_getcpu = _cpu_getter()
_CPUS: set[int] = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()

_SHARED: MemoryWorker | None = None


def shared_worker() -> MemoryWorker | None:
    """The process-wide worker, started on first use (in the background); None where it is off
    (``EXPLORER_MEMORY_WORKER=0``), cannot start (no fork/exec, one CPU, a frozen app) or died."""
    global _SHARED
    if os.environ.get("EXPLORER_MEMORY_WORKER", "1") == "0" or not hasattr(os, "fork") \
            or getattr(sys, "frozen", False) or (os.cpu_count() or 1) < 2:
        return None                        # (a frozen app's executable is not a Python to run -m with)
    if _SHARED is None:
        _SHARED = MemoryWorker()
        atexit.register(_SHARED.close)
    _SHARED.start()
    return _SHARED if _SHARED.state != "dead" else None


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1")
