"""The headless command line (``main.py train|check|gradcheck|datasets``); never imports
Qt."""
