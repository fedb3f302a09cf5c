"""Training: ``build`` (design to network), the training step, the trainer (the one run
loop) and its control, progress batches, diagnostics, targets and scores, run state,
compare mode, gradient checks, and the child process the window trains in."""
