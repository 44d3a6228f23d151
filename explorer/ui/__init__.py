"""The window: PySide6 + pyqtgraph. Widgets hold no maths; they ask session objects.

Importing this package sets pyqtgraph's global options for the fast image path
(row-major images, no antialiasing, no OpenGL). docs/ARCHITECTURE.md maps the UI's floors.
"""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
