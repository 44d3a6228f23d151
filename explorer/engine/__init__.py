"""The numpy network engine: layers, losses, optimisers, ``Model`` and model files.

Pure numpy: never imports Qt, and reads/writes the disk only in ``engine/io.py``.
dtype policy: the app runs everything in float32 (what pyqtgraph's ImageItem likes);
gradient checks cast layers and inputs to float64 (``layer.astype(np.float64)``).

Process-wide settings (BLAS threads, the allocator) are not made here: the entry points
call ``explorer.runtime.configure_process()``.
"""

from .activations import ReLU, Sigmoid, Tanh
from .attention import KVCache, TransformerEncoderLayer
from .conv import Conv1d, Conv2d, conv2d_naive
from .dense import Dropout, Embedding, Flatten, Linear
from .io import ModelFileError, load_model, save_model
from .layer import Layer
from .losses import cross_entropy, log_softmax, mse, softmax
from .model import LAYER_TYPES, Model, Trace
from .norm import LayerNorm, LearnedPositions
from .optim import SGD, Adam, clip_grad_norm
from .pool import GlobalMaxPool1d, MaxPool1d, MaxPool2d, maxpool2d_naive
from .recurrent import GRU, LSTM, RNN, LastStep, RecurrentLayer

__all__ = [
    "LAYER_TYPES", "GRU", "LSTM", "RNN", "SGD", "RecurrentLayer", "Adam", "Conv1d", "Conv2d", "Dropout",
    "Embedding", "Flatten", "GlobalMaxPool1d", "KVCache", "LastStep", "Layer", "LayerNorm",
    "LearnedPositions", "Linear", "MaxPool1d", "TransformerEncoderLayer",
    "MaxPool2d", "Model", "ModelFileError", "ReLU", "Sigmoid", "Tanh", "Trace",
    "clip_grad_norm", "conv2d_naive", "cross_entropy", "load_model", "log_softmax",
    "maxpool2d_naive", "mse", "save_model", "softmax",
]
