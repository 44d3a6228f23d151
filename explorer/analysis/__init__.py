"""Numbers derived from a model and an input: PCA bases, unit signals, gradient influence.

May import ``explorer.engine`` and ``explorer.data``; never Qt.
"""
