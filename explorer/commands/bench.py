"""``cnn-rnn-explorer bench``: the performance table (README, "How fast"), measured in one run.

Engine rows time our numpy engine and, when PyTorch is importable, the same work in
PyTorch on the same machine in the same run. GUI rows drive the real window offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from explorer.engine import LSTM, Adam, cross_entropy
from explorer.training.digits import build_model


def median_ms(fn: Callable[[], Any], repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def engine_rows(quick: bool) -> dict[str, float]:
    rng = np.random.default_rng(0)
    model = build_model("cnn", seed=0)   # the shipped digit architecture, untrained
    model.eval()
    x1 = rng.random((1, 1, 28, 28), dtype=np.float32)
    xb = rng.random((64, 1, 28, 28), dtype=np.float32)
    yb: np.ndarray = rng.integers(0, 10, 64)
    opt = Adam(model.parameters(), lr=1e-3)

    def train_step() -> None:
        model.zero_grad()
        loss, d = cross_entropy(model.forward(xb), yb)
        model.backward(d, input_grad=False)       # as PyTorch: the input needs no gradient
        opt.step(model.gradients())

    model.train()
    rows = {"cnn_forward_batch1_ms": median_ms(lambda: model.predict(x1), 50 if quick else 500)}
    rows["cnn_train_steps_per_s_batch64"] = 1e3 / median_ms(train_step, 10 if quick else 50)
    lstm = LSTM(64, 128, rng=rng)
    xs = rng.standard_normal((1, 1000, 64)).astype(np.float32)
    rows["lstm128_1000_steps_ms"] = median_ms(lambda: lstm.run(xs), 3 if quick else 31, warmup=2)
    return rows


def eraser_rows(quick: bool) -> dict[str, float]:
    """An eraser drawn across a small drawing and across a 5,000-point one: median ms per
    move that cut ink (the network input kept up to date, as the Digit Lab does)."""
    from explorer.data.preprocess import StrokeRaster
    from explorer.session.drawing import Stroke, densify, erase_strokes

    def spiral(n: int, radius: float) -> np.ndarray:      # pen points ~1.5 units apart
        s = np.arange(n) * 1.5
        b = 12 / (2 * np.pi)
        th = np.sqrt(2 * s / b + 1e-9)
        r = b * th * radius / (b * th).max()
        return np.stack([150 + r * np.cos(th), 150 + r * np.sin(th)], 1).astype(np.float32)

    def per_move(pts: np.ndarray) -> float:
        state: tuple[Stroke, ...] = (Stroke(densify(pts)),)
        raster = StrokeRaster()
        raster.update([s.points for s in state])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        path = np.linspace(lo, hi, 60 if quick else 200).astype(np.float32)
        times = []
        for i in range(1, len(path)):
            t0 = time.perf_counter()
            cut = erase_strokes(state, path[i - 1:i + 1], 6.0)
            raster.update([s.points for s in cut])
            if cut != state:
                times.append(time.perf_counter() - t0)
            state = cut
        return float(np.median(times or [0.0]) * 1e3)

    return {"eraser_move_small_drawing_ms": per_move(spiral(150, 25)),
            "eraser_move_5000pt_drawing_ms": per_move(spiral(5000, 140))}


def torch_rows(quick: bool, threads: int | None = None) -> dict[str, float] | None:
    """The engine rows' work in PyTorch, in a child process: at PyTorch's own default thread
    count (the environment as it was before ``configure_process()`` pinned our BLAS to one
    thread, which would also pin PyTorch's OpenMP pool), or at ``threads``. None without torch."""
    import subprocess

    from explorer.runtime import unconfigured_environ
    env = unconfigured_environ()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    code = ("import json; from explorer.commands.bench import torch_child; "
            f"print(json.dumps(torch_child({quick!r}, {threads!r})))")
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             timeout=900, check=True).stdout
        rows = json.loads(out.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as exc:
        print(f"bench: the PyTorch rows could not be measured: {exc}", file=sys.stderr)
        return None
    return rows if isinstance(rows, dict) else None


def torch_child(quick: bool, threads: int | None) -> dict[str, float] | None:
    """Run in the child process of ``torch_rows``."""
    try:
        import torch
    except ImportError:
        return None
    if threads is not None:
        torch.set_num_threads(threads)
    return _torch_rows(torch, quick)


def _torch_rows(torch: Any, quick: bool) -> dict[str, float]:
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    x1 = torch.rand(1, 1, 28, 28)
    xb = torch.rand(64, 1, 28, 28)
    yb = torch.randint(0, 10, (64,))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def fwd() -> None:
        with torch.no_grad():
            net(x1)

    def train_step() -> None:
        opt.zero_grad()
        loss_fn(net(xb), yb).backward()
        opt.step()

    rows = {"cnn_forward_batch1_ms": median_ms(fwd, 50 if quick else 500),
            "cnn_train_steps_per_s_batch64": 1e3 / median_ms(train_step, 10 if quick else 50)}
    lstm = nn.LSTM(64, 128, batch_first=True)
    xs = torch.randn(1, 1000, 64)

    def run_lstm() -> None:
        with torch.no_grad():
            lstm(xs)

    rows["lstm128_1000_steps_ms"] = median_ms(run_lstm, 3 if quick else 31, warmup=2)
    rows["threads"] = float(torch.get_num_threads())
    return rows


def gui_rows(quick: bool) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows: dict[str, Any] = {}
    try:
        from explorer.ui.shell import bench as ui_bench
    except ImportError as exc:  # the GUI part is optional for a headless engine install
        return {"error": f"GUI benchmark unavailable: {exc}"}
    rows.update(ui_bench.measure_all(quick=quick))
    return rows


def run(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    result: dict[str, Any] = {"engine": engine_rows(quick)}
    result["engine"].update(eraser_rows(quick))
    result["torch"] = torch_rows(quick)
    result["torch_1_thread"] = torch_rows(quick, threads=1)
    if result["torch"]:
        e, t, t1 = result["engine"], result["torch"], result["torch_1_thread"] or {}
        result["ratios"] = {
            "train_throughput_vs_torch": e["cnn_train_steps_per_s_batch64"] / t["cnn_train_steps_per_s_batch64"],
            "forward_time_vs_torch": e["cnn_forward_batch1_ms"] / t["cnn_forward_batch1_ms"],
            "lstm_time_vs_torch": e["lstm128_1000_steps_ms"] / t["lstm128_1000_steps_ms"],
            "torch_default_threads": t["threads"],
        }
        if t1:
            result["ratios"]["train_throughput_vs_torch_1_thread"] = (
                e["cnn_train_steps_per_s_batch64"] / t1["cnn_train_steps_per_s_batch64"])
            result["ratios"]["lstm_time_vs_torch_1_thread"] = (
                e["lstm128_1000_steps_ms"] / t1["lstm128_1000_steps_ms"])
    result["gui"] = gui_rows(quick)
    if getattr(args, "soak", False):
        from explorer.ui.shell.bench import soak_draw
        result["gui"].update(soak_draw())
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    return 0


BUDGETS = {
    "cnn_forward_batch1_ms": ("≤ 0.3 ms", lambda v: v <= 0.3),
    "draw_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "draw_latency_pen_page_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "keystroke_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "keystroke_200_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "keystroke_gru_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "keystroke_rnn_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "paste_100k_seconds": ("≤ 2 s", lambda v: v <= 2),
    "paste_max_block_ms": ("≤ 100 ms", lambda v: v <= 100),
    "soak_rss_growth_mb": ("flat", lambda v: v <= 20),
    "train_throughput_vs_torch": ("≥ 1.0×", lambda v: v >= 1.0),
    "lstm_time_vs_torch": ("≤ 1.5×", lambda v: v <= 1.5),
    "keystroke_10k_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "keystroke_transformer_latency_median_ms": ("≤ 8 ms", lambda v: v <= 8),
    "window_visible_seconds": ("≤ 1 s", lambda v: v <= 1.0),
    "paste_2000k_peak_rss_mb": ("≤ 300 MB", lambda v: v <= 300),
    "paste_2000k_max_block_ms": ("≤ 100 ms", lambda v: v <= 100),
    "draw_beside_5000pt_stroke_median_ms": ("≤ 16 ms", lambda v: v <= 16),
    "stroke_3000_moves_125hz_last_ms_per_move": ("≤ 10 ms", lambda v: v <= 10),
}


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'measure':44s} {'ours':>12s} {'PyTorch':>12s}  budget", "-" * 84]
    torch_r = result.get("torch") or {}
    torch_1 = result.get("torch_1_thread") or {}
    for section in ("engine", "ratios", "gui"):
        for key, value in (result.get(section) or {}).items():
            if not isinstance(value, (int, float)):
                lines.append(f"{key:44s} {value}")
                continue
            other = torch_r.get(key) if section == "engine" else None
            budget, ok = BUDGETS.get(key, ("", None))
            mark = "" if ok is None else ("  ok" if ok(value) else "  OVER")
            other_s = f"{other:12.3f}" if isinstance(other, (int, float)) else f"{'':12s}"
            lines.append(f"{key:44s} {value:12.3f} {other_s}  {budget}{mark}")
    for key, value in torch_1.items():
        if key != "threads" and isinstance(value, (int, float)):
            lines.append(f"{'PyTorch at 1 thread: ' + key:44s} {'':12s} {value:12.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace(json="--json" in sys.argv, quick="--quick" in sys.argv)))
