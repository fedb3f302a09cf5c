"""The open document in the window: its undo history, the dataset its design chooses
(loaded and kept), opening and saving files, autosave and the crash-recovery prompt."""
