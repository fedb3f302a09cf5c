"""The open document in the window: its undo history, opening and saving files, autosave
and the crash-recovery prompt."""
