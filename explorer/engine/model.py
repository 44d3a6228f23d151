"""``Model``: a sequence of layers, named like ``torch.nn.Sequential`` ("0.weight", ...).

``forward`` keeps the caches for ``backward``; ``predict`` runs the cache-free inference
path (dropout off); ``trace`` returns every layer's output plus the extras the panels
draw (max-pool winners, LSTM/GRU gate activations). ``arch()`` is the JSON of the model
file (DESIGN.md); ``LAYER_TYPES`` maps its ``"type"`` names to layer classes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from . import activations, attention, conv, dense, norm, pool, recurrent
from .layer import Array, Layer
from .losses import softmax

FORMAT = "cnn-rnn-explorer/model"
VERSION = 1


def check_header(arch: Any) -> None:
    """The arch JSON is an object of our format and version; ValueError says what is wrong."""
    if not isinstance(arch, dict):
        raise ValueError("the architecture is not a JSON object")
    if arch.get("format") != FORMAT:
        raise ValueError(f"format is {arch.get('format')!r}, expected {FORMAT!r}")
    if arch.get("version") != VERSION:
        raise ValueError(f"version {arch.get('version')!r} is not supported (expected {VERSION})")


def _collect(*modules: Any) -> dict[str, type[Layer]]:
    found: dict[str, type[Layer]] = {}
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer \
                    and not obj.__name__.startswith("_") and "type_name" in vars(obj):
                found[obj.type_name] = obj
    return found


#: type name in the model file -> layer class (every layer module, recurrent ones included)
LAYER_TYPES: dict[str, type[Layer]] = _collect(conv, pool, dense, activations, recurrent, norm, attention)


@dataclass(frozen=True)
class Trace:
    """What the panels draw for one input batch.

    input: the (cast) input; outputs: one array per layer (batch axis kept, C-contiguous);
    names: "0 · Conv2d" ...; probs: softmax over the last axis of the final output (None
    if it is not float); extras: layer index -> {"winner": ...} for max-pools,
    {"i","f","g","o","c"} / {"r","z","n"} gate activations (N, T, H) for LSTM / GRU,
    {"attn"}: attention weights (N, nhead, T_query, T_key) for a TransformerEncoderLayer.
    """

    input: Array
    outputs: list[Array]
    names: list[str]
    probs: Array | None
    extras: dict[int, dict[str, Array]] = field(default_factory=dict)


def _infer(layer: Layer, x: Array) -> Array:
    return layer.infer(x)


class Model:
    """layers: list[Layer]; meta: free-form JSON-serialisable dict stored in the model file."""

    def __init__(self, layers: list[Layer], meta: dict[str, Any] | None = None) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is {type(layer).__name__}, not an engine Layer")
        self.layers = list(layers)
        self.meta: dict[str, Any] = dict(meta or {})
        self._caches: list[Any] | None = None

    # -- computing ---------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.dtype(np.float32)

    def _prepare(self, x: Any) -> Array:
        x = np.asarray(x)
        takes_ids = bool(self.layers) and isinstance(self.layers[0], dense.Embedding)
        if not takes_ids and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return cast("Array", x)

    def forward(self, x: Array) -> Array:
        """x: the first layer's input (batch first) -> last layer's output; caches kept."""
        x = self._prepare(x)
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x)
            caches.append(cache)
        self._caches = caches
        return x

    def backward(self, dy: Array, input_grad: bool = True) -> Array | None:
        """dy: d loss / d output -> d loss / d input; parameter grads accumulate (+=).

        ``input_grad=False`` (training): the gradient w.r.t. the input is not needed, so a
        first layer that can (``backward_params``) computes its parameter gradients only,
        and None is returned — as PyTorch skips it for an input without requires_grad."""
        if self._caches is None:
            raise RuntimeError("Model.backward needs a Model.forward first")
        last = len(self.layers) - 1
        for k, (layer, cache) in enumerate(zip(reversed(self.layers), reversed(self._caches))):
            if k == last and not input_grad and hasattr(layer, "backward_params"):
                layer.backward_params(dy, cache)
                return None
            dy = layer.backward(dy, cache)
        return dy

    def predict(self, x: Array) -> Array:
        """x -> output, inference path: no caches, dropout off."""
        x = self._prepare(x)
        for layer in self.layers:
            x = _infer(layer, x)
        return x

    def trace(self, x: Array) -> Trace:
        """x -> Trace with every layer's output and the extras (inference mode)."""
        x = self._prepare(x)
        inp, outputs, extras = x, [], {}
        for i, layer in enumerate(self.layers):
            if isinstance(layer, recurrent.RecurrentLayer):
                x, _, gates = layer.run(x)
                extras[i] = dict(gates)
            elif hasattr(layer, "extras"):
                x, cache = layer.forward(x)
                extras[i] = layer.extras(cache)
            else:
                x = _infer(layer, x)
            outputs.append(np.ascontiguousarray(x))
        last = outputs[-1] if outputs else inp
        probs = softmax(last) if last.dtype.kind == "f" and last.ndim else None
        names = [f"{i} · {layer.type_name}" for i, layer in enumerate(self.layers)]
        return Trace(inp, outputs, names, probs, extras)

    # -- parameters --------------------------------------------------------------
    def parameters(self) -> dict[str, Array]:
        """"i.name" -> the live parameter array (optimisers update these in place)."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def gradients(self) -> dict[str, Array]:
        return {f"{i}.{k}": layer.grads[k] for i, layer in enumerate(self.layers)
                for k in layer.params}

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def n_params(self) -> int:
        return sum(layer.n_params() for layer in self.layers)

    def state_dict(self) -> dict[str, Array]:
        return {k: v.copy() for k, v in self.parameters().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy values in place (same arrays, so optimisers stay attached); exact keys/shapes."""
        params = self.parameters()
        missing, extra = sorted(set(params) - set(state)), sorted(set(state) - set(params))
        if missing or extra:
            raise KeyError(f"state dict mismatch: missing {missing}, unexpected {extra}")
        for k, p in params.items():
            v = np.asarray(state[k])
            if v.shape != p.shape:
                raise ValueError(f"parameter {k!r} should have shape {p.shape}, got {v.shape}")
            p[...] = v

    def astype(self, dtype: Any) -> Model:
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def train(self, mode: bool = True) -> Model:
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> Model:
        return self.train(False)

    @property
    def training(self) -> bool:
        return all(layer.training for layer in self.layers)

    # -- description -------------------------------------------------------------
    def arch(self) -> dict[str, Any]:
        layers = [{"type": layer.type_name, **layer.config()} for layer in self.layers]
        return {"format": FORMAT, "version": VERSION, "layers": layers, "meta": dict(self.meta)}

    @classmethod
    def from_arch(cls, arch: dict[str, Any], rng: np.random.Generator | None = None) -> Model:
        """Build from the arch JSON (random weights); ValueError says what is wrong."""
        check_header(arch)
        specs, meta = arch.get("layers"), arch.get("meta", {})
        if not isinstance(specs, list) or not specs:
            raise ValueError("'layers' must be a non-empty list")
        if not isinstance(meta, dict):
            raise ValueError("'meta' must be a JSON object")
        return cls([_build_layer(i, spec, rng) for i, spec in enumerate(specs)], meta)

    def layer_table(self, input_shape: tuple[int, ...]) -> list[dict[str, Any]]:
        """input_shape: batch axis included, e.g. (1, 1, 28, 28) -> one row per layer:
        {index, type, output_shape, n_params, layer (repr)}."""
        takes_ids = bool(self.layers) and isinstance(self.layers[0], dense.Embedding)
        x = np.zeros(tuple(input_shape), dtype=np.int64 if takes_ids else self.dtype)
        rows = []
        for i, layer in enumerate(self.layers):
            x = _infer(layer, x)
            rows.append({"index": i, "type": layer.type_name, "output_shape": tuple(x.shape),
                         "n_params": layer.n_params(), "layer": repr(layer)})
        return rows

    def summary(self, input_shape: tuple[int, ...]) -> str:
        """Printable table: index, layer, output shape, parameter count, total."""
        rows = self.layer_table(input_shape)
        lines = [f"{'#':>3}  {'layer':<52} {'output shape':<20} {'params':>9}"]
        for r in rows:
            lines.append(f"{r['index']:>3}  {r['layer']:<52} {str(r['output_shape']):<20} "
                         f"{r['n_params']:>9,}")
        lines.append(f"input {tuple(input_shape)}, total parameters: {self.n_params():,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Model(\n{inner}\n)"


def _build_layer(i: int, spec: Any, rng: np.random.Generator | None) -> Layer:
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"layer {i} is not an object with a 'type'")
    cfg = dict(spec)
    kind = cfg.pop("type")
    if kind not in LAYER_TYPES:
        raise ValueError(f"layer {i} has unknown type {kind!r} "
                         f"(known: {', '.join(sorted(LAYER_TYPES))})")
    layer_cls = LAYER_TYPES[kind]
    accepted = inspect.signature(layer_cls.__init__).parameters
    unknown = [k for k in cfg if k not in accepted or k in ("self", "rng")]
    if unknown:
        raise ValueError(f"layer {i} ({kind}) has unknown setting(s) {unknown}")
    if "rng" in accepted:
        cfg["rng"] = rng
    try:
        return layer_cls.from_config(**cfg)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"layer {i} ({kind}): {exc}") from None
