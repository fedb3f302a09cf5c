"""Backprop Studio's window (PySide6 + pyqtgraph). May import ``core``; never the reverse."""
