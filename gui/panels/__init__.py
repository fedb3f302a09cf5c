"""Dock panels: the network check, the runs table with overlaid runs, lessons, and the
backprop step-through."""
