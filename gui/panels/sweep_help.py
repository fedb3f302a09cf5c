"""The Sweep dialog's words: what each objective, sampler and pruner is called and does,
and the help on workers and storage (tooltips). Keys are ``core.sweeps.space``'s."""

from __future__ import annotations

__all__ = ["OBJECTIVE_TEXT", "PRUNER_TEXT", "SAMPLER_TEXT", "STORAGE_HELP", "WORKERS_HELP"]

OBJECTIVE_TEXT = {
    "val_loss": ("Validation loss (lower is better)",
                 "The loss on the validation set after a trial's last epoch (the training "
                 "set's when the dataset has no validation split)."),
    "val_accuracy": ("Validation accuracy (higher is better)",
                     "The share of validation samples classified right after a trial's "
                     "last epoch."),
    "r2": ("Validation R² (higher is better)",
           "How much of the validation targets' variance the predictions explain after a "
           "trial's last epoch (1 is perfect)."),
}
SAMPLER_TEXT = {
    "tpe": ("TPE (learns from the trials)",
            "Tree-structured Parzen estimator: after a few random trials it draws settings "
            "where the good trials so far were. The usual choice."),
    "random": ("Random",
               "Every trial's settings drawn at random, independently: a fair baseline, and "
               "good with many parameters."),
    "grid": ("Grid (every combination)",
             "Tries every combination of the ticked choices and whole-number ranges once. "
             "Needs as many trials as combinations and cannot take a range of decimals."),
}
PRUNER_TEXT = {
    "none": ("None", "Every trial trains to its last epoch."),
    "median": ("Median",
               "Stops a trial early when its objective at an epoch is worse than the median "
               "of the earlier trials at that epoch, so hopeless settings cost little time."),
    "halving": ("Successive halving",
                "At growing epoch marks only the best share of the trials so far goes on; "
                "the rest are stopped. Aggressive: for many short trials."),
}
WORKERS_HELP = ("How many trials train at the same time, each in its own training process "
                "on its own core. The default leaves one core for the window.")
STORAGE_HELP = ("Where the study is kept. A file (SQLite) beside the project, which survives "
                "the app: Resume continues the sweep. Or a database URL such as "
                "postgresql://user@host/db, which workers on other machines share "
                "(backprop-studio sweep-worker --storage URL --study NAME).")
