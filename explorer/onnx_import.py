"""ONNX -> our Model: open a network trained in PyTorch, Keras (tf2onnx), ... in the explorer.

Supported: a *chain* of Conv (1-D, 2-D), Relu, Tanh, Sigmoid, MaxPool, Flatten / Reshape,
Gemm, MatMul (+ Add), Gather (an embedding), LSTM, GRU, RNN (one forward direction, zero
initial state), plus the layout plumbing exporters put around them (Transpose, Squeeze,
Unsqueeze, Identity, Dropout, and Shape/Expand sub-graphs that only build zero states).
Anything else raises ``OnnxImportError`` naming the first unsupported operator.

Self-attention (a ``TransformerEncoderLayer``) is refused up front with its own message:
its graph is a web of branches (queries, keys and values, residual additions, a causal mask
built from Shape/Trilu/Where), not a chain, and what the exporter emits for it changes with
the PyTorch version. A PyTorch transformer opens through the model file instead: its
``state_dict()`` saved with ``np.savez`` beside an ``arch`` naming ``TransformerEncoderLayer``.

Layouts: the converter tracks, for the tensor flowing along the chain, which axis of *our*
(batch-first) tensor each ONNX axis is, so the transposes PyTorch wraps around an ONNX
LSTM (which reads time-major (T, B, F) and writes (T, dirs, B, H)) cancel out.

Gate orders: ONNX LSTM stacks i, o, f, c; PyTorch (ours) i, f, g, o. ONNX GRU stacks z, r, h;
ours r, z, n — and only ``linear_before_reset=1`` is PyTorch's GRU. ONNX biases ``B`` are
``[Wb; Rb]`` = ``bias_ih`` then ``bias_hh``.

``onnx`` is an optional extra (``pip install -e ".[onnx]"``), imported only when needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import numpy as np

from explorer.engine import (
    GRU,
    LSTM,
    RNN,
    Conv1d,
    Conv2d,
    Embedding,
    Flatten,
    LastStep,
    Layer,
    Linear,
    MaxPool1d,
    MaxPool2d,
    Model,
    RecurrentLayer,
    ReLU,
    Sigmoid,
    Tanh,
)
from explorer.errors import ExplorerError

LSTM_ORDER = [0, 2, 3, 1]      # ONNX blocks (i, o, f, c) -> ours (i, f, g=c, o)
GRU_ORDER = [1, 0, 2]          # ONNX blocks (z, r, h) -> ours (r, z, n=h)
PASS = {"Identity", "Dropout"}
ACTIVATIONS = {"Relu": ReLU, "Tanh": Tanh, "Sigmoid": Sigmoid}


class OnnxImportError(ExplorerError, ValueError):
    """An ONNX file the explorer cannot turn into a model (one sentence, names the operator)."""


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise OnnxImportError("opening ONNX files needs the optional 'onnx' package: "
                              "pip install 'cnn-rnn-explorer[onnx]' (or pip install onnx)") from None
    return onnx


def _blocks(w: np.ndarray, order: list[int], axis: int = 0) -> np.ndarray:
    parts = np.split(w, len(order), axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


class _Converter:
    def __init__(self, graph: Any, name: str) -> None:
        from onnx import numpy_helper
        self.name = name
        self.graph = graph
        self.const: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.producer: dict[str, Any] = {}
        self.users: dict[str, list[Any]] = {}
        for node in graph.node:
            for out in node.output:
                self.producer[out] = node
            for inp in node.input:
                self.users.setdefault(inp, []).append(node)
            if node.op_type == "Constant":
                self.const[node.output[0]] = self._constant(node)
        self.layers: list[Any] = []

    # -- helpers -----------------------------------------------------------------------------
    def _constant(self, node: Any) -> np.ndarray:
        from onnx import helper, numpy_helper
        for a in node.attribute:
            v = helper.get_attribute_value(a)
            if a.name == "value":
                return numpy_helper.to_array(v)
            if a.name in ("value_float", "value_int", "value_floats", "value_ints"):
                return np.asarray(v)
        return np.zeros(0)

    def fail(self, node: Any, why: str = "") -> OnnxImportError:
        what = f"operator {node.op_type} ({node.name or node.output[0]})"
        if why:
            return OnnxImportError(f"{self.name}: {what}: {why}")
        return OnnxImportError(f"{self.name}: unsupported {what} — the explorer reads chains of Conv, "
                               "Relu, Tanh, Sigmoid, MaxPool, Flatten/Reshape, Gemm, MatMul+Add, Gather "
                               "(embedding), LSTM, GRU and RNN")

    @staticmethod
    def attrs(node: Any) -> dict[str, Any]:
        from onnx import helper
        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def value(self, node: Any, name: str) -> np.ndarray:
        if name not in self.const:
            raise self.fail(node, f"input {name!r} must be a constant (weights), not computed")
        return self.const[name]

    def is_zero_state(self, name: str) -> bool:
        if not name:
            return True
        if name in self.const:
            return not np.any(self.const[name])
        node = self.producer.get(name)
        if node is not None and node.op_type in ("Expand", "Identity", "Cast"):
            return self.is_zero_state(node.input[0])
        if node is not None and node.op_type == "ConstantOfShape":      # value defaults to 0
            return not np.any(self._constant(node))
        return False

    def next_node(self, tensor: str) -> Any | None:
        users = [n for n in self.users.get(tensor, []) if n.op_type != "Shape"]
        if len(users) > 1:
            raise self.fail(users[1], "the graph branches here; only chains of layers are supported")
        return users[0] if users else None

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> Model:
        inputs = [i for i in self.graph.input if i.name not in self.const]
        if len(inputs) != 1:
            raise OnnxImportError(f"{self.name}: the model must have exactly one input, it has {len(inputs)}")
        rank = len(inputs[0].type.tensor_type.shape.dim)
        cur, axes = inputs[0].name, list(range(rank))     # ONNX axis k is our axis axes[k]
        outputs = {o.name for o in self.graph.output}
        while cur not in outputs:
            node = self.next_node(cur)
            if node is None:
                raise OnnxImportError(f"{self.name}: the chain stops at {cur!r} before the model's output")
            cur, axes = self.step(node, cur, axes)
        if any(a == "d" for a in axes) or axes != sorted(axes):
            raise OnnxImportError(f"{self.name}: the output's axes are in an order the explorer does not use "
                                  "(it expects batch first, features last)")
        if not self.layers:
            raise OnnxImportError(f"{self.name}: the graph has no layers")
        return Model(self.layers, meta={"name": Path(self.name).stem, "source": "onnx"})

    def step(self, node: Any, cur: str, axes: list[Any]) -> tuple[str, list[Any]]:
        op, a, out = node.op_type, self.attrs(node), node.output[0]
        canonical = [x for x in axes if x != "d"]
        if op in PASS:
            return out, axes
        if op in ACTIVATIONS:
            self.layers.append(ACTIVATIONS[op]())
            return out, axes
        if op == "Transpose":
            perm = a.get("perm", list(range(len(axes)))[::-1])
            return out, [axes[p] for p in perm]
        if op in ("Squeeze", "Unsqueeze"):
            ax = a.get("axes")
            if ax is None and len(node.input) > 1:
                ax = self.value(node, node.input[1]).tolist()
            if op == "Squeeze":
                ax = [x % len(axes) for x in (ax if ax is not None else [i for i, v in enumerate(axes) if v == "d"])]
                if any(axes[x] != "d" for x in ax):
                    raise self.fail(node, "squeezes an axis that is not a size-1 axis added by a layer")
                return out, [v for i, v in enumerate(axes) if i not in ax]
            if ax is None:
                raise self.fail(node, "has no axes to unsqueeze")
            new = list(axes)
            for x in sorted(int(v) % (len(axes) + len(ax)) for v in ax):
                new.insert(x, "d")
            return out, new
        if op in ("Reshape", "Flatten"):
            return self.reshape(node, axes, canonical)
        if op in ("Conv", "MaxPool"):
            if axes != list(range(len(axes))):
                raise self.fail(node, "its input is not batch, channels, positions")
            self.layers.append(self.conv(node, a) if op == "Conv" else self.pool(node, a))
            return out, axes
        if op == "Gemm":
            if axes != [0, 1]:
                raise self.fail(node, "needs a (batch, features) input")
            if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                raise self.fail(node, "only transA=0, alpha=1, beta=1 is supported")
            w = self.value(node, node.input[1])
            w = w if a.get("transB", 0) else w.T                # ours: (out, in)
            b = self.value(node, node.input[2]) if len(node.input) > 2 and node.input[2] else None
            return out, self.linear(w, b, axes)
        if op == "MatMul":
            return self.matmul(node, cur, axes, canonical)
        if op == "Gather" and node.input[0] == cur:           # x[:, -1]: the last time step
            idx = self.const.get(node.input[1])
            k = a.get("axis", 0) % len(axes)
            if idx is None or idx.shape != () or int(idx) != -1 or axes[k] != 1 or len(canonical) != 3:
                raise self.fail(node, "only taking the last time step (x[:, -1]) is supported")
            self.layers.append(LastStep())
            return out, [x if x in ("d", 0) else x - 1 for i, x in enumerate(axes) if i != k]
        if op == "Gather":
            if node.input[1] != cur or a.get("axis", 0) != 0:
                raise self.fail(node, "only an embedding lookup (constant table, ids) is supported")
            table = self.value(node, node.input[0])
            emb = Embedding(*table.shape)
            emb.params["weight"][...] = table
            self.layers.append(emb)
            return out, axes + [len(canonical)]
        if op in ("LSTM", "GRU", "RNN"):
            return self.recurrent(node, cur, a, axes)
        raise self.fail(node)

    def reshape(self, node: Any, axes: list[Any], canonical: list[int]) -> tuple[str, list[Any]]:
        out = node.output[0]
        if node.op_type == "Flatten":
            if self.attrs(node).get("axis", 1) != 1:
                raise self.fail(node, "only Flatten from axis 1 (keep the batch) is supported")
            target: int | None = 2
        else:
            shape = self.const.get(node.input[1])
            target = len(shape) if shape is not None else self.rank_of(out)
        if target is None:
            raise self.fail(node, "its output shape cannot be determined")
        if target == len(axes):
            return out, axes
        if "d" in axes and target == len(axes) - 1:
            return out, [x for x in axes if x != "d"] if axes.count("d") == 1 else axes
        if target == 2 and axes == list(range(len(axes))) and len(axes) >= 3:
            self.layers.append(Flatten())
            return out, [0, 1]
        raise self.fail(node, "only a flatten to (batch, features) or dropping a size-1 axis is supported")

    def rank_of(self, name: str) -> int | None:
        for vi in list(self.graph.value_info) + list(self.graph.output):
            if vi.name == name and vi.type.tensor_type.HasField("shape"):
                return len(vi.type.tensor_type.shape.dim)
        return None

    def linear(self, w: np.ndarray, b: np.ndarray | None, axes: list[Any]) -> list[Any]:
        layer = Linear(w.shape[1], w.shape[0], bias=b is not None)
        layer.params["weight"][...] = w
        if b is not None:
            layer.params["bias"][...] = np.broadcast_to(b, (w.shape[0],))
        self.layers.append(layer)
        return axes

    def matmul(self, node: Any, cur: str, axes: list[Any], canonical: list[int]) -> tuple[str, list[Any]]:
        if node.input[0] != cur or axes[-1] != max(canonical):
            raise self.fail(node, "only x @ W with the features on the last axis is supported")
        w = self.value(node, node.input[1])
        if w.ndim != 2:
            raise self.fail(node, "the weight must be a matrix")
        out, bias = node.output[0], None
        nxt = self.next_node(out)
        if nxt is not None and nxt.op_type == "Add":
            other = [i for i in nxt.input if i != out]
            if len(other) == 1 and other[0] in self.const and self.const[other[0]].size == w.shape[1]:
                bias, out = self.const[other[0]].reshape(-1), nxt.output[0]
        return out, self.linear(w.T, bias, axes)

    def conv(self, node: Any, a: dict[str, Any]) -> Any:
        w = self.value(node, node.input[1])
        b = self.value(node, node.input[2]) if len(node.input) > 2 and node.input[2] else None
        k = w.ndim - 2
        pads, strides = a.get("pads", [0] * 2 * k), a.get("strides", [1] * k)
        if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1] * k)):
            raise self.fail(node, "grouped or dilated convolutions are not supported")
        if list(pads[:k]) != list(pads[k:]) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise self.fail(node, "only symmetric explicit padding is supported")
        layer: Layer
        if k == 2:
            layer = Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=tuple(strides),
                           padding=tuple(pads[:2]), bias=b is not None)
        elif k == 1:
            layer = Conv1d(w.shape[1], w.shape[0], w.shape[2], stride=strides[0], padding=pads[0], bias=b is not None)
        else:
            raise self.fail(node, f"{k}-D convolutions are not supported")
        layer.params["weight"][...] = w
        if b is not None:
            layer.params["bias"][...] = b
        return layer

    def pool(self, node: Any, a: dict[str, Any]) -> Any:
        ks = list(a["kernel_shape"])
        strides = list(a.get("strides", ks))
        if any(a.get("pads", [0])) or a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1])):
            raise self.fail(node, "only unpadded, floor-mode max pooling is supported")
        if len(ks) == 2:
            return MaxPool2d(tuple(ks), tuple(strides))
        if len(ks) == 1:
            return MaxPool1d(ks[0], strides[0])
        raise self.fail(node, f"{len(ks)}-D pooling is not supported")

    def recurrent(self, node: Any, cur: str, a: dict[str, Any], axes: list[Any]) -> tuple[str, list[Any]]:
        op, layout = node.op_type, a.get("layout", 0)
        ins = list(node.input) + [""] * 8
        if ins[0] != cur or axes != ([1, 0, 2] if layout == 0 else [0, 1, 2]):
            raise self.fail(node, "its input is not (time, batch, features) as ONNX expects")
        direction = a.get("direction", b"forward")
        if direction not in (b"forward", "forward"):
            raise self.fail(node, "only forward (not bidirectional or reverse) recurrent layers are supported")
        if ins[4] or "clip" in a or a.get("input_forget", 0) or (op == "LSTM" and ins[7]):
            raise self.fail(node, "sequence lengths, clipping, coupled gates and peepholes are not supported")
        if not all(self.is_zero_state(n) for n in (ins[5], ins[6] if op == "LSTM" else "")):
            raise self.fail(node, "only a zero initial state is supported")
        acts = [x.decode() if isinstance(x, bytes) else x for x in a.get("activations", [])]
        w, r = self.value(node, ins[1])[0], self.value(node, ins[2])[0]
        bias = self.value(node, ins[3])[0] if ins[3] else np.zeros(2 * w.shape[0], w.dtype)
        hidden = int(a.get("hidden_size", r.shape[1]))
        if op == "LSTM":
            if acts and acts != ["Sigmoid", "Tanh", "Tanh"]:
                raise self.fail(node, f"activations {acts} differ from PyTorch's LSTM")
            layer, order = cast(RecurrentLayer, LSTM(w.shape[1], hidden)), LSTM_ORDER
        elif op == "GRU":
            if a.get("linear_before_reset", 0) != 1:
                raise self.fail(node, "linear_before_reset=0 is a different GRU from PyTorch's (export from PyTorch gives 1)")
            if acts and acts != ["Sigmoid", "Tanh"]:
                raise self.fail(node, f"activations {acts} differ from PyTorch's GRU")
            layer, order = GRU(w.shape[1], hidden), GRU_ORDER
        else:
            if acts and acts[0] not in ("Tanh", "Relu"):
                raise self.fail(node, f"activation {acts[0]} is not tanh or relu")
            layer, order = RNN(w.shape[1], hidden, nonlinearity=(acts[0].lower() if acts else "tanh")), [0]
        p = layer.params
        p["weight_ih_l0"][...] = _blocks(w, order)
        p["weight_hh_l0"][...] = _blocks(r, order)
        wb, rb = np.split(bias, 2)
        p["bias_ih_l0"][...] = _blocks(wb, order)
        p["bias_hh_l0"][...] = _blocks(rb, order)
        self.layers.append(layer)
        y, y_h = node.output[0], (node.output[1] if len(node.output) > 1 else "")
        used_y = y and self.next_node(y) is not None
        used_h = y_h and self.next_node(y_h) is not None
        if used_y and used_h or (len(node.output) > 2 and node.output[2] and self.next_node(node.output[2])):
            raise self.fail(node, "only one of its outputs (Y or Y_h) may be used")
        if used_h:
            self.layers.append(LastStep())
            return y_h, (["d", 0, 1] if layout == 0 else [0, "d", 1])
        return y, ([1, "d", 0, 2] if layout == 0 else [0, 1, "d", 2])


def _refuse_attention(graph: Any, name: str) -> None:
    """Raise OnnxImportError if the graph computes self-attention: a Softmax over the product
    of two computed tensors (scores = Q K^T), or a LayerNormalization."""
    const = {t.name for t in graph.initializer}
    const |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    products = [n for n in graph.node if n.op_type == "MatMul"
                and not any(i in const for i in n.input)]
    ops = {n.op_type for n in graph.node}
    if ("Softmax" in ops and products) or "LayerNormalization" in ops \
            or "Attention" in ops or "MultiHeadAttention" in ops:
        where = products[0].name if products else next(
            n.name for n in graph.node if n.op_type in ("LayerNormalization", "Attention",
                                                         "MultiHeadAttention"))
        raise OnnxImportError(
            f"{name}: a transformer block (self-attention, at node {where!r}) is not supported "
            "by the ONNX import; open it as a model file instead: np.savez(FILE, arch=..., "
            "**state_dict) with a 'TransformerEncoderLayer' entry in arch (PyTorch's names)")


def convert_onnx(path: str | os.PathLike[str]) -> Model:
    """An ONNX file -> Model (float32, eval mode); OnnxImportError with one sentence otherwise."""
    onnx = _onnx()
    name = str(path)
    if not os.path.isfile(path):
        raise OnnxImportError(f"{name}: no such file")
    try:
        proto = onnx.load(name)
    except Exception as exc:  # noqa: BLE001 - protobuf raises many kinds
        raise OnnxImportError(f"{name}: not a readable ONNX file ({type(exc).__name__})") from None
    try:
        proto = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - shapes only help with Reshape; go on without them
        pass
    _refuse_attention(proto.graph, name)
    model = _Converter(proto.graph, name).run()
    model.meta["producer"] = f"{proto.producer_name} {proto.producer_version}".strip()
    return model.eval()


def load_any_model(path: str | os.PathLike[str]) -> Model:
    """A model file (.npz) or an ONNX file (.onnx), by suffix; ExplorerError subclasses on failure."""
    if str(path).lower().endswith(".onnx"):
        return convert_onnx(path)
    from explorer.engine import load_model
    return load_model(path)
