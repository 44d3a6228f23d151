"""Training: one loop (``loop.fit``) shared by the command line and the GUI's worker thread."""
