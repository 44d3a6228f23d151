"""`cnn-rnn-explorer bench --quick --json` runs end to end and reports every row (no timing asserts)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_reports_every_row(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "explorer.cli", "bench", "--quick", "--json"],
                          capture_output=True, text=True, env=env, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    gui = result["gui"]
    for key in ("window_visible_seconds", "rss_after_startup_mb", "draw_latency_median_ms",
                "draw_stroke_125hz_median_ms", "draw_beside_5000pt_stroke_median_ms",
                "stroke_400_moves_125hz_first_ms_per_move", "stroke_400_moves_125hz_last_ms_per_move",
                "keystroke_latency_median_ms", "keystroke_10k_latency_median_ms",
                "keystroke_200_latency_median_ms", "paste_200k_peak_rss_mb", "paste_200k_max_block_ms"):
        assert isinstance(gui[key], float) and gui[key] > 0, key
    # the latency rows end when a panel has painted: they name the one that painted last
    digit_panels = {"canvas", "network input", "prediction"}
    assert gui["draw_last_panel"] in digit_panels or "·" in gui["draw_last_panel"], gui["draw_last_panel"]
    for label in ("keystroke", "keystroke_200", "keystroke_10k"):
        assert gui[f"{label}_last_panel"] in {"editor", "strip", "heatmap", "trajectory", "predictions",
                                              "memory", "gates", "unrolled"}, label
    assert result["engine"]["lstm128_1000_steps_ms"] > 0
    assert result["engine"]["eraser_move_small_drawing_ms"] > 0
    assert result["engine"]["eraser_move_5000pt_drawing_ms"] > 0
    if result["torch"] is not None:
        assert result["torch_1_thread"]["threads"] == 1.0
        assert result["ratios"]["train_throughput_vs_torch_1_thread"] > 0
