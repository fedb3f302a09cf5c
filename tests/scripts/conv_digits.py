"""The conv digits design the image-network tests train (the issue's small conv net on
the 8x8 digits read as (1, 8, 8) images): conv 8@3x3 same, ReLU, max-pool 2, conv 16@3x3
same, ReLU, global average pool, Dense 10, softmax; cross-entropy, Adam 0.01, batch 32.
The shipped example is the lesson's; this one is the tests' own."""

from __future__ import annotations

from core.design.spec import DESIGN_FORMAT, DESIGN_VERSION, Design


def conv_digits_design(epochs: int = 1, seed: int = 0, dtype: str = "float32",
                       val_fraction: float = 0.2) -> Design:
    """The design, training ``epochs`` epochs from ``seed``."""
    return Design.from_dict({
        "format": DESIGN_FORMAT, "version": DESIGN_VERSION,
        "name": "conv digits (tests)",
        "network": {
            "inputs": 64,
            "input_shape": [1, 8, 8],
            "layers": [
                {"kind": "conv2d", "filters": 8, "kernel": 3, "padding": "same"},
                {"kind": "activation", "function": "relu"},
                {"kind": "maxpool2d", "size": 2},
                {"kind": "conv2d", "filters": 16, "kernel": 3, "padding": "same"},
                {"kind": "activation", "function": "relu"},
                {"kind": "global_avgpool"},
                {"kind": "dense", "units": 10},
                {"kind": "activation", "function": "softmax"},
            ],
        },
        "training": {"loss": "softmax_cross_entropy", "optimizer": "adam",
                     "learning_rate": 0.01, "batch_size": 32, "epochs": epochs,
                     "seed": seed, "dtype": dtype},
        "dataset": {"kind": "builtin", "name": "digits", "seed": 0,
                    "val_fraction": val_fraction},
    })
