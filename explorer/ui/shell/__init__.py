"""The shell: the only part of the UI that knows several labs exist.

The main window and what it owns — menus, exports, keyboard, timings, autosave, restore,
session files (lessons) and recovered work, model routing, the fine-tuning link between the
Digit and Train labs, launch and clean exit — plus the benchmarks and screenshots measured
through the whole window. See docs/ARCHITECTURE.md.
"""
