"""Hyperparameter sweeps: a search space over design settings and the study that searches it."""
