"""Where examples come from: MNIST sources, MNIST-style preprocessing, augmentation.

Kept light on purpose: import the sub-modules you need
(``explorer.data.mnist``, ``explorer.data.preprocess``, ``explorer.data.augment``).
"""
