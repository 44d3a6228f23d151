"""The numpy network engine: layers, losses, optimisers, ``Model`` and model files.

Pure numpy: never imports Qt, and reads/writes the disk only in ``engine/io.py``.
dtype policy: the app runs everything in float32 (what pyqtgraph's ImageItem likes);
gradient checks cast layers and inputs to float64 (``layer.astype(np.float64)``).

Allocator note: on glibc, importing the engine raises malloc's trim/mmap thresholds
(``_keep_freed_memory``). Otherwise every ~2 MB im2col buffer is returned to the OS when
freed and page-faulted back on the next step, which measured 2-3x slower training here.
PyTorch avoids the same cost with its caching allocator. Opt out with
``EXPLORER_MALLOC_TUNING=0``.

BLAS threads: the engine's matrix products are small (at most ~100 x 12,544), and with a
second busy thread (the GUI, a training worker, another process) multi-threaded OpenBLAS
spin-waits: a batch-64 training step measured a 10x worse median. So numpy's
loaded OpenBLAS is set to ``EXPLORER_BLAS_THREADS`` or ``OPENBLAS_NUM_THREADS`` threads,
default 1 (``set_blas_threads``), even when numpy was imported before ``explorer``.
"""

import ctypes
import os
import sys

from .activations import ReLU, Sigmoid, Tanh
from .conv import Conv1d, Conv2d, conv2d_naive
from .dense import Dropout, Embedding, Flatten, Linear
from .io import ModelFileError, load_model, save_model
from .layer import Layer
from .losses import cross_entropy, log_softmax, mse, softmax
from .model import LAYER_TYPES, Model, Trace
from .optim import SGD, Adam, clip_grad_norm
from .pool import GlobalMaxPool1d, MaxPool1d, MaxPool2d, maxpool2d_naive
from .recurrent import GRU, LSTM, RNN, LastStep

__all__ = [
    "LAYER_TYPES", "GRU", "LSTM", "RNN", "SGD", "Adam", "Conv1d", "Conv2d", "Dropout",
    "Embedding", "Flatten", "GlobalMaxPool1d", "LastStep", "Layer", "Linear", "MaxPool1d",
    "MaxPool2d", "Model", "ModelFileError", "ReLU", "Sigmoid", "Tanh", "Trace",
    "clip_grad_norm", "conv2d_naive", "cross_entropy", "load_model", "log_softmax",
    "maxpool2d_naive", "mse", "save_model", "set_blas_threads", "softmax",
]


def _keep_freed_memory() -> None:
    if os.environ.get("EXPLORER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MB of freed heap
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: blocks < 32 MB come from the heap


_keep_freed_memory()


def set_blas_threads(n: int) -> bool:
    """Set the thread count of the OpenBLAS that numpy loaded; False if not found."""
    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "openblas" in line and ".so" in line}
        for path in libs:
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                         "openblas_set_num_threads"):
                if hasattr(lib, name):
                    getattr(lib, name)(int(n))
                    return True
    except OSError:
        pass
    return False


# explorer/__init__.py defaults OPENBLAS_NUM_THREADS to 1, but that only works if numpy was
# not imported first; enforce the same number on the already-loaded library.
try:
    set_blas_threads(int(os.environ.get("EXPLORER_BLAS_THREADS")
                         or os.environ.get("OPENBLAS_NUM_THREADS") or "1"))
except ValueError:
    pass
