"""The network diagram: its pure geometry (layout) and its drawing (view)."""
