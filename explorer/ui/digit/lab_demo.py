"""The whole Digit Lab with demo data: ``python -m explorer.ui.digit.lab_demo``."""

from __future__ import annotations

from explorer.ui.digit.demo import demo_model, run, seven
from explorer.ui.digit.lab import DigitLab


def demo() -> DigitLab:
    """The whole Digit Lab on the demo model, with the demo '7' drawn and saliency on."""
    lab = DigitLab(demo_model())
    pts = seven()
    lab.session.begin_stroke(*pts[0])
    for x, y in pts[1:]:
        lab.session.extend_stroke(x, y)
    lab.session.end_stroke()
    lab.saliency_action.setChecked(True)
    lab.resize(1400, 860)
    return lab


if __name__ == "__main__":
    raise SystemExit(run(demo))
