"""Widgets shared by the labs: colour scales, tiled heat maps, probability bars, scheduling."""
