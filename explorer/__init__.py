"""CNN & RNN Explorer: see, live, what a convolutional and a recurrent network compute."""

import os as _os

# The engine multiplies small matrices (a 3×3 kernel over 28×28, one LSTM step). Measured
# here, OpenBLAS's thread pool makes those 100–500× slower on a busy 2-core machine
# (0.08 ms vs 24–72 ms for 80×220 @ 220×200), so one BLAS thread is the default unless
# the user chose otherwise. This must run before numpy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
