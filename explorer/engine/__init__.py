"""The numpy network engine: layers, losses, optimisers, ``Model`` and model files.

Pure numpy: never imports Qt, and reads/writes the disk only in ``engine/io.py``.
dtype policy: the app runs everything in float32 (what pyqtgraph's ImageItem likes);
gradient checks cast layers and inputs to float64 (``layer.astype(np.float64)``).

Allocator note: on glibc, importing the engine raises malloc's trim/mmap thresholds
(``_keep_freed_memory``). Otherwise every ~2 MB im2col buffer is returned to the OS when
freed and page-faulted back on the next step, which measured 2-3x slower training here.
PyTorch avoids the same cost with its caching allocator. Opt out with
``EXPLORER_MALLOC_TUNING=0``.
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
    "maxpool2d_naive", "mse", "save_model", "softmax",
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
