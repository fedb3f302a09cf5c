"""Training in the window: the controller, the reader of the training process's progress,
the actions and status, live plots and their buffers, the model's prediction views, and
compare mode (A/B)."""
