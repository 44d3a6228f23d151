"""Moved to ``explorer.imageio`` (the one image reader: the app uses it too)."""

from explorer.imageio import BIG_PIXELS, MAX_SIDE, ImageError, qimage_to_rgba, read_image, write_gray_png

__all__ = ["BIG_PIXELS", "MAX_SIDE", "ImageError", "qimage_to_rgba", "read_image", "write_gray_png"]
