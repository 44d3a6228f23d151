"""Compare lab, "Which tolerates a shift?" (issue 13): both networks under the same sweep, in a worker."""

import numpy as np

from explorer.session.compare import DigitPair
from explorer.training.digits import build_model, predict_proba
from explorer.ui.compare.tolerance import TolerancePanel


def test_tolerance_panel_runs_both_networks_in_a_worker(qtbot):
    pair = DigitPair(build_model("cnn", 1).eval(), build_model("rowrnn", 2).eval())
    rng = np.random.default_rng(0)
    xs = (rng.random((12, 28, 28)) > 0.8).astype(np.float32)
    ys = predict_proba(pair.cnn, xs[:, None], "cnn").argmax(1)            # the CNN is right at identity
    drawing = xs[0][None]
    panel = TolerancePanel(pair, lambda: drawing, data=(xs, ys))
    qtbot.addWidget(panel)
    panel.transform.setCurrentIndex(panel.transform.findData("shift-y"))
    with qtbot.waitSignal(panel.finished, timeout=60000):
        panel.run_button.click()
    r = panel.result
    i = list(r["values"]).index(0.0)
    assert r["cnn"][i] == 1.0
    expected_rnn = (predict_proba(pair.rnn, xs[:, None], "rowrnn").argmax(1) == ys).mean()
    assert r["rnn"][i] == expected_rnn
    p_cnn = predict_proba(pair.cnn, xs[:1, None], "cnn")[0]
    assert r["one_cnn"][i] == p_cnn.max()
    assert len(panel.curves["acc", "Row-RNN"].getData()[0]) == len(r["values"]) == 17
    assert "held-out" in panel.status.text()
    panel.shutdown()
