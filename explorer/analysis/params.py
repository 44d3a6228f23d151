"""Parameter counts of a fully connected, a convolutional and a recurrent first layer on the
same input, and what each would cost without weight sharing.

The textbook count: 32 kernels of 3×3 on a one-channel image hold 32·1·3·3 = **288**
weights (+ 32 biases), however large the image, because the same kernel is used at every
position. A fully connected layer with 32 units needs one weight per pixel per unit
(28·28·32 = 25,088). An RNN reading the image row by row reuses the same W_ih and W_hh at
every one of the 28 steps. All counts follow PyTorch's layers (two biases per RNN gate).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from explorer.errors import ExplorerError

CELL_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


class ParamSizeError(ExplorerError, ValueError):
    """A size that cannot describe a layer (e.g. a kernel larger than the image)."""


@dataclass(frozen=True)
class Sizes:
    """The editable sizes: an H×W image with C channels, N units / kernels / hidden units."""

    height: int = 28
    width: int = 28
    channels: int = 1
    units: int = 32        # fully connected units = conv kernels = hidden units
    kernel: int = 3
    cell: str = "RNN"      # RNN | GRU | LSTM

    def check(self) -> Sizes:
        for name in ("height", "width", "channels", "units", "kernel"):
            if int(getattr(self, name)) < 1:
                raise ParamSizeError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.kernel > min(self.height, self.width):
            raise ParamSizeError(f"a {self.kernel}×{self.kernel} kernel does not fit in a "
                                 f"{self.height}×{self.width} image")
        if self.cell not in CELL_GATES:
            raise ParamSizeError(f"cell must be one of {', '.join(CELL_GATES)}, got {self.cell!r}")
        return self


@dataclass(frozen=True)
class Row:
    """One network's first layer: its formula, counts, and the count without sharing."""

    network: str
    layer: str
    formula: str
    weights: int
    biases: int
    shared_over: str
    uses: int              # how many places (positions / time steps) reuse the weights
    unshared: int          # weights if every place had its own copy

    @property
    def total(self) -> int:
        return self.weights + self.biases

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "total": self.total}


def linear_count(n_in: int, n_out: int, bias: bool = True) -> tuple[int, int]:
    """Linear(n_in, n_out) -> (weights, biases) = (n_in·n_out, n_out)."""
    return n_in * n_out, n_out if bias else 0


def conv2d_count(c_in: int, c_out: int, k: int, bias: bool = True) -> tuple[int, int]:
    """Conv2d(c_in, c_out, k×k) -> (c_out·c_in·k·k, c_out)."""
    return c_out * c_in * k * k, c_out if bias else 0


def recurrent_count(input_size: int, hidden: int, cell: str = "RNN", bias: bool = True
                    ) -> tuple[int, int]:
    """RNN/GRU/LSTM(input, hidden) -> (G·H·(D + H), 2·G·H); G = 1, 3, 4 gates."""
    g = CELL_GATES[cell]
    return g * hidden * (input_size + hidden), 2 * g * hidden if bias else 0


def compare_counts(sizes: Sizes | None = None) -> list[Row]:
    """Fully connected vs CNN vs RNN (reading rows) on the same H×W×C input, N units each."""
    s = (sizes or Sizes()).check()
    h, w, c, n, k = s.height, s.width, s.channels, s.units, s.kernel
    fc_w, fc_b = linear_count(h * w * c, n)
    cv_w, cv_b = conv2d_count(c, n, k)
    positions = (h - k + 1) * (w - k + 1)
    rn_w, rn_b = recurrent_count(w * c, n, s.cell)
    g = CELL_GATES[s.cell]
    gates = "" if g == 1 else f"{g}·"
    return [
        Row("Fully connected", f"Linear({h * w * c}, {n})", f"{h}·{w}·{c} inputs × {n} units",
            fc_w, fc_b, "nothing: one weight per pixel per unit", 1, fc_w),
        Row("CNN", f"Conv2d({c}, {n}, {k}×{k})", f"{n} kernels × {c}·{k}·{k}",
            cv_w, cv_b, f"space: {h - k + 1}×{w - k + 1} = {positions} positions", positions,
            cv_w * positions),
        Row("RNN, row by row" if s.cell == "RNN" else f"{s.cell}, row by row", f"{s.cell}({w * c}, {n})",
            f"{gates}{n}·({w * c} + {n})  [W_ih + W_hh]", rn_w, rn_b,
            f"time: {h} rows = {h} steps", h, rn_w * h),
    ]


def textbook_example() -> int:
    """The count the table must reproduce: 32 kernels of 3×3 on one channel -> 288 weights."""
    return conv2d_count(1, 32, 3)[0]
