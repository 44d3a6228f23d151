"""ModelEdits: the user's edits of a model (channel scales, kernels), applied to a working copy.

The working model is ``edits.edited_copy`` of the unedited one. Resetting hands back the
unedited model object itself, so every output is bit for bit what it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.analysis.edits import Channel, Kernel, edited_copy
from explorer.engine import Model


@dataclass
class ModelEdits:
    """unedited: the model as loaded; scales (L, C) -> 0..2; kernels (L, C_out, C_in) -> (k, k)."""

    unedited: Model
    scales: dict[Channel, float] = field(default_factory=dict)
    kernels: dict[Kernel, np.ndarray] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.scales or self.kernels)

    def working_model(self) -> Model:
        """The unedited model itself when nothing is edited, else an edited copy."""
        return edited_copy(self.unedited, self.scales, self.kernels) if self.active else self.unedited

    def set_scale(self, layer: int, channel: int, scale: float) -> None:
        if float(scale) == 1.0:
            self.scales.pop((layer, channel), None)
        else:
            edited_copy(self.unedited, {(layer, channel): float(scale)})     # validates (ExperimentError)
            self.scales[(layer, channel)] = float(scale)

    def set_kernel(self, layer: int, c_out: int, c_in: int, kernel: np.ndarray) -> None:
        k = np.array(kernel, dtype=self.unedited.dtype)
        original = self.unedited.layers[layer].params["weight"][c_out, c_in]
        if k.shape == original.shape and np.array_equal(k, original):
            self.kernels.pop((layer, c_out, c_in), None)
        else:
            edited_copy(self.unedited, kernels={(layer, c_out, c_in): k})
            self.kernels[(layer, c_out, c_in)] = k

    def kernel(self, layer: int, c_out: int, c_in: int) -> np.ndarray:
        """The kernel as edited (or as learned)."""
        key = (layer, c_out, c_in)
        return self.kernels[key].copy() if key in self.kernels else \
            np.array(self.unedited.layers[layer].params["weight"][c_out, c_in])

    def edited_channels(self, layer: int) -> dict[int, str]:
        """Channel -> short mark ("off", "×1.5", "kernel") for one layer."""
        out: dict[int, str] = {}
        for (lay, c_out, _), _k in self.kernels.items():
            if lay == layer:
                out[c_out] = "kernel"
        for (lay, ch), s in self.scales.items():
            if lay == layer:
                out[ch] = "off" if s == 0 else f"×{s:g}"
        return out

    def describe(self) -> str:
        parts = [f"{lay}:{ch} {'off' if s == 0 else f'×{s:g}'}" for (lay, ch), s in sorted(self.scales.items())]
        parts += [f"kernel {lay}:{co}/{ci}" for (lay, co, ci) in sorted(self.kernels)]
        return ", ".join(parts) if parts else "no edits"
