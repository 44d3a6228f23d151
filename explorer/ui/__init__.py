"""The window: PySide6 + pyqtgraph. Widgets hold no maths; they ask session objects.

Importing this package sets pyqtgraph's global options for the fast image path
(row-major images, no antialiasing, no OpenGL; STYLE.md R10).
"""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
